//! Emulated network paths: extra listeners whose connections cross a link
//! with a round-trip time, jitter, a bandwidth and loss, in user space (no
//! kernel support needed). In: `--link NAME=PORT:rtt(300ms),jitter(30ms),
//! bandwidth(2mbit),loss(0.5%)` (each part optional), or `[links]` in the
//! behaviour file and admin API with the same text after `NAME =`. Out: a
//! [`LinkSpec`] per name, which [`crate::link`] applies to every byte.
//!
//! Listeners open at start-up on the API's address with the given port (0:
//! any free one); the admin API may change a link's parameters (they apply
//! to every byte from then on) but not open, close or move one.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::Behaviour;

/// How a link treats the bytes that cross it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinkSpec {
    /// The port to listen on (0: a free one, printed at start).
    pub port: u16,
    /// Round-trip time: each direction adds half.
    pub rtt: Duration,
    /// Each segment's one-way delay varies by up to this, either way.
    pub jitter: Duration,
    /// Bits per second each way (`None`: unlimited).
    pub bandwidth_bps: Option<u64>,
    /// The share of segments lost, each costing one retransmission timeout.
    pub loss: f64,
}

string_serde!(LinkSpec);

/// The smallest retransmission timeout (Linux's `TCP_RTO_MIN`).
pub const MIN_RTO: Duration = Duration::from_millis(200);

impl LinkSpec {
    /// What one lost segment costs: a retransmission timeout, about the
    /// RTT plus four times its variation, at least [`MIN_RTO`].
    pub fn rto(&self) -> Duration {
        (self.rtt + self.jitter * 4).max(MIN_RTO)
    }
}

fn duration(part: &str, inner: &str) -> Result<Duration, String> {
    humantime::parse_duration(inner.trim())
        .map_err(|e| format!("{part}: {inner:?} is not a duration (300ms, 1s): {e}"))
}

fn bandwidth(inner: &str) -> Result<u64, String> {
    let s = inner.trim().to_ascii_lowercase();
    let (number, scale) = [("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3), ("bit", 1.0)]
        .iter()
        .find_map(|(unit, scale)| s.strip_suffix(unit).map(|n| (n, *scale)))
        .ok_or_else(|| {
            format!("bandwidth({inner}): expected a number and bit, kbit, mbit or gbit, e.g. 2mbit")
        })?;
    let n: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("bandwidth({inner}): {number:?} is not a number"))?;
    let bps = n * scale;
    if !(bps.is_finite() && bps >= 1000.0) {
        return Err(format!("bandwidth({inner}) must be at least 1kbit"));
    }
    Ok(bps as u64)
}

fn loss(inner: &str) -> Result<f64, String> {
    let s = inner.trim();
    let (number, scale) = match s.strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (s, 1.0),
    };
    let p = number
        .trim()
        .parse::<f64>()
        .map(|p| p / scale)
        .map_err(|_| format!("loss({inner}): expected a share, e.g. 0.5%"))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(format!("loss({inner}) must be from 0% to 100%"));
    }
    Ok(p)
}

impl FromStr for LinkSpec {
    type Err = String;

    /// `PORT[:part,part...]`, parts `rtt(D)`, `jitter(D)`, `bandwidth(B)`, `loss(P)`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (port, parts) = s.split_once(':').unwrap_or((s, ""));
        let port: u16 = port
            .trim()
            .parse()
            .map_err(|_| format!("{port:?} is not a port (0 to 65535; 0: any free one)"))?;
        let mut spec = LinkSpec {
            port,
            ..LinkSpec::default()
        };
        for part in parts.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, inner) = part
                .strip_suffix(')')
                .and_then(|p| p.split_once('('))
                .ok_or_else(|| {
                    format!("{part:?}: expected rtt(300ms), jitter(30ms), bandwidth(2mbit) or loss(0.5%)")
                })?;
            match name.trim() {
                "rtt" => spec.rtt = duration(part, inner)?,
                "jitter" => spec.jitter = duration(part, inner)?,
                "bandwidth" => spec.bandwidth_bps = Some(bandwidth(inner)?),
                "loss" => spec.loss = loss(inner)?,
                other => {
                    return Err(format!(
                        "unknown link part {other:?}; expected rtt, jitter, bandwidth or loss"
                    ))
                }
            }
        }
        if spec.rtt > Duration::from_secs(60) || spec.jitter > Duration::from_secs(60) {
            return Err("rtt and jitter must be at most 60s".to_owned());
        }
        Ok(spec)
    }
}

impl fmt::Display for LinkSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let ms = |d: Duration| format!("{}ms", d.as_secs_f64() * 1000.0);
        if !self.rtt.is_zero() {
            parts.push(format!("rtt({})", ms(self.rtt)));
        }
        if !self.jitter.is_zero() {
            parts.push(format!("jitter({})", ms(self.jitter)));
        }
        if let Some(b) = self.bandwidth_bps {
            parts.push(format!("bandwidth({}kbit)", b as f64 / 1000.0));
        }
        if self.loss > 0.0 {
            parts.push(format!("loss({}%)", self.loss * 100.0));
        }
        write!(f, "{}:{}", self.port, parts.join(","))
    }
}

impl Behaviour {
    /// Parses `NAME=PORT:parts` (the `--link` flag) into this behaviour.
    pub fn add_link_flag(&mut self, flag: &str) -> Result<(), String> {
        let bad = |e: String| format!("--link {flag:?}: {e}");
        let (name, spec) = flag.split_once('=').ok_or_else(|| {
            bad("expected NAME=PORT:rtt(300ms),jitter(30ms),bandwidth(2mbit),loss(0.5%)".into())
        })?;
        let spec: LinkSpec = spec.parse().map_err(bad)?;
        self.links.insert(name.trim().to_owned(), spec);
        self.validate_links().map_err(bad)
    }

    /// Names are plain words; two links do not share a fixed port.
    pub(super) fn validate_links(&self) -> Result<(), String> {
        let mut ports = std::collections::BTreeMap::new();
        for (name, spec) in &self.links {
            let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
            if name.is_empty() || name.len() > 64 || !name.chars().all(plain) {
                return Err(format!(
                    "link name {name:?} must be 1 to 64 letters, digits, - or _"
                ));
            }
            if spec.port != 0 {
                if let Some(other) = ports.insert(spec.port, name) {
                    return Err(format!(
                        "links {other} and {name} both ask for port {}",
                        spec.port
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_reads_every_part_or_none() {
        let s: LinkSpec = "0:rtt(300ms),jitter(30ms),bandwidth(2mbit),loss(0.5%)"
            .parse()
            .unwrap();
        assert_eq!(s.rtt, Duration::from_millis(300));
        assert_eq!(s.jitter, Duration::from_millis(30));
        assert_eq!(s.bandwidth_bps, Some(2_000_000));
        assert!((s.loss - 0.005).abs() < 1e-12);
        assert_eq!(s.rto(), Duration::from_millis(420));
        let again: LinkSpec = s.to_string().parse().unwrap();
        assert_eq!(again, s);
        let bare: LinkSpec = "8081".parse().unwrap();
        assert_eq!(bare.port, 8081);
        assert_eq!(bare.rto(), MIN_RTO);
        assert_eq!("0:".parse::<LinkSpec>().unwrap(), LinkSpec::default());
    }

    #[test]
    fn bad_links_name_the_flag_and_the_part() {
        for (flag, says) in [
            ("far", "NAME=PORT"),
            ("far=x:rtt(1ms)", "not a port"),
            ("far=0:rtt(soon)", "not a duration"),
            ("far=0:bandwidth(fast)", "bandwidth"),
            ("far=0:loss(120%)", "0% to 100%"),
            ("far=0:delay(3ms)", "unknown link part"),
            ("far=0:rtt", "expected rtt("),
            ("f a r=0", "link name"),
        ] {
            let e = Behaviour::default().add_link_flag(flag).unwrap_err();
            assert!(e.contains("--link") && e.contains(says), "{flag}: {e}");
        }
        let mut b = Behaviour::default();
        b.add_link_flag("a=9000").unwrap();
        assert!(b.add_link_flag("b=9000").unwrap_err().contains("9000"));
    }
}
