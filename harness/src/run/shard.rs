//! One run split over N generators started by whatever already runs jobs
//! (Kubernetes, a shell loop, ssh). In: `--shard I/N` (or `auto/N`, the
//! index from `JOB_COMPLETION_INDEX`, 0-based as an Indexed Job sets it),
//! `--start-at` (a time) or `--start-in 30s`. Out: the shard's part of the
//! scenario ([`Shard::apply`]: users, arrival rates and `max_in_flight`
//! divided so that the N parts add up to exactly the scenario, remainders
//! on the first shards), its seed ([`Shard::seed`]), and the shared start.

use std::time::Duration;

use crate::error::Error;
use crate::scenario::{Load, Scenario};

pub use crate::record::Shard;

/// `I/N`, or `auto/N` with `auto` read from `job_index` (0-based).
pub fn parse_shard(flag: &str, job_index: Option<&str>) -> Result<Shard, Error> {
    let bad = |why: String| Error::Usage(format!("--shard {flag:?}: {why}"));
    let (i, n) = flag
        .split_once('/')
        .ok_or_else(|| bad("expected I/N (1-based, e.g. 2/3) or auto/N".into()))?;
    let total: u32 = n
        .trim()
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| bad(format!("{n:?} is not a shard count (1 or more)")))?;
    let index = match i.trim() {
        "auto" => {
            let raw = job_index.ok_or_else(|| {
                bad("auto needs JOB_COMPLETION_INDEX (0-based, as a Kubernetes Indexed Job sets it)".into())
            })?;
            let zero: u32 = raw.trim().parse().map_err(|_| {
                bad(format!(
                    "JOB_COMPLETION_INDEX {raw:?} is not a whole number"
                ))
            })?;
            zero + 1
        }
        i => i
            .parse()
            .map_err(|_| bad(format!("{i:?} is not a shard index")))?,
    };
    if !(1..=total).contains(&index) {
        return Err(bad(format!(
            "the index must be from 1 to {total}, got {index}"
        )));
    }
    Ok(Shard { index, total })
}

/// This shard's part of `whole` items: an equal share, the remainder
/// going one each to the first shards.
pub fn share(whole: u64, shard: Shard) -> u64 {
    let (n, i) = (u64::from(shard.total), u64::from(shard.index));
    whole / n + u64::from(i <= whole % n)
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Shard {
    /// The seed this shard draws from: the run's for a single shard,
    /// otherwise one of its own derived from the run's seed and the index,
    /// so shards do not repeat each other's keys and tasks.
    pub fn seed(self, run_seed: u64) -> u64 {
        match self.total {
            1 => run_seed,
            _ => mix(run_seed ^ mix(u64::from(self.index))),
        }
    }

    /// The shard's part of the scenario.
    pub fn apply(self, whole: &Scenario) -> Scenario {
        let mut s = whole.clone();
        let users = |u: u32| share(u64::from(u), self) as u32;
        let rate = |r: f64| r / f64::from(self.total);
        for st in &mut s.stages {
            st.load = match st.load {
                Load::Users { from, to } => Load::Users {
                    from: users(from),
                    to: users(to),
                },
                Load::Rate { from, to } => Load::Rate {
                    from: rate(from),
                    to: rate(to),
                },
            };
        }
        for c in &mut s.classes {
            if let crate::scenario::Share::Count(n) = c.share {
                c.share = crate::scenario::Share::Count(users(n));
            }
        }
        s.max_in_flight = (share(whole.max_in_flight as u64, self) as usize).max(1);
        s
    }
}

/// How long to wait for `--start-at` (`at`) from `now`; a time more than
/// a second past is an error, so a late shard cannot run out of phase
/// unnoticed.
pub fn wait_until(
    at: chrono::DateTime<chrono::FixedOffset>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Duration, Error> {
    let ahead = at.with_timezone(&chrono::Utc) - now;
    if ahead < chrono::TimeDelta::milliseconds(-1000) {
        return Err(Error::Usage(format!(
            "--start-at {}: {:.1} s ago; a shard starting late would run out of phase with the others",
            at.to_rfc3339(),
            -ahead.num_milliseconds() as f64 / 1000.0
        )));
    }
    Ok(ahead.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_with_the_remainder_on_the_first_shards() {
        let of = |i| Shard { index: i, total: 3 };
        assert_eq!([1, 2, 3].map(|i| share(500, of(i))), [167, 167, 166]);
        assert_eq!([1, 2, 3].map(|i| share(2, of(i))), [1, 1, 0]);
        let whole = Scenario::builtin();
        let parts: Vec<Scenario> = (1..=3).map(|i| of(i).apply(&whole)).collect();
        for (k, st) in whole.stages.iter().enumerate() {
            let (Load::Users { to, .. }, sum) = (
                st.load,
                parts
                    .iter()
                    .map(|p| match p.stages[k].load {
                        Load::Users { to, .. } => to,
                        Load::Rate { .. } => unreachable!(),
                    })
                    .sum::<u32>(),
            ) else {
                unreachable!()
            };
            assert_eq!(sum, to, "{}", st.name);
        }
        let seeds: Vec<u64> = (1..=3).map(|i| of(i).seed(42)).collect();
        assert!(seeds[0] != seeds[1] && seeds[1] != seeds[2]);
        assert_eq!(Shard { index: 1, total: 1 }.seed(42), 42);
    }

    #[test]
    fn the_flag_reads_an_index_or_the_job_index() {
        assert_eq!(
            parse_shard("2/3", None).unwrap(),
            Shard { index: 2, total: 3 }
        );
        assert_eq!(
            parse_shard("auto/3", Some("0")).unwrap(),
            Shard { index: 1, total: 3 }
        );
        for (flag, job) in [
            ("4/3", None),
            ("0/3", None),
            ("x/3", None),
            ("1/0", None),
            ("auto/3", None),
            ("auto/3", Some("3")),
            ("3", None),
        ] {
            let e = parse_shard(flag, job).unwrap_err().to_string();
            assert!(e.contains("--shard"), "{flag}: {e}");
        }
    }

    #[test]
    fn a_start_time_in_the_past_is_refused() {
        let now = chrono::Utc::now();
        let at = |d: chrono::TimeDelta| (now + d).fixed_offset();
        let soon = at(chrono::TimeDelta::seconds(2));
        assert!(wait_until(soon, now).unwrap() > Duration::from_millis(1500));
        let just = at(chrono::TimeDelta::milliseconds(-500));
        assert_eq!(wait_until(just, now).unwrap(), Duration::ZERO);
        let late = at(chrono::TimeDelta::seconds(-5));
        assert!(wait_until(late, now)
            .unwrap_err()
            .to_string()
            .contains("ago"));
    }
}
