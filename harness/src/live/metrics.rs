//! The live exposition's metrics. In: the scenario's stages and rows when
//! a run begins ([`Families::handles`]), then each result from the
//! collector. Out: counters, gauges and histograms in a
//! `prometheus-client` registry, encoded as OpenMetrics text on each scrape.
//!
//! Counters and histograms only, never quantiles: series from several
//! shards add up in PromQL (`sum by (le) (...)`). Latency buckets grow by
//! [`BUCKET_FACTOR`] from [`FIRST_BUCKET_S`], so `histogram_quantile` lands
//! within one bucket (a quarter of the value) of the run's own percentile.

use std::collections::HashMap;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::load::client::ErrorClass;

/// The first latency bucket's upper bound, in seconds (0.5 ms).
pub const FIRST_BUCKET_S: f64 = 0.0005;
/// Each bucket's bound over the previous one's.
pub const BUCKET_FACTOR: f64 = 1.25;
/// Buckets (besides `+Inf`): 0.5 ms to about 107 s.
pub const BUCKETS: u16 = 56;

/// Labels of one row (task or step) in one stage.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RowLabels {
    pub scenario: String,
    pub stage: String,
    pub task: String,
    pub shard: String,
}

/// A row's labels with the error class.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub scenario: String,
    pub stage: String,
    pub task: String,
    pub class: String,
    pub shard: String,
}

/// Labels of one stage.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    pub scenario: String,
    pub stage: String,
    pub steady: String,
    pub shard: String,
}

fn error_labels(l: &RowLabels, class: ErrorClass) -> ErrorLabels {
    ErrorLabels {
        scenario: l.scenario.clone(),
        stage: l.stage.clone(),
        task: l.task.clone(),
        class: class.as_str().to_string(),
        shard: l.shard.clone(),
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(FIRST_BUCKET_S, BUCKET_FACTOR, BUCKETS))
}

type LatencyFamily = Family<RowLabels, Histogram, fn() -> Histogram>;

/// Every metric the harness exposes, registered once per process.
#[derive(Debug)]
pub struct Families {
    requests: Family<RowLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    latency: LatencyFamily,
    users: Family<StageLabels, Gauge>,
    in_flight: Family<StageLabels, Gauge>,
    arrivals: Family<StageLabels, Counter>,
    dropped: Family<StageLabels, Counter>,
    active: Family<StageLabels, Gauge>,
}

impl Families {
    /// The families, registered in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let f = Families {
            requests: Family::default(),
            errors: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            users: Family::default(),
            in_flight: Family::default(),
            arrivals: Family::default(),
            dropped: Family::default(),
            active: Family::default(),
        };
        registry.register(
            "harness_requests",
            "Requests finished (answered or failed), by the stage they started in",
            f.requests.clone(),
        );
        registry.register(
            "harness_errors",
            "Requests that failed, by error class",
            f.errors.clone(),
        );
        registry.register(
            "harness_request_duration_seconds",
            "Response time from the (intended) start to the body's end, of answered requests",
            f.latency.clone(),
        );
        registry.register(
            "harness_users",
            "Virtual users running (closed model)",
            f.users.clone(),
        );
        registry.register(
            "harness_in_flight",
            "Requests in flight (open model)",
            f.in_flight.clone(),
        );
        registry.register(
            "harness_arrivals",
            "Open-model arrivals due (sent or dropped)",
            f.arrivals.clone(),
        );
        registry.register(
            "harness_dropped",
            "Open-model arrivals not sent: max_in_flight requests were running",
            f.dropped.clone(),
        );
        registry.register(
            "harness_stage_active",
            "1 while the stage runs, else 0 (steady=\"true\" marks the SLOs' window)",
            f.active.clone(),
        );
        f
    }

    /// One run's handles, made once so that a result costs no lookup.
    pub fn handles(&self, run: &RunLabels) -> Handles {
        let mut rows = Vec::new();
        let mut stages = Vec::new();
        for (stage, steady) in &run.stages {
            let s = StageLabels {
                scenario: run.scenario.clone(),
                stage: stage.clone(),
                steady: steady.to_string(),
                shard: run.shard.clone(),
            };
            stages.push(StageHandles {
                users: self.users.get_or_create_owned(&s),
                in_flight: self.in_flight.get_or_create_owned(&s),
                arrivals: self.arrivals.get_or_create_owned(&s),
                dropped: self.dropped.get_or_create_owned(&s),
                active: self.active.get_or_create_owned(&s),
            });
            let row: Vec<RowHandles> = run
                .rows
                .iter()
                .map(|task| {
                    let l = RowLabels {
                        scenario: run.scenario.clone(),
                        stage: stage.clone(),
                        task: task.clone(),
                        shard: run.shard.clone(),
                    };
                    RowHandles {
                        requests: self.requests.get_or_create_owned(&l),
                        latency: self.latency.get_or_create_owned(&l),
                        labels: l,
                    }
                })
                .collect();
            rows.push(row);
        }
        // Every class's counter at zero from the start (Prometheus' advice
        // for labels known in advance): "no errors" reads 0, not "no data".
        let mut errors = HashMap::new();
        for (s, row) in rows.iter().enumerate() {
            for (r, h) in row.iter().enumerate() {
                for class in ErrorClass::ALL {
                    let counter = self
                        .errors
                        .get_or_create_owned(&error_labels(&h.labels, class));
                    errors.insert((s, r, class), counter);
                }
            }
        }
        Handles {
            rows,
            stages,
            errors,
            family: self.errors.clone(),
            current: None,
            arrivals_seen: 0,
        }
    }
}

/// What names a run's series.
#[derive(Debug, Clone)]
pub struct RunLabels {
    pub scenario: String,
    /// Each stage's name and whether it is steady.
    pub stages: Vec<(String, bool)>,
    /// Each stats row's name (task or step).
    pub rows: Vec<String>,
    /// `I/N`, or empty when the run is not sharded.
    pub shard: String,
}

#[derive(Debug)]
struct RowHandles {
    requests: Counter,
    latency: Histogram,
    labels: RowLabels,
}

#[derive(Debug)]
struct StageHandles {
    users: Gauge,
    in_flight: Gauge,
    arrivals: Counter,
    dropped: Counter,
    active: Gauge,
}

/// One run's series, owned by the collector: `[stage][row]`.
#[derive(Debug)]
pub struct Handles {
    rows: Vec<Vec<RowHandles>>,
    stages: Vec<StageHandles>,
    errors: HashMap<(usize, usize, ErrorClass), Counter>,
    family: Family<ErrorLabels, Counter>,
    current: Option<usize>,
    arrivals_seen: u64,
}

impl Handles {
    /// One finished request: its latency when answered, its error class when failed.
    pub fn sample(
        &mut self,
        stage: usize,
        row: usize,
        response_s: Option<f64>,
        error: Option<ErrorClass>,
    ) {
        let Some(h) = self.rows.get(stage).and_then(|r| r.get(row)) else {
            return;
        };
        h.requests.inc();
        if let Some(s) = response_s {
            h.latency.observe(s);
        }
        if let Some(class) = error {
            let family = &self.family;
            self.errors
                .entry((stage, row, class))
                .or_insert_with(|| family.get_or_create_owned(&error_labels(&h.labels, class)))
                .inc();
        }
    }

    /// The engine's tick: the stage running, its users or requests in
    /// flight, and the arrivals due so far in the whole run.
    pub fn tick(&mut self, stage: usize, users: u32, in_flight: u32, arrivals: u64) {
        if self.current != Some(stage) {
            if let Some(prev) = self.current.and_then(|p| self.stages.get(p)) {
                prev.active.set(0);
                prev.users.set(0);
                prev.in_flight.set(0);
            }
            self.current = Some(stage);
        }
        let Some(s) = self.stages.get(stage) else {
            return;
        };
        s.active.set(1);
        s.users.set(i64::from(users));
        s.in_flight.set(i64::from(in_flight));
        s.arrivals
            .inc_by(arrivals.saturating_sub(self.arrivals_seen));
        self.arrivals_seen = self.arrivals_seen.max(arrivals);
    }

    pub fn dropped(&self, stage: usize) {
        if let Some(s) = self.stages.get(stage) {
            s.dropped.inc();
        }
    }

    /// The run is over: no stage runs, nobody is in flight.
    pub fn finish(&mut self) {
        if let Some(prev) = self.current.take().and_then(|p| self.stages.get(p)) {
            prev.active.set(0);
            prev.users.set(0);
            prev.in_flight.set(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_reach_past_a_minute_and_stay_a_quarter_apart() {
        let b: Vec<f64> = exponential_buckets(FIRST_BUCKET_S, BUCKET_FACTOR, BUCKETS).collect();
        assert!((b[0] - 0.0005).abs() < 1e-12);
        assert!(*b.last().unwrap() > 60.0, "{}", b.last().unwrap());
        for w in b.windows(2) {
            assert!((w[1] / w[0] - 1.25).abs() < 1e-9);
        }
    }

    #[test]
    fn results_land_in_their_stage_and_row_and_errors_by_class() {
        let mut registry = Registry::default();
        let f = Families::register(&mut registry);
        let mut h = f.handles(&RunLabels {
            scenario: "s".into(),
            stages: vec![("warm".into(), false), ("steady".into(), true)],
            rows: vec!["read".into(), "write".into()],
            shard: String::new(),
        });
        h.tick(1, 7, 0, 0);
        h.sample(1, 0, Some(0.010), None);
        h.sample(1, 1, None, Some(ErrorClass::Timeout));
        h.sample(5, 5, Some(1.0), None); // out of range: ignored
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains(
            "harness_requests_total{scenario=\"s\",stage=\"steady\",task=\"read\",shard=\"\"} 1"
        ), "{text}");
        assert!(text.contains("harness_errors_total{scenario=\"s\",stage=\"steady\",task=\"write\",class=\"timeout\",shard=\"\"} 1"), "{text}");
        assert!(
            text.contains(
                "harness_users{scenario=\"s\",stage=\"steady\",steady=\"true\",shard=\"\"} 7"
            ),
            "{text}"
        );
        assert!(text.contains("harness_request_duration_seconds_count{scenario=\"s\",stage=\"steady\",task=\"read\",shard=\"\"} 1"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
