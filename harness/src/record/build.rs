//! A run's measurements to a record. In: the (scaled) scenario, who ran it
//! ([`RunMeta`]), the engine's [`RunOutput`] and the server's truth. Out: a
//! complete [`RunRecord`], its SLOs judged before it is made.

use crate::histogram::{merged, EncodedHistogram, Percentiles};
use crate::load::collector::Collected;
use crate::load::engine::RunOutput;
use crate::record::{
    verdict, Model, PointRecord, RunRecord, SecondRecord, SourceRecord, StageRecord, SteadyRecord,
    TaskName, TaskRecord, TaskTemplate, Tool, Verdict, SCHEMA_VERSION,
};
use crate::scenario::{Load, Scenario};
use crate::server::ServerRecord;

/// Who made the record and how.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub target: String,
    pub label: Option<String>,
    pub seed: u64,
    pub duration_scale: f64,
    /// The part of a sharded run this is.
    pub shard: Option<crate::record::Shard>,
}

/// Requests per second, to two decimals (0 over no time).
pub(crate) fn rate(requests: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        (requests as f64 / seconds * 100.0).round() / 100.0
    } else {
        0.0
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl RunRecord {
    /// The record of a run, complete: rows, steady window, time series,
    /// the server's truth, and the SLOs judged on all of it.
    pub fn build(
        scenario: &Scenario,
        meta: &RunMeta,
        run: &RunOutput,
        server: Option<ServerRecord>,
    ) -> Self {
        let stages = stage_records(scenario, run);
        let tasks = task_records(scenario, &run.collected, &stages);
        let steady = steady_record(&run.collected, &stages);
        let slos = verdict::evaluate(scenario.slos.iter().cloned(), &stages, &tasks);
        let c = &run.collected;
        RunRecord {
            schema_version: SCHEMA_VERSION,
            source: SourceRecord::default(),
            tool: Tool {
                name: "harness".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
            },
            scenario: scenario.name.clone(),
            requirement: scenario.requirement.clone(),
            target: meta.target.clone(),
            label: meta.label.clone(),
            seed: meta.seed,
            shard: meta.shard,
            duration_scale: meta.duration_scale,
            started_at: run.started_at.to_rfc3339(),
            ended_at: run.ended_at.to_rfc3339(),
            interrupted: run.interrupted,
            verdict: Verdict::of(&slos),
            task_templates: scenario
                .tasks
                .iter()
                .map(|t| {
                    let template = TaskTemplate {
                        method: t.method.to_string(),
                        path: t.path.source().to_owned(),
                    };
                    (t.name.clone(), template)
                })
                .collect(),
            stages,
            tasks,
            steady,
            slos,
            errors: c.errors.clone(),
            error_samples: c.error_samples.clone(),
            timeseries: timeseries(scenario, c),
            server,
            capacity: None,
        }
    }
}

fn stage_records(scenario: &Scenario, run: &RunOutput) -> Vec<StageRecord> {
    let c = &run.collected;
    scenario
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (model, target_users, target_rate) = match s.load {
                Load::Users { to, .. } => (Model::Closed, Some(to), None),
                Load::Rate { to, .. } => (Model::Open, None, Some(to)),
            };
            let times = run.stage_times[i];
            StageRecord {
                name: s.name.clone(),
                steady: s.steady,
                model,
                target_users,
                target_rate,
                started_at: times.map(|(s, _)| s.to_rfc3339()),
                ended_at: times.map(|(_, e)| e.to_rfc3339()),
                duration_s: times.map_or(0.0, |(s, e)| {
                    (e - s).num_milliseconds().max(0) as f64 / 1000.0
                }),
                users_max: c.users_max[i],
                dropped: c.dropped[i],
            }
        })
        .collect()
}

/// One row per task per stage, then the stage's aggregate.
fn task_records(scenario: &Scenario, c: &Collected, stages: &[StageRecord]) -> Vec<TaskRecord> {
    let mut rows = Vec::new();
    for (i, stage) in stages.iter().enumerate() {
        let row = |name: TaskName, requests: u64, errors: u64, histogram| TaskRecord {
            name,
            stage: stage.name.clone(),
            requests,
            errors,
            rps: rate(requests, stage.duration_s),
            latency: Percentiles::of(&histogram).into(),
            histogram: Some(EncodedHistogram(histogram)),
        };
        let cells = &c.cells[i];
        for (task, cell) in scenario.tasks.iter().zip(cells) {
            let name = TaskName::Task(task.name.clone());
            rows.push(row(
                name,
                cell.requests,
                cell.errors,
                cell.histogram.clone(),
            ));
        }
        let requests = cells.iter().map(|t| t.requests).sum();
        let errors = cells.iter().map(|t| t.errors).sum();
        let all = merged(cells.iter().map(|t| &t.histogram));
        rows.push(row(TaskName::All, requests, errors, all));
    }
    rows
}

fn steady_record(c: &Collected, stages: &[StageRecord]) -> SteadyRecord {
    let steady: Vec<usize> = (0..stages.len()).filter(|&i| stages[i].steady).collect();
    let cells = || steady.iter().flat_map(|&i| &c.cells[i]);
    let requests: u64 = cells().map(|t| t.requests).sum();
    let errors: u64 = cells().map(|t| t.errors).sum();
    let seconds: f64 = steady.iter().map(|&i| stages[i].duration_s).sum();
    let histogram = merged(cells().map(|t| &t.histogram));
    let names = steady.iter().map(|&i| stages[i].name.clone()).collect();
    SteadyRecord::of(names, requests, errors, seconds, Some(histogram))
}

impl SteadyRecord {
    /// The steady window from its counts, length and histogram (`None`: a
    /// source without histograms).
    pub(crate) fn of(
        stages: Vec<String>,
        requests: u64,
        errors: u64,
        seconds: f64,
        histogram: Option<hdrhistogram::Histogram<u64>>,
    ) -> Self {
        SteadyRecord {
            stages,
            requests,
            errors,
            error_rate: if requests > 0 {
                errors as f64 / requests as f64
            } else {
                0.0
            },
            rps: rate(requests, seconds),
            latency: histogram
                .as_ref()
                .map(|h| Percentiles::of(h).into())
                .unwrap_or_default(),
            histogram: histogram.map(EncodedHistogram),
        }
    }
}

fn timeseries(scenario: &Scenario, c: &Collected) -> Vec<SecondRecord> {
    let point = |s: &crate::load::collector::PointStats| PointRecord {
        requests: s.requests,
        errors: s.errors,
        p50_ms: Some(round3(s.p50_ms)),
        p95_ms: Some(round3(s.p95_ms)),
        p99_ms: Some(round3(s.p99_ms)),
    };
    c.timeseries
        .iter()
        .map(|p| SecondRecord {
            t: p.t,
            users: p.users,
            all: point(&p.all),
            tasks: scenario
                .tasks
                .iter()
                .zip(&p.tasks)
                .map(|(t, s)| (t.name.clone(), point(s)))
                .collect(),
        })
        .collect()
}
