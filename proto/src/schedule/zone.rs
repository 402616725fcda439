//! Time zones, always from the tz database bundled into this crate.
//!
//! The agent on a unit and the hub in the cloud must compute the same arming
//! instants, so both use the IANA database compiled into `picket-proto`
//! (through jiff's `tzdb-bundle-always`), never the host's
//! `/usr/share/zoneinfo`, whose version differs between a unit image and a
//! server. Updating the rules is a dependency update of jiff, shipped to both
//! sides together.

use std::sync::OnceLock;

use jiff::tz::{TimeZone, TimeZoneDatabase};

fn bundled() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// Looks up an IANA zone name (`Europe/Copenhagen`) in the bundled database.
pub fn lookup(name: &str) -> Option<TimeZone> {
    if name.is_empty() || name.len() > 64 {
        return None;
    }
    bundled().get(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_region_names_and_refuses_others() {
        assert!(lookup("Europe/Copenhagen").is_some());
        assert!(lookup("America/New_York").is_some());
        assert!(lookup("Mars/Olympus_Mons").is_none());
        assert!(lookup("UTC").is_some());
        assert!(lookup("EST5EDT,M3.2.0,M11.1.0").is_none());
        assert!(lookup("").is_none());
    }
}
