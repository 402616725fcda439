//! Certificate validity periods: the one place that reads the clock for them.

use jiff::{SignedDuration, Timestamp};
use rcgen::CertificateParams;
use time::OffsetDateTime;

/// Certificates start an hour in the past so a machine whose clock is a
/// little behind the operator's accepts them at once.
const BACKDATE: SignedDuration = SignedDuration::from_hours(1);

/// Sets `not_before`/`not_after` on `params` for a certificate valid from
/// now (backdated an hour) for `days` days.
pub(crate) fn set_validity(params: &mut CertificateParams, days: i64) {
    let now = Timestamp::now();
    params.not_before = to_offset_date_time(now - BACKDATE);
    params.not_after = to_offset_date_time(now + SignedDuration::from_hours(24 * days));
}

fn to_offset_date_time(at: Timestamp) -> OffsetDateTime {
    // Any timestamp jiff can hold for the next few thousand years fits; fall
    // back to the epoch rather than panic.
    OffsetDateTime::from_unix_timestamp(at.as_second()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Converts an X.509 time (seconds since the epoch) to a timestamp.
pub(crate) fn from_unix_seconds(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}
