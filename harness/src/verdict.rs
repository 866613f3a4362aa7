//! The verdict: each SLO evaluated on the record (merged histograms of the
//! stages and task it applies to), and the run's pass or fail.

use crate::collector::new_histogram;
use crate::record::{Percentiles, RunRecord, SloRecord};
use crate::scenario::{Metric, Scenario};

/// The observed value of one metric over some stages and optionally one task.
pub fn observe(record: &RunRecord, metric: Metric, stages: &[String], task: Option<&str>) -> f64 {
    let rows = record
        .tasks
        .iter()
        .filter(|t| stages.contains(&t.stage))
        .filter(|t| match task {
            Some(name) => t.name == name,
            None => t.name == "ALL",
        });
    let mut h = new_histogram();
    let (mut requests, mut errors) = (0u64, 0u64);
    for row in rows {
        let _ = h.add(&row.histogram.0);
        requests += row.requests;
        errors += row.errors;
    }
    let seconds: f64 = record
        .stages
        .iter()
        .filter(|s| stages.contains(&s.name))
        .map(|s| s.duration_s)
        .sum();
    let p = Percentiles::of(&h);
    match metric {
        Metric::P50 => p.p50_ms,
        Metric::P95 => p.p95_ms,
        Metric::P99 => p.p99_ms,
        Metric::Max => p.max_ms,
        Metric::Errors => errors as f64,
        Metric::ErrorRate => {
            if requests == 0 {
                0.0
            } else {
                errors as f64 / requests as f64
            }
        }
        Metric::Rps => {
            if seconds > 0.0 {
                requests as f64 / seconds
            } else {
                0.0
            }
        }
    }
}

/// Fills `record.slos` and `record.verdict`; returns whether all SLOs pass.
pub fn judge(scenario: &Scenario, record: &mut RunRecord) -> bool {
    record.slos = scenario
        .slos
        .iter()
        .map(|slo| {
            let stages: Vec<String> = slo
                .stages
                .iter()
                .map(|&i| scenario.stages[i].name.clone())
                .collect();
            let task = slo.task.map(|i| scenario.tasks[i].name.clone());
            let observed = observe(record, slo.metric, &stages, task.as_deref());
            SloRecord {
                id: slo.id.clone(),
                metric: slo.metric.as_str().to_owned(),
                op: slo.op.as_str().to_owned(),
                bound: slo.bound,
                observed: (observed * 1000.0).round() / 1000.0,
                passed: slo.op.holds(observed, slo.bound),
                stages,
                task,
            }
        })
        .collect();
    let pass = record.slos.iter().all(|s| s.passed);
    record.verdict = if pass { "pass" } else { "fail" }.to_owned();
    pass
}
