//! Coordinates: latitude, longitude and altitude, each a finite number in
//! its range. In: a raw `f64`. Out: the value, or a [`DomainError`]
//! naming it.

use serde::{Deserialize, Serialize};

use super::DomainError;

macro_rules! bounded_f64 {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $err:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(try_from = "f64", into = "f64")]
        pub struct $name(f64);

        impl $name {
            pub const MIN: f64 = $min;
            pub const MAX: f64 = $max;

            /// Parses a raw value; NaN, infinities and values out of range fail.
            pub fn parse(value: f64) -> Result<Self, DomainError> {
                if value.is_finite() && ($min..=$max).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err(DomainError::$err(value))
                }
            }

            pub fn get(self) -> f64 {
                self.0
            }
        }

        impl TryFrom<f64> for $name {
            type Error = DomainError;
            fn try_from(value: f64) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for f64 {
            fn from(value: $name) -> f64 {
                value.0
            }
        }
    };
}

bounded_f64!(
    /// Degrees north, in [-90, 90].
    Latitude, -90.0, 90.0, Latitude
);
bounded_f64!(
    /// Degrees east, in [-180, 180].
    Longitude, -180.0, 180.0, Longitude
);
bounded_f64!(
    /// Metres above mean sea level, from the deepest trench to geostationary orbit.
    Altitude, -11_000.0, 36_000_000.0, Altitude
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_parse_only_in_range() {
        assert!(Latitude::parse(90.0).is_ok());
        assert!(Latitude::parse(-90.0).is_ok());
        assert!(Latitude::parse(90.000001).is_err());
        assert!(Latitude::parse(f64::NAN).is_err());
        assert!(Longitude::parse(180.0).is_ok());
        assert!(Longitude::parse(-180.1).is_err());
        assert!(Longitude::parse(f64::INFINITY).is_err());
        assert!(Altitude::parse(f64::NEG_INFINITY).is_err());
    }

    #[test]
    fn invalid_coordinates_fail_to_deserialize() {
        assert!(serde_json::from_str::<Latitude>("91.0").is_err());
    }
}
