//! The mission-planning domain: the one definition of a mission, its
//! waypoints and the values they are built from.
//!
//! Every value type here *parses*: a [`Latitude`] outside [-90, 90] or a
//! malformed [`MissionId`] cannot be built, so the generator, the API and any
//! client that shares these types cannot hold an invalid one.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a domain value could not be built from its raw form.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    #[error("latitude must be a finite number in [-90, 90], got {0}")]
    Latitude(f64),
    #[error("longitude must be a finite number in [-180, 180], got {0}")]
    Longitude(f64),
    #[error("alt_m must be a finite number in [{min}, {max}] metres, got {0}", min = Altitude::MIN, max = Altitude::MAX)]
    Altitude(f64),
    #[error("priority must be an integer from 1 to 5, got {0}")]
    Priority(i64),
    #[error("unknown status {0:?}; expected one of draft, planned, active, completed, aborted")]
    Status(String),
    #[error("unknown region {0:?}; expected one of CENTCOM, EUCOM, INDOPACOM, AFRICOM, SOUTHCOM, NORTHCOM, SPACECOM")]
    Region(String),
    #[error("malformed mission id {0:?}; expected MISSION- followed by a number of at least 4 digits, e.g. MISSION-0001")]
    MissionId(String),
    #[error("malformed waypoint id {0:?}; expected wp- followed by a number of at least 3 digits, e.g. wp-001")]
    WaypointId(String),
    #[error("{field} must be 1 to {max} characters, got {len}")]
    Text {
        field: &'static str,
        max: usize,
        len: usize,
    },
    #[error("malformed timestamp {0:?}; expected RFC 3339, e.g. 2026-01-01T00:00:00.000Z")]
    Timestamp(String),
}

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

/// Mission priority, 1 (routine) to 5 (flash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Priority(u8);

impl Priority {
    pub fn parse(value: i64) -> Result<Self, DomainError> {
        if (1..=5).contains(&value) {
            Ok(Self(value as u8))
        } else {
            Err(DomainError::Priority(value))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Priority {
    type Error = DomainError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Priority> for i64 {
    fn from(value: Priority) -> i64 {
        value.0.into()
    }
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $err:ident, { $($variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(DomainError::$err(other.to_owned())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// Where a mission is in its life.
    Status, Status, {
        Draft => "draft",
        Planned => "planned",
        Active => "active",
        Completed => "completed",
        Aborted => "aborted",
    }
);

string_enum!(
    /// The combatant command a mission belongs to.
    Region, Region, {
        Centcom => "CENTCOM",
        Eucom => "EUCOM",
        Indopacom => "INDOPACOM",
        Africom => "AFRICOM",
        Southcom => "SOUTHCOM",
        Northcom => "NORTHCOM",
        Spacecom => "SPACECOM",
    }
);

/// A mission's id: `MISSION-` and its number, zero-padded to 4 digits
/// (`MISSION-0001`), wider past 9999 (`MISSION-10000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MissionId(u32);

impl MissionId {
    const PREFIX: &'static str = "MISSION-";

    /// The id of mission number `n` (1-based). Number 0 is not a mission.
    pub fn new(n: u32) -> Option<Self> {
        (n > 0).then_some(Self(n))
    }

    pub fn number(self) -> u32 {
        self.0
    }

    /// Parses the canonical form only: `MISSION-1` or `mission-0001` are not ids.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let err = || DomainError::MissionId(s.to_owned());
        let digits = s.strip_prefix(Self::PREFIX).ok_or_else(err)?;
        let n = parse_padded(digits, 4).ok_or_else(err)?;
        Self::new(n).ok_or_else(err)
    }

    fn text(self) -> Short {
        let mut t = Short::default();
        t.push_str(Self::PREFIX);
        t.push_padded(self.0, 4);
        t
    }
}

/// Parses a decimal number written with at least `width` digits and no
/// superfluous leading zeros beyond that width (so each number has one form).
fn parse_padded(digits: &str, width: usize) -> Option<u32> {
    if digits.len() < width || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    let mut canonical = Short::default();
    canonical.push_padded(n, width);
    (canonical.as_str() == digits).then_some(n)
}

impl fmt::Display for MissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl FromStr for MissionId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for MissionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text().as_str())
    }
}

impl<'de> Deserialize<'de> for MissionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A waypoint's id within its mission: `wp-` and its 1-based position,
/// zero-padded to 3 digits (`wp-001`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WaypointId(u32);

impl WaypointId {
    const PREFIX: &'static str = "wp-";

    /// The id of the waypoint at 1-based position `seq`.
    pub fn new(seq: u32) -> Option<Self> {
        (seq > 0).then_some(Self(seq))
    }

    /// The 1-based position of the waypoint in its mission's route.
    pub fn seq(self) -> u32 {
        self.0
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let err = || DomainError::WaypointId(s.to_owned());
        let digits = s.strip_prefix(Self::PREFIX).ok_or_else(err)?;
        let n = parse_padded(digits, 3).ok_or_else(err)?;
        Self::new(n).ok_or_else(err)
    }

    fn text(self) -> Short {
        let mut t = Short::default();
        t.push_str(Self::PREFIX);
        t.push_padded(self.0, 3);
        t
    }
}

impl fmt::Display for WaypointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl FromStr for WaypointId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for WaypointId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text().as_str())
    }
}

impl<'de> Deserialize<'de> for WaypointId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A point in time, always written as RFC 3339 UTC with milliseconds
/// (`2026-01-01T00:00:00.000Z`) so that output is byte-stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_millis(Utc::now().timestamp_millis())
    }

    /// Milliseconds since the Unix epoch; out-of-range values saturate to the epoch.
    pub fn from_millis(ms: i64) -> Self {
        Self(DateTime::from_timestamp_millis(ms).unwrap_or_default())
    }

    pub fn millis(self) -> i64 {
        self.0.timestamp_millis()
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| Self::from_millis(t.timestamp_millis()))
            .map_err(|_| DomainError::Timestamp(s.to_owned()))
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, for years 0 to 9999 (`None` outside).
    fn text(self) -> Option<Short> {
        let t = &self.0;
        let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
        let mut s = Short::default();
        s.push_padded(year, 4);
        for (sep, v) in [
            ("-", t.month()),
            ("-", t.day()),
            ("T", t.hour()),
            (":", t.minute()),
            (":", t.second()),
        ] {
            s.push_str(sep);
            s.push_padded(v, 2);
        }
        s.push_str(".");
        s.push_padded(t.timestamp_subsec_millis().min(999), 3);
        s.push_str("Z");
        Some(s)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.text() {
            Some(s) => f.write_str(s.as_str()),
            None => f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true)),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.text() {
            Some(s) => serializer.serialize_str(s.as_str()),
            None => serializer.collect_str(self),
        }
    }
}

/// Up to 32 bytes of ASCII text on the stack: ids and timestamps are written
/// for every response, and going through `fmt` (padding, allocation for
/// timestamps) showed in the server's profile.
#[derive(Default)]
struct Short {
    buf: [u8; 32],
    len: usize,
}

impl Short {
    fn push_str(&mut self, s: &str) {
        let end = (self.len + s.len()).min(self.buf.len());
        self.buf[self.len..end].copy_from_slice(&s.as_bytes()[..end - self.len]);
        self.len = end;
    }

    /// `n` in decimal, zero-padded to at least `width` digits.
    fn push_padded(&mut self, n: u32, width: usize) {
        let mut digits = [b'0'; 10];
        let mut i = digits.len();
        let mut v = n;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let start = i.min(digits.len().saturating_sub(width));
        for &d in &digits[start..] {
            if self.len < self.buf.len() {
                self.buf[self.len] = d;
                self.len += 1;
            }
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Checks a free-text field: 1 to `max` characters after trimming.
pub fn parse_text(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len == 0 || len > max {
        return Err(DomainError::Text { field, max, len });
    }
    Ok(trimmed.to_owned())
}

/// One point of a mission's route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Waypoint {
    /// `wp-001`, `wp-002`, ... in route order.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "wp-001"))]
    pub id: WaypointId,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = f64, minimum = -90, maximum = 90))]
    pub lat: Latitude,
    #[cfg_attr(feature = "openapi", schema(value_type = f64, minimum = -180, maximum = 180))]
    pub lon: Longitude,
    /// Altitude in metres; absent for surface waypoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub alt_m: Option<Altitude>,
}

/// A mission without its route: what a search returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MissionSummary {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "MISSION-0001"))]
    pub id: MissionId,
    pub name: String,
    pub status: Status,
    pub region: Region,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1, maximum = 5))]
    pub priority: Priority,
    pub commander: String,
    pub unit: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Bumped by every change; the mission's `ETag`.
    pub version: i64,
    pub waypoint_count: u32,
}

/// A mission with its ordered route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mission {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "MISSION-0001"))]
    pub id: MissionId,
    pub name: String,
    pub status: Status,
    pub region: Region,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1, maximum = 5))]
    pub priority: Priority,
    pub commander: String,
    pub unit: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Bumped by every change; the mission's `ETag`.
    pub version: i64,
    /// The route, in order; never empty (every mission has `wp-001`).
    pub waypoints: Vec<Waypoint>,
}

impl MissionSummary {
    /// The full mission: this summary with its route (the count is taken from the route).
    pub fn with_waypoints(self, waypoints: Vec<Waypoint>) -> Mission {
        Mission {
            id: self.id,
            name: self.name,
            status: self.status,
            region: self.region,
            priority: self.priority,
            commander: self.commander,
            unit: self.unit,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            waypoints,
        }
    }
}

impl Mission {
    pub fn summary(&self) -> MissionSummary {
        MissionSummary {
            id: self.id,
            name: self.name.clone(),
            status: self.status,
            region: self.region,
            priority: self.priority,
            commander: self.commander.clone(),
            unit: self.unit.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            waypoint_count: self.waypoints.len() as u32,
        }
    }
}

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
    fn enums_parse_their_wire_names_only() {
        assert_eq!("CENTCOM".parse::<Region>().unwrap(), Region::Centcom);
        assert!("centcom".parse::<Region>().is_err());
        assert_eq!("active".parse::<Status>().unwrap(), Status::Active);
        assert!("ACTIVE".parse::<Status>().is_err());
        assert_eq!(
            serde_json::to_string(&Region::Indopacom).unwrap(),
            "\"INDOPACOM\""
        );
    }

    #[test]
    fn invalid_values_fail_to_deserialize() {
        assert!(serde_json::from_str::<Latitude>("91.0").is_err());
        assert!(serde_json::from_str::<Priority>("0").is_err());
        assert!(serde_json::from_str::<MissionId>("\"MISSION-1\"").is_err());
    }

    #[test]
    fn timestamps_are_written_with_millis() {
        let t = Timestamp::from_millis(1_767_225_600_000);
        assert_eq!(t.to_string(), "2026-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::parse("2026-01-01T00:00:00Z").unwrap(), t);
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(parse_text("name", "  Op  ", 10).unwrap(), "Op");
        assert!(parse_text("name", "   ", 10).is_err());
        assert!(parse_text("name", "abcdefghijk", 10).is_err());
    }

    #[test]
    fn ids_and_timestamps_write_as_fmt_would() {
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
        for ms in [
            0,
            1,
            999,
            1_710_586_330_123,
            253_402_300_799_999,
            -62_135_596_800_000,
        ] {
            let t = Timestamp::from_millis(ms);
            let want = t.0.to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(t.to_string(), want);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{want}\""));
        }
        // Past year 9999 the general formatter takes over.
        let far = Timestamp::from_millis(253_402_300_800_000);
        assert_eq!(
            far.to_string(),
            far.0.to_rfc3339_opts(SecondsFormat::Millis, true)
        );
    }
}
