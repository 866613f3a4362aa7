//! Ids: a prefix and a number zero-padded to a width, with one canonical
//! form each (`MISSION-0001`, `wp-001`). In: text. Out: [`MissionId`],
//! [`WaypointId`]; anything else is a [`DomainError`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{DomainError, Short};

/// An id type: its prefix, its width and its error. The text form, its
/// parsing and their serde are written once for every id type below.
macro_rules! padded_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $width:literal, $err:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            const PREFIX: &'static str = $prefix;

            /// Parses the canonical form only: another case, fewer digits
            /// or extra leading zeros are not ids.
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                let err = || DomainError::$err(s.to_owned());
                let digits = s.strip_prefix(Self::PREFIX).ok_or_else(err)?;
                let n = parse_padded(digits, $width).ok_or_else(err)?;
                (n > 0).then_some(Self(n)).ok_or_else(err)
            }

            fn text(self) -> Short {
                let mut t = Short::default();
                t.push_str(Self::PREFIX);
                t.push_padded(self.0, $width);
                t
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.text().as_str())
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.text().as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

padded_id!(
    /// A mission's id: `MISSION-` and its number, zero-padded to 4 digits
    /// (`MISSION-0001`), wider past 9999 (`MISSION-10000`).
    MissionId, "MISSION-", 4, MissionId
);

padded_id!(
    /// A waypoint's id within its mission: `wp-` and its 1-based position,
    /// zero-padded to 3 digits (`wp-001`).
    WaypointId, "wp-", 3, WaypointId
);

impl MissionId {
    /// The canonical form as an OpenAPI `pattern` (what [`Self::parse`]
    /// accepts: up to nine digits).
    pub const PATTERN: &'static str =
        "^MISSION-(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3,8})$";

    /// The id of mission number `n` (1-based). Number 0 is not a mission.
    pub fn new(n: u32) -> Option<Self> {
        (n > 0).then_some(Self(n))
    }

    pub fn number(self) -> u32 {
        self.0
    }
}

impl WaypointId {
    /// The canonical form as an OpenAPI `pattern` (what [`Self::parse`]
    /// accepts: up to nine digits).
    pub const PATTERN: &'static str = "^wp-(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2,8})$";

    /// The id of the waypoint at 1-based position `seq`.
    pub fn new(seq: u32) -> Option<Self> {
        (seq > 0).then_some(Self(seq))
    }

    /// The 1-based position of the waypoint in its mission's route.
    pub fn seq(self) -> u32 {
        self.0
    }
}

/// Most digits an id's number has: ids stop at 999,999,999, so that every
/// id a pattern of fixed digits can describe is one the parser accepts.
const MAX_DIGITS: usize = 9;

/// Parses a decimal number written with at least `width` digits (at most
/// [`MAX_DIGITS`]) and no superfluous leading zeros beyond that width (so
/// each number has one form).
fn parse_padded(digits: &str, width: usize) -> Option<u32> {
    if digits.len() < width
        || digits.len() > MAX_DIGITS
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    let mut canonical = Short::default();
    canonical.push_padded(n, width);
    (canonical.as_str() == digits).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mission_ids_have_one_canonical_form() {
        assert_eq!(MissionId::parse("MISSION-0001").unwrap().number(), 1);
        assert_eq!(
            MissionId::parse("MISSION-1000").unwrap().to_string(),
            "MISSION-1000"
        );
        assert_eq!(MissionId::new(12345).unwrap().to_string(), "MISSION-12345");
        assert_eq!(MissionId::parse("MISSION-12345").unwrap().number(), 12345);
        for bad in [
            "MISSION-1",
            "MISSION-0000",
            "MISSION-00001",
            "mission-0001",
            "MISSION-00a1",
            "MISSION--001",
            "",
            "MISSION-99999999999",
        ] {
            assert!(MissionId::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn waypoint_ids_round_trip() {
        assert_eq!(WaypointId::parse("wp-001").unwrap().seq(), 1);
        assert_eq!(WaypointId::new(250).unwrap().to_string(), "wp-250");
        assert_eq!(WaypointId::new(1250).unwrap().to_string(), "wp-1250");
        for bad in ["wp-1", "wp-000", "WP-001", "wp-0001", "wp-+01"] {
            assert!(WaypointId::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn ids_write_as_fmt_would() {
        for n in [1, 9, 10, 999, 1000, 9999, 10000, 123456, u32::MAX] {
            let m = MissionId::new(n).unwrap();
            assert_eq!(m.to_string(), format!("MISSION-{n:04}"));
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"MISSION-{n:04}\"")
            );
            let w = WaypointId::new(n).unwrap();
            assert_eq!(w.to_string(), format!("wp-{n:03}"));
        }
        assert!(serde_json::from_str::<MissionId>("\"MISSION-1\"").is_err());
    }

    #[test]
    fn the_patterns_accept_exactly_what_parses() {
        let mission = regex::Regex::new(MissionId::PATTERN).unwrap();
        let waypoint = regex::Regex::new(WaypointId::PATTERN).unwrap();
        let mut texts: Vec<String> = [
            "",
            "0",
            "00",
            "000",
            "0000",
            "00000",
            "01",
            "001",
            "0001",
            "010",
            "0010",
            "100",
            "0100",
            "1000",
            "01000",
            "99999",
            "999999999",
            "1000000000",
            "0999999999",
            "4294967295",
            "4294967296",
            "+001",
            "-001",
            " 001",
            "1e3",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        texts.extend((0..=1100).map(|n| format!("{n:03}")));
        texts.extend((0..=1100).map(|n| format!("{n:04}")));
        for digits in &texts {
            let m = format!("MISSION-{digits}");
            assert_eq!(mission.is_match(&m), MissionId::parse(&m).is_ok(), "{m}");
            let w = format!("wp-{digits}");
            assert_eq!(waypoint.is_match(&w), WaypointId::parse(&w).is_ok(), "{w}");
        }
    }
}
