//! Time: a point in time written as RFC 3339 UTC with milliseconds, so
//! that output is byte-stable. In: milliseconds or RFC 3339 text. Out:
//! [`Timestamp`].

use std::fmt;

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Serialize, Serializer};

use super::{DomainError, Short};

/// A point in time, always written as RFC 3339 UTC with milliseconds
/// (`2026-01-01T00:00:00.000Z`) so that output is byte-stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
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

impl TryFrom<String> for Timestamp {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_with_millis() {
        let t = Timestamp::from_millis(1_767_225_600_000);
        assert_eq!(t.to_string(), "2026-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::parse("2026-01-01T00:00:00Z").unwrap(), t);
    }

    #[test]
    fn timestamps_write_as_fmt_would() {
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
