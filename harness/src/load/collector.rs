//! The collector: the one place results go. In: [`Msg`]s from workers and
//! the engine. Out: [`Collected`] (HdrHistograms per task × stage, error
//! classes with a few sample messages, a per-second time series) and a
//! [`Live`] view for whoever shows progress. It never prints.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::histogram::{new_histogram, Percentiles, MAX_LATENCY_US};
use crate::load::client::ErrorClass;
use crate::load::phases::{PhaseTally, Phases};
pub use crate::load::slowest::Slow;
use crate::load::slowest::Slowest;

/// Sample messages kept per error class.
pub const SAMPLES_PER_CLASS: usize = 5;

/// Adds one run's error counts and samples to another's (for runs joined
/// or merged): counts summed, samples kept distinct and at most
/// [`SAMPLES_PER_CLASS`] per class.
pub fn add_errors(
    counts: &mut BTreeMap<ErrorClass, u64>,
    samples: &mut BTreeMap<ErrorClass, Vec<String>>,
    more_counts: &BTreeMap<ErrorClass, u64>,
    more_samples: &BTreeMap<ErrorClass, Vec<String>>,
) {
    for (class, n) in more_counts {
        *counts.entry(*class).or_default() += n;
    }
    for (class, more) in more_samples {
        let kept = samples.entry(*class).or_default();
        for s in more {
            if kept.len() < SAMPLES_PER_CLASS && !kept.contains(s) {
                kept.push(s.clone());
            }
        }
    }
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
    /// Where its time went.
    pub phases: Phases,
    /// Its response's status (0: none came).
    pub status: u16,
    /// The W3C trace id it carried.
    pub trace_id: u128,
}

/// Who else sees each result as the collector takes it (the live
/// exposition of `--metrics-listen`), on the collector's task.
pub trait Watcher: Send + std::fmt::Debug {
    /// One finished request: its response time when answered, its class when failed.
    fn sample(
        &mut self,
        stage: usize,
        row: usize,
        response_us: Option<u64>,
        error: Option<ErrorClass>,
    );
    /// The engine's tick: see [`Msg::Users`].
    fn tick(&mut self, stage: usize, users: u32, in_flight: u32, arrivals: u64);
    fn dropped(&mut self, stage: usize);
    /// A second closed, in `stage`; `cells` (`[stage][row]`) so far.
    fn second(&mut self, point: &Point, stage: Option<usize>, cells: &[Vec<Tally>]);
    /// The run ended.
    fn finish(&mut self, cells: &[Vec<Tally>]);
}

/// What workers and the engine tell the collector.
#[derive(Debug)]
pub enum Msg {
    Sample(Sample),
    /// Users (closed model) or requests in flight (open model) at a
    /// moment, with the open model's requests in flight and arrivals due
    /// so far (both 0 in the closed model).
    Users {
        at: Duration,
        stage: usize,
        users: u32,
        in_flight: u32,
        arrivals: u64,
    },
    /// An open-model arrival that found no free slot and was not sent.
    Dropped {
        stage: usize,
    },
}

/// Requests, errors and response times: of one task in one stage, or of
/// one second.
#[derive(Debug, Clone)]
pub struct Tally {
    pub requests: u64,
    pub errors: u64,
    /// Response times (errors without a response have none).
    pub histogram: Histogram<u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Self::with(new_histogram())
    }
}

impl Tally {
    fn with(histogram: Histogram<u64>) -> Self {
        Self {
            requests: 0,
            errors: 0,
            histogram,
        }
    }

    fn add(&mut self, is_error: bool, response_us: Option<u64>) {
        self.requests += 1;
        self.errors += u64::from(is_error);
        if let Some(us) = response_us {
            self.histogram.saturating_record(us);
        }
    }

    fn point(&self) -> PointStats {
        let q = Percentiles::of(&self.histogram);
        PointStats {
            requests: self.requests,
            errors: self.errors,
            p50_ms: q.p50_ms,
            p95_ms: q.p95_ms,
            p99_ms: q.p99_ms,
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
    all: Tally,
    tasks: Vec<Tally>,
}

impl OpenSecond {
    fn new(tasks: usize) -> Self {
        Self {
            users: 0,
            all: Tally::with(second_histogram()),
            tasks: (0..tasks)
                .map(|_| Tally::with(second_histogram()))
                .collect(),
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

/// Everything measured, handed on to the record.
#[derive(Debug, Clone)]
pub struct Collected {
    /// `[stage][task]`.
    pub cells: Vec<Vec<Tally>>,
    pub errors: BTreeMap<ErrorClass, u64>,
    pub error_samples: BTreeMap<ErrorClass, Vec<String>>,
    pub timeseries: Vec<Point>,
    pub users_max: Vec<u32>,
    pub dropped: Vec<u64>,
    /// Per stats row, over the whole run: the answered requests' phases.
    pub phases: Vec<PhaseTally>,
    /// Per stats row: its slowest requests in the steady stages, slowest first.
    pub slowest: Vec<Vec<Slow>>,
}

#[derive(Debug)]
pub struct Collector {
    tasks: usize,
    out: Collected,
    open: BTreeMap<u32, OpenSecond>,
    live: Arc<Mutex<Live>>,
    last_stage: usize,
    /// The live exposition (`--metrics-listen`), when asked for.
    export: Option<Box<dyn Watcher>>,
    /// Which stages are steady, and how many slow requests to keep per row.
    steady: Vec<bool>,
    keep_slowest: usize,
    slowest: Vec<Slowest>,
}

/// What the collector is told of the run before it starts.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Per stage: steady or not.
    pub steady: Vec<bool>,
    /// Stats rows.
    pub rows: usize,
    /// Slowest requests kept per row in the steady stages.
    pub slowest: usize,
}

impl Collector {
    pub fn new(shape: Shape, live: Arc<Mutex<Live>>, export: Option<Box<dyn Watcher>>) -> Self {
        let (stages, tasks) = (shape.steady.len(), shape.rows);
        Self {
            tasks,
            out: Collected {
                cells: (0..stages)
                    .map(|_| (0..tasks).map(|_| Tally::default()).collect())
                    .collect(),
                errors: BTreeMap::new(),
                error_samples: BTreeMap::new(),
                timeseries: Vec::new(),
                users_max: vec![0; stages],
                dropped: vec![0; stages],
                phases: (0..tasks).map(|_| PhaseTally::default()).collect(),
                slowest: Vec::new(),
            },
            open: BTreeMap::new(),
            live,
            last_stage: 0,
            export,
            steady: shape.steady,
            keep_slowest: shape.slowest,
            slowest: vec![Slowest::default(); tasks],
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
        let point = Point {
            t,
            users: s.users,
            all: s.all.point(),
            tasks: s.tasks.iter().map(Tally::point).collect(),
        };
        if let Ok(mut live) = self.live.lock() {
            live.elapsed = Duration::from_secs(u64::from(t) + 1);
            live.users = point.users;
            live.rps = point.all.requests as f64;
            live.p95_ms = point.all.p95_ms;
            live.stage = self.last_stage;
        }
        if let Some(e) = &mut self.export {
            e.second(&point, Some(self.last_stage), &self.out.cells);
        }
        self.out.timeseries.push(point);
    }

    pub fn add(&mut self, msg: Msg) {
        match msg {
            Msg::Sample(s) => self.add_sample(s),
            Msg::Users {
                at,
                stage,
                users,
                in_flight,
                arrivals,
            } => {
                if let Some(e) = &mut self.export {
                    e.tick(stage, users, in_flight, arrivals);
                }
                self.last_stage = stage;
                if let Some(m) = self.out.users_max.get_mut(stage) {
                    *m = (*m).max(users);
                }
                let sec = self.second(at.as_secs() as u32);
                sec.users = sec.users.max(users);
            }
            Msg::Dropped { stage } => {
                if let Some(e) = &mut self.export {
                    e.dropped(stage);
                }
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
        if has_response {
            if let Some(t) = self.out.phases.get_mut(s.task) {
                t.add(&s.phases);
            }
        }
        if let Some(e) = &mut self.export {
            let response_us = has_response.then_some(us);
            e.sample(
                s.stage,
                s.task,
                response_us,
                s.error.as_ref().map(|(c, _)| *c),
            );
        }
        if self.steady.get(s.stage).copied().unwrap_or(false) {
            if let Some(k) = self.slowest.get_mut(s.task) {
                k.offer(self.keep_slowest, &s);
            }
        }
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
        let response_us = has_response.then_some(us);
        cell.add(is_error, response_us);
        let task = s.task;
        let sec = self.second(s.done_at.as_secs() as u32);
        sec.all.add(is_error, response_us);
        sec.tasks[task].add(is_error, response_us);
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
        if let Some(e) = &mut self.export {
            e.finish(&self.out.cells);
        }
        self.out.slowest = std::mem::take(&mut self.slowest)
            .into_iter()
            .map(Slowest::sorted)
            .collect();
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
            phases: Phases::default(),
            error: error.map(|c| (c, format!("{c:?}"))),
            status: if error.is_some() { 500 } else { 200 },
            trace_id: u128::from(at_ms),
        })
    }

    #[test]
    fn cells_count_requests_errors_and_latencies() {
        let mut c = Collector::new(
            Shape {
                steady: vec![false, true],
                rows: 2,
                slowest: 1,
            },
            Arc::default(),
            None,
        );
        c.add(sample(0, 0, 100, 10, None));
        c.add(sample(0, 0, 200, 20, Some(ErrorClass::Status5xx)));
        c.add(sample(1, 1, 1500, 30, Some(ErrorClass::Timeout)));
        c.add(Msg::Users {
            at: Duration::from_millis(1200),
            stage: 1,
            users: 7,
            in_flight: 0,
            arrivals: 0,
        });
        let out = c.finish();
        assert_eq!(out.cells[0][0].requests, 2);
        assert_eq!(out.cells[0][0].errors, 1);
        // A 5xx has a response time; a timeout has none.
        assert_eq!(out.cells[0][0].histogram.len(), 2);
        assert_eq!(out.cells[1][1].histogram.len(), 0);
        assert_eq!(out.errors[&ErrorClass::Status5xx], 1);
        assert_eq!(out.users_max, [0, 7]);
        // Only the steady stage's requests are candidates for the slowest.
        assert_eq!(out.slowest[0], []);
        assert_eq!(out.slowest[1].len(), 1);
        assert_eq!(out.slowest[1][0].trace_id, 1500);
        assert_eq!(out.slowest[1][0].started_at, Duration::from_millis(1470));
        assert_eq!(out.timeseries.len(), 2);
        assert_eq!(out.timeseries[0].all.requests, 2);
        assert_eq!(out.timeseries[1].users, 7);
        assert_eq!(out.timeseries[1].tasks[1].errors, 1);
    }

    #[test]
    fn the_series_has_a_point_every_second_even_when_idle() {
        let mut c = Collector::new(
            Shape {
                steady: vec![true],
                rows: 1,
                slowest: 0,
            },
            Arc::default(),
            None,
        );
        c.add(sample(0, 0, 100, 1, None));
        c.add(sample(0, 0, 5100, 1, None));
        let out = c.finish();
        let ts: Vec<u32> = out.timeseries.iter().map(|p| p.t).collect();
        assert_eq!(ts, [0, 1, 2, 3, 4, 5]);
    }
}
