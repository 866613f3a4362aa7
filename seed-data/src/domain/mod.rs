//! The mission-planning domain: the one definition of a mission, its
//! waypoints and the values they are built from. In: raw values (numbers,
//! text). Out: values that parse, or a [`DomainError`] saying why not.
//!
//! Every value type here *parses*: a [`Latitude`] outside [-90, 90] or a
//! malformed [`MissionId`] cannot be built, so the generator, the API and any
//! client that shares these types cannot hold an invalid one.
//!
//! One file per value family: [`ids`], [`coordinates`], [`time`],
//! [`mission`] (priority, status, region, waypoint, summary, mission).

pub mod coordinates;
pub mod ids;
pub mod mission;
pub mod time;

pub use coordinates::{Altitude, Latitude, Longitude};
pub use ids::{MissionId, WaypointId};
pub use mission::{Mission, MissionSummary, Priority, Region, Status, Waypoint};
pub use time::Timestamp;

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
    #[error("{field} must be 1 to {max} characters and not blank, got {len}")]
    Text {
        field: &'static str,
        max: usize,
        len: usize,
    },
    #[error("malformed timestamp {0:?}; expected RFC 3339, e.g. 2026-01-01T00:00:00.000Z")]
    Timestamp(String),
}

/// What a free-text field must contain, as an OpenAPI `pattern`: at least
/// one character that is not Unicode `White_Space` (the set `str::trim`
/// removes, listed so that every regex engine reads it alike).
pub const TEXT_PATTERN: &str =
    "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/// Checks a free-text field: at most `max` characters as sent, and not
/// blank (at least one character that is not white space). Returns it
/// trimmed.
pub fn parse_text(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let len = value.chars().count();
    let trimmed = value.trim();
    if trimmed.is_empty() || len > max {
        return Err(DomainError::Text { field, max, len });
    }
    Ok(trimmed.to_owned())
}

/// Up to 32 bytes of ASCII text on the stack: ids and timestamps are written
/// for every response, and going through `fmt` (padding, allocation for
/// timestamps) showed in the server's profile.
#[derive(Default)]
pub(crate) struct Short {
    buf: [u8; 32],
    len: usize,
}

impl Short {
    pub(crate) fn push_str(&mut self, s: &str) {
        let end = (self.len + s.len()).min(self.buf.len());
        self.buf[self.len..end].copy_from_slice(&s.as_bytes()[..end - self.len]);
        self.len = end;
    }

    /// `n` in decimal, zero-padded to at least `width` digits.
    pub(crate) fn push_padded(&mut self, n: u32, width: usize) {
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

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(parse_text("name", "  Op  ", 10).unwrap(), "Op");
        assert!(parse_text("name", "   ", 10).is_err());
        assert!(parse_text("name", "abcdefghijk", 10).is_err());
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn the_text_pattern_accepts_exactly_what_parses() {
        let pattern = regex::Regex::new(TEXT_PATTERN).unwrap();
        let blanks: Vec<char> = (0..=0x3000u32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace())
            .collect();
        assert_eq!(blanks.len(), 25, "Unicode White_Space");
        for c in blanks
            .iter()
            .copied()
            .chain(['a', '\u{1c}', '\u{feff}', '\u{200b}', '\0'])
        {
            for text in [c.to_string(), format!(" {c} "), format!("{c}{c}")] {
                let ok = parse_text("name", &text, 10).is_ok();
                assert_eq!(pattern.is_match(&text), ok, "{text:?}");
            }
        }
        assert!(parse_text("name", &"a".repeat(10), 10).is_ok());
        assert!(parse_text("name", &format!(" {}", "a".repeat(10)), 10).is_err());
    }
}
