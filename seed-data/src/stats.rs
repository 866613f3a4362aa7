//! Shares and spreads of a stream of missions, to check the generated data
//! against the skew the crate documents (`seed-data --stats`).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use crate::domain::{Mission, Region, Status};
use crate::generator::{REGION_SHARES, STATUS_SHARES, WAYPOINT_BANDS};

/// Running counts over missions; add them one at a time, nothing is kept.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub missions: u64,
    pub waypoints: u64,
    pub by_region: BTreeMap<Region, u64>,
    pub by_status: BTreeMap<Status, u64>,
    pub active_centcom: u64,
    /// Missions per waypoint count.
    pub waypoint_counts: BTreeMap<u32, u64>,
}

impl Stats {
    pub fn add(&mut self, m: &Mission) {
        self.missions += 1;
        self.waypoints += m.waypoints.len() as u64;
        let (region, status) = (m.summary.region, m.summary.status);
        *self.by_region.entry(region).or_default() += 1;
        *self.by_status.entry(status).or_default() += 1;
        if region == Region::Centcom && status == Status::Active {
            self.active_centcom += 1;
        }
        *self
            .waypoint_counts
            .entry(m.waypoints.len() as u32)
            .or_default() += 1;
    }

    fn pct(&self, n: u64) -> f64 {
        if self.missions == 0 {
            0.0
        } else {
            100.0 * n as f64 / self.missions as f64
        }
    }

    /// The waypoint count below which `q` (0..=1) of missions fall.
    pub fn waypoint_quantile(&self, q: f64) -> u32 {
        let rank = (q * self.missions as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (&count, &n) in &self.waypoint_counts {
            seen += n;
            if seen >= rank {
                return count;
            }
        }
        0
    }

    /// Share (percent) of missions whose waypoint count is in `lo..=hi`.
    pub fn waypoint_band_pct(&self, lo: u32, hi: u32) -> f64 {
        self.pct(self.waypoint_counts.range(lo..=hi).map(|(_, n)| n).sum())
    }

    /// Observed share (percent) of a region.
    pub fn region_pct(&self, r: Region) -> f64 {
        self.pct(self.by_region.get(&r).copied().unwrap_or(0))
    }

    /// Observed share (percent) of a status.
    pub fn status_pct(&self, s: Status) -> f64 {
        self.pct(self.by_status.get(&s).copied().unwrap_or(0))
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        writeln!(
            out,
            "missions: {}   waypoints: {}",
            self.missions, self.waypoints
        )?;
        writeln!(out, "\nregion      observed  documented")?;
        for (r, share) in REGION_SHARES {
            writeln!(
                out,
                "{:<10} {:>8.1}% {:>10}%",
                r.as_str(),
                self.region_pct(r),
                share
            )?;
        }
        writeln!(out, "\nstatus      observed  documented")?;
        for (s, share) in STATUS_SHARES {
            writeln!(
                out,
                "{:<10} {:>8.1}% {:>10}%",
                s.as_str(),
                self.status_pct(s),
                share
            )?;
        }
        writeln!(out, "\nactive CENTCOM missions: {}", self.active_centcom)?;
        writeln!(out, "\nwaypoints   observed  documented")?;
        for (lo, hi, share) in WAYPOINT_BANDS {
            let band = format!("{lo}-{hi}");
            writeln!(
                out,
                "{band:<10} {:>8.1}% {:>10}%",
                self.waypoint_band_pct(lo, hi),
                share
            )?;
        }
        let max = self
            .waypoint_counts
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0);
        let min = self.waypoint_counts.keys().next().copied().unwrap_or(0);
        writeln!(
            out,
            "\nwaypoints per mission: min {min}  p50 {}  p90 {}  p99 {}  max {max}  mean {:.1}",
            self.waypoint_quantile(0.5),
            self.waypoint_quantile(0.9),
            self.waypoint_quantile(0.99),
            if self.missions == 0 {
                0.0
            } else {
                self.waypoints as f64 / self.missions as f64
            },
        )?;
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::Generator;

    #[test]
    fn generated_shares_match_the_documented_ones() {
        let mut stats = Stats::default();
        Generator::new(42, 20_000).for_each(|m| stats.add(&m));
        for (r, share) in REGION_SHARES {
            let got = stats.region_pct(r);
            assert!(
                (got - f64::from(share)).abs() < 1.5,
                "{r}: {got}% vs {share}%"
            );
        }
        for (s, share) in STATUS_SHARES {
            let got = stats.status_pct(s);
            assert!(
                (got - f64::from(share)).abs() < 1.5,
                "{s}: {got}% vs {share}%"
            );
        }
        for (lo, hi, share) in WAYPOINT_BANDS {
            let got = stats.waypoint_band_pct(lo, hi);
            assert!(
                (got - f64::from(share)).abs() < 1.0,
                "{lo}-{hi}: {got}% vs {share}%"
            );
        }
        assert!(stats.waypoint_quantile(0.5) >= 3 && stats.waypoint_quantile(0.5) <= 15);
        assert!(*stats.waypoint_counts.keys().next_back().unwrap() >= 200);
    }

    #[test]
    fn the_seed_documents_search_has_rows_at_1000() {
        let mut stats = Stats::default();
        Generator::new(42, 1000).for_each(|m| stats.add(&m));
        assert!(stats.active_centcom >= 30, "{}", stats.active_centcom);
        assert_eq!(stats.missions, 1000);
    }
}
