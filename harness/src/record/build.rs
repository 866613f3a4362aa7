//! A run's measurements to a record. In: the (scaled) scenario, who ran it
//! ([`RunMeta`]), the engine's [`RunOutput`] and the server's truth. Out: a
//! complete [`RunRecord`], its SLOs judged before it is made.

use crate::histogram::{merged, EncodedHistogram};
use crate::load::collector::Collected;
use crate::load::engine::RunOutput;
use crate::record::{
    verdict, ClassRecord, Latency, Model, PointRecord, RunRecord, SecondRecord, SourceRecord,
    StageRecord, SteadyRecord, TaskName, TaskRecord, TaskTemplate, Tool, Verdict, SCHEMA_VERSION,
};
use crate::scenario::{Load, Scenario, Share};
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

/// Whether the run's target is `https://`.
fn is_https(target: &str) -> bool {
    target
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("https://")
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
                .all_steps()
                .map(|t| {
                    let template = TaskTemplate {
                        method: t.method.to_string(),
                        path: t.path.source().to_owned(),
                    };
                    (t.name.clone(), template)
                })
                .collect(),
            classes: class_records(scenario, &tasks, &stages),
            stages,
            tasks,
            steady,
            slos,
            errors: c.errors.clone(),
            error_samples: c.error_samples.clone(),
            timeseries: timeseries(scenario, c),
            server,
            capacity: None,
            connections: Some(crate::record::connections::ConnectionsRecord::build(
                scenario,
                &scenario.transport,
                is_https(&meta.target),
                &run.connections,
                &c.phases,
            )),
            slowest: crate::record::slowest::build(scenario, &c.slowest, run.started_at),
        }
    }
}

/// Each declared class's share, rows and steady window (none for a
/// scenario without classes).
fn class_records(
    scenario: &Scenario,
    rows: &[TaskRecord],
    stages: &[StageRecord],
) -> Vec<ClassRecord> {
    let mut classes: Vec<ClassRecord> = scenario
        .classes
        .iter()
        .filter(|c| c.declared)
        .map(|c| {
            let (weight, count) = match c.share {
                Share::Weight(w) => (Some(w), None),
                Share::Count(n) => (None, Some(n)),
            };
            ClassRecord {
                name: c.name.clone(),
                weight,
                count,
                target: c.target.clone(),
                tasks: c
                    .tasks
                    .iter()
                    .flat_map(|t| &t.steps)
                    .map(|s| s.name.clone())
                    .collect(),
                steady: SteadyRecord::of(Vec::new(), 0, 0, 0.0, None),
            }
        })
        .collect();
    restate_classes(&mut classes, rows, stages);
    classes
}

/// Each class's steady window from the rows (a fresh record's, or rows
/// merged or joined from several).
pub(crate) fn restate_classes(
    classes: &mut [ClassRecord],
    rows: &[TaskRecord],
    stages: &[StageRecord],
) {
    let steady: Vec<&StageRecord> = stages.iter().filter(|s| s.steady).collect();
    let seconds: f64 = steady.iter().map(|s| s.duration_s).sum();
    for c in classes {
        let mine: Vec<&TaskRecord> = rows
            .iter()
            .filter(|r| r.class.as_deref() == Some(c.name.as_str()))
            .filter(|r| steady.iter().any(|s| s.name == r.stage))
            .collect();
        let histogram = mine.iter().all(|r| r.histogram.is_some()).then(|| {
            merged(
                mine.iter()
                    .filter_map(|r| r.histogram.as_ref().map(|h| &h.0)),
            )
        });
        c.steady = SteadyRecord::of(
            steady.iter().map(|s| s.name.clone()).collect(),
            mine.iter().map(|r| r.requests).sum(),
            mine.iter().map(|r| r.errors).sum(),
            seconds,
            histogram,
        );
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
        let row = |name: TaskName, class: Option<&str>, requests: u64, errors: u64, histogram| {
            TaskRecord {
                name,
                class: class.map(str::to_owned),
                stage: stage.name.clone(),
                requests,
                errors,
                rps: rate(requests, stage.duration_s),
                latency: Latency::of(&histogram, requests, errors),
                histogram: Some(EncodedHistogram(histogram)),
            }
        };
        let cells = &c.cells[i];
        for (entry, cell) in scenario.entries().into_iter().zip(cells) {
            let name = TaskName::Task(entry.name.to_owned());
            let class = &scenario.classes[entry.class];
            rows.push(row(
                name,
                class.declared.then_some(class.name.as_str()),
                cell.requests,
                cell.errors,
                cell.histogram.clone(),
            ));
        }
        let requests = cells.iter().map(|t| t.requests).sum();
        let errors = cells.iter().map(|t| t.errors).sum();
        let all = merged(cells.iter().map(|t| &t.histogram));
        rows.push(row(TaskName::All, None, requests, errors, all));
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
                .map(|h| Latency::of(h, requests, errors))
                .unwrap_or_default(),
            histogram: histogram.map(EncodedHistogram),
        }
    }
}

fn timeseries(scenario: &Scenario, c: &Collected) -> Vec<SecondRecord> {
    let point = |s: &crate::load::collector::PointStats| {
        // A second in which no request succeeded has no latency.
        let answered = s.errors < s.requests;
        let ms = |v: f64| answered.then(|| round3(v));
        PointRecord {
            requests: s.requests,
            errors: s.errors,
            p50_ms: ms(s.p50_ms),
            p95_ms: ms(s.p95_ms),
            p99_ms: ms(s.p99_ms),
        }
    };
    c.timeseries
        .iter()
        .map(|p| SecondRecord {
            t: p.t,
            users: p.users,
            all: point(&p.all),
            tasks: scenario
                .entries()
                .iter()
                .zip(&p.tasks)
                .map(|(e, s)| (e.name.to_owned(), point(s)))
                .collect(),
        })
        .collect()
}
