//! The slowest requests of each row in the steady window. In: samples
//! from the collector. Out: at most `n` [`Slow`]s per row, slowest first,
//! each with its trace id, so a tail sample can be found in a tracing
//! backend and on the target (`/__admin/slow`).

use std::time::Duration;

use crate::load::collector::Sample;
use crate::load::outcome::ErrorClass;
use crate::load::transport::Phases;

/// One of the slowest requests of a row in the steady window.
#[derive(Debug, Clone, PartialEq)]
pub struct Slow {
    pub latency: Duration,
    /// When it started (was due), from the run's start.
    pub started_at: Duration,
    /// Its response's status (0: none came).
    pub status: u16,
    pub error: Option<ErrorClass>,
    pub trace_id: u128,
    pub phases: Phases,
}

/// The `n` slowest of a stream of requests, kept in no order until [`Slowest::sorted`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Slowest {
    kept: Vec<Slow>,
    /// The fastest kept once `kept` is full: what a newcomer must beat.
    floor: Duration,
}

impl Slowest {
    pub(crate) fn offer(&mut self, n: usize, s: &Sample) {
        if n == 0 || (self.kept.len() == n && s.latency <= self.floor) {
            return;
        }
        let slow = Slow {
            latency: s.latency,
            started_at: s.done_at.saturating_sub(s.latency),
            status: s.status,
            error: s.error.as_ref().map(|(c, _)| *c),
            trace_id: s.trace_id,
            phases: s.phases,
        };
        if self.kept.len() < n {
            self.kept.push(slow);
        } else if let Some(min) = self.kept.iter_mut().min_by_key(|k| k.latency) {
            *min = slow;
        }
        if self.kept.len() == n {
            self.floor = self
                .kept
                .iter()
                .map(|k| k.latency)
                .min()
                .unwrap_or_default();
        }
    }

    pub(crate) fn sorted(mut self) -> Vec<Slow> {
        self.kept.sort_by_key(|s| std::cmp::Reverse(s.latency));
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ms: u64, trace_id: u128) -> Sample {
        Sample {
            task: 0,
            stage: 0,
            done_at: Duration::from_millis(10_000),
            latency: Duration::from_millis(ms),
            error: None,
            phases: Phases::default(),
            status: 200,
            trace_id,
        }
    }

    #[test]
    fn keeps_the_n_slowest_whatever_the_order() {
        let mut k = Slowest::default();
        let lat = [5u64, 90, 3, 40, 70, 1, 95, 20, 60, 10];
        for (i, ms) in lat.iter().enumerate() {
            k.offer(3, &sample(*ms, i as u128));
        }
        let got: Vec<(u128, Duration)> =
            k.sorted().iter().map(|s| (s.trace_id, s.latency)).collect();
        assert_eq!(
            got,
            [
                (6, Duration::from_millis(95)),
                (1, Duration::from_millis(90)),
                (4, Duration::from_millis(70))
            ]
        );
        let mut none = Slowest::default();
        none.offer(0, &sample(1, 1));
        assert!(none.sorted().is_empty());
    }
}
