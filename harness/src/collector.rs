//! The collector: the one place results go. Workers send [`Msg`]s; the
//! collector keeps HdrHistograms (microseconds, 3 significant digits) per
//! task × stage, error classes with a few sample messages, and a per-second
//! time series. It never prints; it publishes a [`Live`] view for whoever
//! shows progress.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::client::ErrorClass;

/// Highest latency a histogram holds: one hour, in microseconds.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;
/// Sample messages kept per error class.
pub const SAMPLES_PER_CLASS: usize = 5;

/// A histogram as the records keep them: microseconds, 1 µs to 1 h, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid bounds")
}

/// A smaller histogram for one second of the time series.
fn second_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 2).expect("valid bounds")
}

/// One finished request.
#[derive(Debug, Clone)]
pub struct Sample {
    pub task: usize,
    /// The stage in which it started (was intended to start, in open model).
    pub stage: usize,
    /// When it finished, from the run's start.
    pub done_at: Duration,
    /// From (intended) start to the end of the body.
    pub latency: Duration,
    pub error: Option<(ErrorClass, String)>,
}

/// What workers and the engine tell the collector.
#[derive(Debug)]
pub enum Msg {
    Sample(Sample),
    /// Users (closed model) or requests in flight (open model) at a moment.
    Users {
        at: Duration,
        stage: usize,
        users: u32,
    },
    /// An open-model arrival that found no free slot and was not sent.
    Dropped {
        stage: usize,
    },
}

/// Requests, errors and latencies of one task in one stage.
#[derive(Debug, Clone)]
pub struct Cell {
    pub requests: u64,
    pub errors: u64,
    pub histogram: Histogram<u64>,
}

impl Default for Cell {
    fn default() -> Self {
        Self {
            requests: 0,
            errors: 0,
            histogram: new_histogram(),
        }
    }
}

/// Percentiles of one second, for one task or all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointStats {
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// One second of the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Point {
    pub t: u32,
    pub users: u32,
    pub all: PointStats,
    pub tasks: Vec<PointStats>,
}

#[derive(Debug)]
struct OpenSecond {
    users: u32,
    all: (u64, u64, Histogram<u64>),
    tasks: Vec<(u64, u64, Histogram<u64>)>,
}

impl OpenSecond {
    fn new(tasks: usize) -> Self {
        Self {
            users: 0,
            all: (0, 0, second_histogram()),
            tasks: (0..tasks).map(|_| (0, 0, second_histogram())).collect(),
        }
    }
}

/// What the progress display reads, updated once a second.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub elapsed: Duration,
    pub stage: usize,
    pub users: u32,
    pub rps: f64,
    pub p95_ms: f64,
    pub requests: u64,
    pub errors: u64,
}

pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn quantiles(h: &Histogram<u64>) -> (f64, f64, f64) {
    if h.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    (
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.95)),
        ms(h.value_at_quantile(0.99)),
    )
}

/// Everything measured, handed on to the record.
#[derive(Debug, Clone)]
pub struct Collected {
    /// `[stage][task]`.
    pub cells: Vec<Vec<Cell>>,
    pub errors: BTreeMap<ErrorClass, u64>,
    pub error_samples: BTreeMap<ErrorClass, Vec<String>>,
    pub timeseries: Vec<Point>,
    pub users_max: Vec<u32>,
    pub dropped: Vec<u64>,
}

#[derive(Debug)]
pub struct Collector {
    tasks: usize,
    out: Collected,
    open: BTreeMap<u32, OpenSecond>,
    live: Arc<Mutex<Live>>,
    last_stage: usize,
}

impl Collector {
    pub fn new(stages: usize, tasks: usize, live: Arc<Mutex<Live>>) -> Self {
        Self {
            tasks,
            out: Collected {
                cells: (0..stages)
                    .map(|_| (0..tasks).map(|_| Cell::default()).collect())
                    .collect(),
                errors: BTreeMap::new(),
                error_samples: BTreeMap::new(),
                timeseries: Vec::new(),
                users_max: vec![0; stages],
                dropped: vec![0; stages],
            },
            open: BTreeMap::new(),
            live,
            last_stage: 0,
        }
    }

    fn second(&mut self, t: u32) -> &mut OpenSecond {
        // Seconds two behind the newest are complete: close them.
        while let Some((&first, _)) = self.open.first_key_value() {
            if first + 2 <= t {
                self.close_first();
            } else {
                break;
            }
        }
        let tasks = self.tasks;
        self.open.entry(t).or_insert_with(|| OpenSecond::new(tasks))
    }

    fn close_first(&mut self) {
        let Some((t, s)) = self.open.pop_first() else {
            return;
        };
        // Fill gaps (seconds with no activity) so the series has one point a second.
        let next = self.out.timeseries.last().map_or(0, |p| p.t + 1);
        for gap in next..t {
            self.out.timeseries.push(Point {
                t: gap,
                users: self.out.timeseries.last().map_or(0, |p| p.users),
                all: PointStats::default(),
                tasks: vec![PointStats::default(); self.tasks],
            });
        }
        let stats = |(requests, errors, h): &(u64, u64, Histogram<u64>)| {
            let (p50_ms, p95_ms, p99_ms) = quantiles(h);
            PointStats {
                requests: *requests,
                errors: *errors,
                p50_ms,
                p95_ms,
                p99_ms,
            }
        };
        let point = Point {
            t,
            users: s.users,
            all: stats(&s.all),
            tasks: s.tasks.iter().map(stats).collect(),
        };
        if let Ok(mut live) = self.live.lock() {
            live.elapsed = Duration::from_secs(u64::from(t) + 1);
            live.users = point.users;
            live.rps = point.all.requests as f64;
            live.p95_ms = point.all.p95_ms;
            live.stage = self.last_stage;
        }
        self.out.timeseries.push(point);
    }

    pub fn add(&mut self, msg: Msg) {
        match msg {
            Msg::Sample(s) => self.add_sample(s),
            Msg::Users { at, stage, users } => {
                self.last_stage = stage;
                if let Some(m) = self.out.users_max.get_mut(stage) {
                    *m = (*m).max(users);
                }
                let sec = self.second(at.as_secs() as u32);
                sec.users = sec.users.max(users);
            }
            Msg::Dropped { stage } => {
                if let Some(d) = self.out.dropped.get_mut(stage) {
                    *d += 1;
                }
            }
        }
    }

    fn add_sample(&mut self, s: Sample) {
        let us = (s.latency.as_micros() as u64).clamp(1, MAX_LATENCY_US);
        let is_error = s.error.is_some();
        let has_response = s.error.as_ref().is_none_or(|(c, _)| c.has_response());
        if let Some((class, message)) = s.error {
            *self.out.errors.entry(class).or_default() += 1;
            let samples = self.out.error_samples.entry(class).or_default();
            if samples.len() < SAMPLES_PER_CLASS && !samples.contains(&message) {
                samples.push(message);
            }
        }
        let Some(cell) = self
            .out
            .cells
            .get_mut(s.stage)
            .and_then(|r| r.get_mut(s.task))
        else {
            return;
        };
        cell.requests += 1;
        cell.errors += u64::from(is_error);
        if has_response {
            cell.histogram.saturating_record(us);
        }
        let task = s.task;
        let sec = self.second(s.done_at.as_secs() as u32);
        for (requests, errors, h) in [&mut sec.all, &mut sec.tasks[task]] {
            *requests += 1;
            *errors += u64::from(is_error);
            if has_response {
                h.saturating_record(us);
            }
        }
        if let Ok(mut live) = self.live.lock() {
            live.requests += 1;
            live.errors += u64::from(is_error);
        }
    }

    /// Closes every open second and hands the results on.
    pub fn finish(mut self) -> Collected {
        while !self.open.is_empty() {
            self.close_first();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(
        task: usize,
        stage: usize,
        at_ms: u64,
        lat_ms: u64,
        error: Option<ErrorClass>,
    ) -> Msg {
        Msg::Sample(Sample {
            task,
            stage,
            done_at: Duration::from_millis(at_ms),
            latency: Duration::from_millis(lat_ms),
            error: error.map(|c| (c, format!("{c:?}"))),
        })
    }

    #[test]
    fn cells_count_requests_errors_and_latencies() {
        let mut c = Collector::new(2, 2, Arc::default());
        c.add(sample(0, 0, 100, 10, None));
        c.add(sample(0, 0, 200, 20, Some(ErrorClass::Status5xx)));
        c.add(sample(1, 1, 1500, 30, Some(ErrorClass::Timeout)));
        c.add(Msg::Users {
            at: Duration::from_millis(1200),
            stage: 1,
            users: 7,
        });
        let out = c.finish();
        assert_eq!(out.cells[0][0].requests, 2);
        assert_eq!(out.cells[0][0].errors, 1);
        // A 5xx has a response time; a timeout has none.
        assert_eq!(out.cells[0][0].histogram.len(), 2);
        assert_eq!(out.cells[1][1].histogram.len(), 0);
        assert_eq!(out.errors[&ErrorClass::Status5xx], 1);
        assert_eq!(out.users_max, [0, 7]);
        assert_eq!(out.timeseries.len(), 2);
        assert_eq!(out.timeseries[0].all.requests, 2);
        assert_eq!(out.timeseries[1].users, 7);
        assert_eq!(out.timeseries[1].tasks[1].errors, 1);
    }

    #[test]
    fn the_series_has_a_point_every_second_even_when_idle() {
        let mut c = Collector::new(1, 1, Arc::default());
        c.add(sample(0, 0, 100, 1, None));
        c.add(sample(0, 0, 5100, 1, None));
        let out = c.finish();
        let ts: Vec<u32> = out.timeseries.iter().map(|p| p.t).collect();
        assert_eq!(ts, [0, 1, 2, 3, 4, 5]);
    }
}
