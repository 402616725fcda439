//! Where a unit stands: WGS 84 latitude and longitude in degrees, as a
//! phone's location gives them, checked on the way in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A checked position (latitude −90…90, longitude −180…180, both finite;
/// so it is never NaN and equality is total).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPosition")]
pub struct Position {
    latitude: f64,
    longitude: f64,
}

impl Eq for Position {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPosition {
    latitude: f64,
    longitude: f64,
}

/// Why a position was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("position: {0}")]
pub struct PositionError(String);

impl Position {
    /// Checks and builds a position.
    pub fn new(latitude: f64, longitude: f64) -> Result<Position, PositionError> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err(PositionError(format!(
                "latitude {latitude} is outside -90..90 degrees"
            )));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err(PositionError(format!(
                "longitude {longitude} is outside -180..180 degrees"
            )));
        }
        Ok(Position {
            latitude,
            longitude,
        })
    }
}

impl Position {
    /// Degrees north (negative: south).
    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    /// Degrees east (negative: west).
    pub fn longitude(&self) -> f64 {
        self.longitude
    }
}

impl TryFrom<RawPosition> for Position {
    type Error = PositionError;

    fn try_from(raw: RawPosition) -> Result<Position, PositionError> {
        Position::new(raw.latitude, raw.longitude)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}, {:.6}", self.latitude, self.longitude)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_in_range_are_kept_exactly() {
        let p = Position::new(55.676_098, 12.568_337).unwrap();
        assert_eq!((p.latitude(), p.longitude()), (55.676_098, 12.568_337));
        assert_eq!(p.to_string(), "55.676098, 12.568337");
        for (lat, lon) in [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0)] {
            assert!(Position::new(lat, lon).is_ok(), "{lat} {lon}");
        }
    }

    #[test]
    fn out_of_range_or_not_a_number_is_refused_naming_the_coordinate() {
        for (lat, lon, says) in [
            (90.1, 0.0, "latitude"),
            (-91.0, 0.0, "latitude"),
            (f64::NAN, 0.0, "latitude"),
            (0.0, 180.5, "longitude"),
            (0.0, f64::INFINITY, "longitude"),
        ] {
            let err = Position::new(lat, lon).unwrap_err();
            assert!(err.to_string().contains(says), "{lat} {lon}: {err}");
        }
    }

    #[test]
    fn json_is_checked_and_strict() {
        let p: Position = serde_json::from_str(r#"{"latitude": 55.5, "longitude": 12.1}"#).unwrap();
        assert_eq!(p, Position::new(55.5, 12.1).unwrap());
        let err = serde_json::from_str::<Position>(r#"{"latitude": 95, "longitude": 12}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("latitude 95"), "{err}");
        assert!(serde_json::from_str::<Position>(r#"{"lat": 5, "longitude": 1}"#).is_err());
    }
}
