//! One tool report to one run record. In: a [`ToolReport`] (another
//! tool's results through its adapter), the SLOs to judge it on, a label
//! and a start time. Out: a [`RunRecord`] (`schema_version` 2) with one
//! steady stage, `imported`: rows per request name and for all together,
//! histograms when the tool wrote every request (exact), else the
//! percentiles it reported (and only those), a time series when the tool
//! has one (per-request times, or Locust's history), and the verdict.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use hdrhistogram::Histogram;

use crate::adapters::{record_ms, reported_at, LoadModel, Sample, ToolReport};
use crate::histogram::{new_histogram, EncodedHistogram, Percentiles};
use crate::load::client::ErrorClass;
use crate::record::{
    verdict, Latency, LatencyBasis, Model, PointRecord, RunRecord, SecondRecord, SloSpec,
    SourceRecord, StageRecord, SteadyRecord, TaskName, TaskRecord, Tool, Verdict, SCHEMA_VERSION,
};
use crate::scenario::Requirement;

/// The one stage of an imported run.
pub const STAGE: &str = "imported";

/// What the record says beyond the report.
#[derive(Debug, Clone)]
pub struct Meta {
    pub label: Option<String>,
    pub files: Vec<String>,
    /// When the run started (the report's own time, or the file's).
    pub started_at: DateTime<Utc>,
    pub requirement: Requirement,
    /// SLOs, already limited to the `imported` stage.
    pub slos: Vec<SloSpec>,
    /// Notes from the import itself (where the start time came from, ...).
    pub notes: Vec<String>,
}

/// The record of an imported run, judged on `meta.slos`.
pub fn build(report: &ToolReport, meta: Meta) -> RunRecord {
    let per_request = report.latencies_ms.is_some();
    let duration_s = report
        .duration_s
        .or_else(|| report.intervals.last().map(|i| i.t_s))
        .unwrap_or(0.0);
    let ended_at = meta.started_at + Duration::milliseconds((duration_s * 1000.0) as i64);
    let stage = stage_of(report, meta.started_at, ended_at, duration_s);
    let tasks = if per_request {
        rows_of_samples(&report.samples, duration_s)
    } else {
        rows_of_summary(report, duration_s)
    };
    let all = tasks
        .last()
        .expect("the aggregate row is always there")
        .clone();
    let slos = verdict::evaluate(meta.slos, std::slice::from_ref(&stage), &tasks);
    let mut notes = report.notes.clone();
    notes.extend(meta.notes);
    if report.errors.is_none() {
        notes.push("the tool reports no error count: counted 0".into());
    }
    let (errors, error_samples) = errors_of(report);
    RunRecord {
        classes: Vec::new(),
        schema_version: SCHEMA_VERSION,
        source: SourceRecord {
            tool: report.tool,
            imported: true,
            files: meta.files,
            latency: if per_request {
                LatencyBasis::Histograms
            } else {
                LatencyBasis::ReportedPercentiles
            },
            notes,
        },
        tool: Tool {
            name: "harness".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        scenario: format!("imported-{}", report.tool),
        requirement: meta.requirement,
        target: "unknown".to_owned(),
        label: meta.label,
        seed: 0,
        shard: None,
        duration_scale: 1.0,
        started_at: meta.started_at.to_rfc3339(),
        ended_at: ended_at.to_rfc3339(),
        interrupted: false,
        verdict: Verdict::of(&slos),
        task_templates: BTreeMap::new(),
        steady: steady_of(&all),
        stages: vec![stage],
        tasks,
        slos,
        errors,
        error_samples,
        timeseries: if per_request {
            seconds_of_samples(&report.samples)
        } else {
            seconds_of_intervals(report)
        },
        server: None,
        capacity: None,
        connections: None,
        slowest: Vec::new(),
    }
}

/// The one stage, `imported`, steady, in the tool's load model.
fn stage_of(
    report: &ToolReport,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    duration_s: f64,
) -> StageRecord {
    StageRecord {
        name: STAGE.to_owned(),
        steady: true,
        model: match report.model {
            LoadModel::Open => Model::Open,
            LoadModel::Closed => Model::Closed,
        },
        target_users: None,
        target_rate: None,
        started_at: Some(started_at.to_rfc3339()),
        ended_at: Some(ended_at.to_rfc3339()),
        duration_s,
        users_max: report.intervals.iter().map(|i| i.users).max().unwrap_or(0) as u32,
        dropped: 0,
    }
}

/// The steady window: the one stage's `ALL` row.
fn steady_of(all: &TaskRecord) -> SteadyRecord {
    SteadyRecord {
        stages: vec![STAGE.to_owned()],
        requests: all.requests,
        errors: all.errors,
        error_rate: if all.requests > 0 {
            all.errors as f64 / all.requests as f64
        } else {
            0.0
        },
        rps: all.rps,
        latency: all.latency,
        histogram: all.histogram.clone(),
    }
}

fn rate(requests: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        (requests as f64 / seconds * 100.0).round() / 100.0
    } else {
        0.0
    }
}

fn row(name: TaskName, requests: u64, errors: u64, seconds: f64, h: Histogram<u64>) -> TaskRecord {
    TaskRecord {
        class: None,
        name,
        stage: STAGE.to_owned(),
        requests,
        errors,
        rps: rate(requests, seconds),
        latency: Latency::of(&h, requests, errors),
        histogram: Some(EncodedHistogram(h)),
    }
}

/// Requests, errors and latencies of a group of samples.
struct Cell {
    histogram: Histogram<u64>,
    requests: u64,
    errors: u64,
}

impl Cell {
    fn new() -> Self {
        Cell {
            histogram: new_histogram(),
            requests: 0,
            errors: 0,
        }
    }

    fn add(&mut self, s: &Sample) {
        record_ms(&mut self.histogram, s.latency_ms);
        self.requests += 1;
        self.errors += u64::from(!s.ok);
    }

    fn point(&self) -> PointRecord {
        point(&self.histogram, self.requests, self.errors)
    }
}

/// Per request name (in order of first appearance), then all together:
/// one pass over the samples.
fn rows_of_samples(samples: &[Sample], seconds: f64) -> Vec<TaskRecord> {
    let mut named: Vec<(&str, Cell)> = Vec::new();
    let mut all = Cell::new();
    for s in samples {
        all.add(s);
        let Some(name) = s.name.as_deref() else {
            continue;
        };
        match named.iter_mut().find(|(n, _)| *n == name) {
            Some((_, cell)) => cell.add(s),
            None => {
                let mut cell = Cell::new();
                cell.add(s);
                named.push((name, cell));
            }
        }
    }
    named
        .into_iter()
        .map(|(n, c)| (TaskName::Task(n.to_owned()), c))
        .chain([(TaskName::All, all)])
        .map(|(name, c)| row(name, c.requests, c.errors, seconds, c.histogram))
        .collect()
}

fn latency(percentiles: &[crate::adapters::Reported], mean_ms: Option<f64>) -> Latency {
    Latency {
        p50_ms: reported_at(percentiles, 0.5),
        p95_ms: reported_at(percentiles, 0.95),
        p99_ms: reported_at(percentiles, 0.99),
        max_ms: reported_at(percentiles, 1.0),
        mean_ms,
    }
}

/// The tool's per-name rows and its total, as it reported them.
fn rows_of_summary(report: &ToolReport, seconds: f64) -> Vec<TaskRecord> {
    let mut rows: Vec<TaskRecord> = report
        .names
        .iter()
        .filter(|n| n.requests.is_some())
        .map(|n| {
            let requests = n.requests.unwrap_or(0);
            TaskRecord {
                class: None,
                name: TaskName::Task(n.name.clone()),
                stage: STAGE.to_owned(),
                requests,
                errors: n.errors.unwrap_or(0),
                rps: rate(requests, seconds),
                latency: latency(&n.percentiles, n.mean_ms),
                histogram: None,
            }
        })
        .collect();
    let requests = report.requests.unwrap_or(0);
    rows.push(TaskRecord {
        class: None,
        name: TaskName::All,
        stage: STAGE.to_owned(),
        requests,
        errors: report.errors.unwrap_or(0),
        rps: rate(requests, seconds),
        latency: latency(&report.percentiles, report.mean_ms),
        histogram: None,
    });
    rows
}

/// The tool's error kinds in the harness's classes, each class's samples
/// naming the tool's own kinds.
fn errors_of(
    report: &ToolReport,
) -> (BTreeMap<ErrorClass, u64>, BTreeMap<ErrorClass, Vec<String>>) {
    let mut counts: BTreeMap<ErrorClass, u64> = BTreeMap::new();
    let mut samples: BTreeMap<ErrorClass, Vec<String>> = BTreeMap::new();
    for (kind, n) in &report.error_kinds {
        let class = class_of(kind);
        *counts.entry(class).or_default() += n;
        samples
            .entry(class)
            .or_default()
            .push(format!("{}: {kind} x{n}", report.tool));
    }
    (counts, samples)
}

/// `status_503` → 5xx, `timeout` → timeout, `connect` → connect, ...
fn class_of(kind: &str) -> ErrorClass {
    match kind
        .strip_prefix("status_")
        .and_then(|c| c.parse::<u16>().ok())
    {
        Some(400..=499) => ErrorClass::Status4xx,
        Some(500..=599) => ErrorClass::Status5xx,
        Some(_) => ErrorClass::StatusOther,
        None if kind.contains("timeout") => ErrorClass::Timeout,
        None if kind.contains("connect") => ErrorClass::Connect,
        None => ErrorClass::Request,
    }
}

fn point(h: &Histogram<u64>, requests: u64, errors: u64) -> PointRecord {
    let p = Percentiles::of(h);
    let some = |v: f64| (!h.is_empty()).then_some(v);
    PointRecord {
        requests,
        errors,
        p50_ms: some(p.p50_ms),
        p95_ms: some(p.p95_ms),
        p99_ms: some(p.p99_ms),
    }
}

/// One row per second of the run, by each request's start.
fn seconds_of_samples(samples: &[Sample]) -> Vec<SecondRecord> {
    let mut by_second: BTreeMap<u32, (Cell, BTreeMap<&str, Cell>)> = BTreeMap::new();
    for s in samples {
        let Some(offset) = s.offset_s else {
            continue;
        };
        let t = offset.max(0.0).floor() as u32 + 1;
        let (all, tasks) = by_second
            .entry(t)
            .or_insert_with(|| (Cell::new(), BTreeMap::new()));
        all.add(s);
        if let Some(name) = s.name.as_deref() {
            tasks.entry(name).or_insert_with(Cell::new).add(s);
        }
    }
    by_second
        .into_iter()
        .map(|(t, (all, tasks))| SecondRecord {
            t,
            users: 0,
            all: all.point(),
            tasks: tasks
                .into_iter()
                .map(|(n, c)| (n.to_owned(), c.point()))
                .collect(),
        })
        .collect()
}

/// The tool's own intervals (Locust's history), as it reported them.
fn seconds_of_intervals(report: &ToolReport) -> Vec<SecondRecord> {
    report
        .intervals
        .iter()
        .map(|i| SecondRecord {
            t: i.t_s.max(0.0).round() as u32,
            users: i.users as u32,
            all: PointRecord {
                requests: i.requests,
                errors: i.errors,
                p50_ms: reported_at(&i.percentiles, 0.5),
                p95_ms: reported_at(&i.percentiles, 0.95),
                p99_ms: reported_at(&i.percentiles, 0.99),
            },
            tasks: BTreeMap::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_error_kinds_fall_into_the_harness_classes() {
        assert_eq!(class_of("status_503"), ErrorClass::Status5xx);
        assert_eq!(class_of("status_404"), ErrorClass::Status4xx);
        assert_eq!(class_of("status_302"), ErrorClass::StatusOther);
        assert_eq!(class_of("timeout"), ErrorClass::Timeout);
        assert_eq!(class_of("connect"), ErrorClass::Connect);
        assert_eq!(class_of("no_response"), ErrorClass::Request);
        assert_eq!(class_of("http_req_failed"), ErrorClass::Request);
    }
}
