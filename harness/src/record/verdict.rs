//! The verdict. In: SLO specs and a record's stage and task rows (fresh, or
//! read from disk). Out: each SLO's observed value and result, and the
//! run's [`Verdict`]: pass when every SLO holds; for a capacity search's
//! record, pass when the capacity derived from them meets its requirement.

use crate::record::capacity::CapacityRecord;
use crate::record::latency::latency_of;
use crate::record::{RunRecord, SloRecord, SloSpec, StageRecord, TaskRecord, Verdict};
use crate::scenario::Metric;

/// A record judged again.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub slos: Vec<SloRecord>,
    pub verdict: Verdict,
    /// A capacity search's section, derived again from `slos`.
    pub capacity: Option<CapacityRecord>,
}

/// Judges a record on its own SLOs, from its histograms and counts: a
/// record read from disk is judged as the run that made it was.
pub fn judge(record: &RunRecord) -> Judgement {
    let specs = record.slos.iter().map(|s| s.spec.clone());
    let slos = evaluate(specs, &record.stages, &record.tasks);
    let capacity = record.capacity.as_ref().map(|c| c.rejudged(&slos));
    let verdict = match &capacity {
        Some(c) if c.met => Verdict::Pass,
        Some(_) => Verdict::Fail,
        None => Verdict::of(&slos),
    };
    Judgement {
        verdict,
        slos,
        capacity,
    }
}

/// Each SLO observed over its stages (and task) and compared with its bound.
pub fn evaluate(
    specs: impl IntoIterator<Item = SloSpec>,
    stages: &[StageRecord],
    tasks: &[TaskRecord],
) -> Vec<SloRecord> {
    specs
        .into_iter()
        .map(|spec| {
            let observed = observe(stages, tasks, &spec);
            SloRecord {
                observed: observed.map(|o| (o * 1000.0).round() / 1000.0),
                passed: observed.is_some_and(|o| spec.op.holds(o, spec.bound)),
                spec,
            }
        })
        .collect()
}

/// The observed value of one SLO's metric over its stages and task (or
/// all tasks together); `None` when the record cannot say (a percentile
/// its source did not report, a rate over a stage of unknown length).
pub fn observe(stages: &[StageRecord], tasks: &[TaskRecord], spec: &SloSpec) -> Option<f64> {
    let rows: Vec<&TaskRecord> = tasks
        .iter()
        .filter(|t| spec.stages.contains(&t.stage) && selects(spec, t))
        .collect();
    let requests: u64 = rows.iter().map(|r| r.requests).sum();
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    let seconds: f64 = stages
        .iter()
        .filter(|s| spec.stages.contains(&s.name))
        .map(|s| s.duration_s)
        .sum();
    match spec.metric {
        Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max => latency_of(&rows).get(spec.metric),
        Metric::Errors => Some(errors as f64),
        Metric::ErrorRate => Some(ratio(errors as f64, requests as f64)),
        Metric::Rps if seconds > 0.0 || requests == 0 => Some(ratio(requests as f64, seconds)),
        Metric::Rps => None,
    }
}

/// Whether `row` is one an SLO reads: its task's (or the aggregate's),
/// or, for an SLO naming a class, that class's task, or all its rows.
fn selects(spec: &SloSpec, row: &TaskRecord) -> bool {
    match &spec.class {
        None => row.name.is(spec.task.as_deref()),
        Some(class) => {
            row.class.as_ref() == Some(class)
                && spec.task.as_ref().is_none_or(|t| row.name.is(Some(t)))
        }
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}
