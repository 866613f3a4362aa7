//! A stall: the canonical coordinated-omission test. In: `every`, `for`
//! and `phase` (flag `--stall 10s:1s`, the file's or the admin API's
//! `stall = { every = "10s", for = "1s", phase = "0s" }`). Out: for a
//! request reaching its handler at some moment, how long it waits first.
//!
//! Windows are deterministic: they open at the server's start plus
//! `phase`, then every `every`, and last `for`. A request that reaches its
//! handler inside one waits until it closes (as a GC pause or a held lock
//! makes it wait), and the wait is part of its measured service time.
//!
//! What a load tool should then report: at a constant arrival rate with a
//! stall of S every E, a share S/E of arrivals wait Uniform(0, S] on top of
//! their service time, so a quantile q above 1 - S/E is about
//! S (q - (1 - S/E)) / (S/E) (S = 1 s, E = 10 s: p95 about 500 ms, p99 about
//! 900 ms). A closed-model tool with C connections has only C requests
//! waiting in each stall and reports far less.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A stall of `duration` every `every`, from `phase` after the server's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stall {
    #[serde(with = "human")]
    pub every: Duration,
    #[serde(rename = "for", with = "human")]
    pub duration: Duration,
    #[serde(default, with = "human")]
    pub phase: Duration,
}

impl Stall {
    /// Checks the windows make sense: `every` above 0, `for` above 0 and
    /// below `every`.
    pub fn validate(&self) -> Result<(), String> {
        if self.every.is_zero() || self.duration.is_zero() || self.duration >= self.every {
            return Err(format!(
                "stall: `for` ({}) must be above 0 and below `every` ({})",
                humantime::format_duration(self.duration),
                humantime::format_duration(self.every)
            ));
        }
        Ok(())
    }

    /// For a request reaching its handler `since_start` after the server
    /// started: when (since the start) its stall window ends, if it is in one.
    pub fn ends(&self, since_start: Duration) -> Option<Duration> {
        let into = since_start.checked_sub(self.phase)?;
        let every = self.every.as_nanos();
        let at = into.as_nanos() % every;
        (at < self.duration.as_nanos()).then(|| {
            let window = into.as_nanos() - at;
            let end = self.phase.as_nanos() + window + self.duration.as_nanos();
            Duration::from_nanos(u64::try_from(end).unwrap_or(u64::MAX))
        })
    }
}

/// `EVERY:FOR` or `EVERY:FOR:PHASE`, e.g. `10s:1s` (the `--stall` flag).
impl FromStr for Stall {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("--stall {s:?}: expected EVERY:FOR[:PHASE], e.g. 10s:1s");
        let parts: Vec<&str> = s.split(':').map(str::trim).collect();
        let d = |p: &str| humantime::parse_duration(p).map_err(|e| format!("{}: {e}", bad()));
        let stall = match parts.as_slice() {
            [every, dur] => Stall {
                every: d(every)?,
                duration: d(dur)?,
                phase: Duration::ZERO,
            },
            [every, dur, phase] => Stall {
                every: d(every)?,
                duration: d(dur)?,
                phase: d(phase)?,
            },
            _ => return Err(bad()),
        };
        stall
            .validate()
            .map_err(|e| format!("--stall {s:?}: {e}"))?;
        Ok(stall)
    }
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            humantime::format_duration(self.every),
            humantime::format_duration(self.duration),
            humantime::format_duration(self.phase)
        )
    }
}

/// Durations as humans write them (`"10s"`, `"1500ms"`).
mod human {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*d))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(text.trim()).map_err(|e| {
            serde::de::Error::custom(format!(
                "{text:?} is not a duration like \"10s\" or \"500ms\": {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn windows_open_at_the_phase_and_every_period_after() {
        let stall: Stall = "10s:1s:2s".parse().unwrap();
        assert_eq!(stall.ends(secs(1.0)), None, "before the phase");
        assert_eq!(stall.ends(secs(2.0)), Some(secs(3.0)));
        assert_eq!(stall.ends(secs(2.5)), Some(secs(3.0)));
        assert_eq!(stall.ends(secs(3.0)), None, "the window has closed");
        assert_eq!(stall.ends(secs(11.9)), None);
        assert_eq!(stall.ends(secs(12.25)), Some(secs(13.0)));
        assert_eq!(stall.ends(secs(1002.999)), Some(secs(1003.0)));
    }

    #[test]
    fn flags_and_json_parse_and_bad_windows_are_refused() {
        let s: Stall = "10s:1s".parse().unwrap();
        assert_eq!(
            (s.every, s.duration, s.phase),
            (secs(10.0), secs(1.0), secs(0.0))
        );
        let json: Stall =
            serde_json::from_str(r#"{"every": "10s", "for": "1s", "phase": "250ms"}"#).unwrap();
        assert_eq!(json.phase, secs(0.25));
        let back: Stall = serde_json::from_value(serde_json::to_value(json).unwrap()).unwrap();
        assert_eq!(back, json);
        for bad in ["10s", "1s:1s", "1s:2s", "0s:0s", "ten:1s", "10s:1s:2s:3s"] {
            assert!(bad.parse::<Stall>().is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Stall>(r#"{"every": "10s", "for": "x"}"#).is_err());
    }
}
