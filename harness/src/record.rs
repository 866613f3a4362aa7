//! The run record: the one interface between running and judging. JSON,
//! `schema_version: 1`, documented in `docs/run-record.md` and
//! `docs/run-record.schema.json`.
//!
//! Histograms travel as HdrHistogram V2 (base64), so records from several
//! runs or machines can be merged exactly ([`EncodedHistogram`]).

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::collector::{ms, new_histogram, Collected};
use crate::engine::RunOutput;
use crate::error::Error;
use crate::scenario::{Load, Requirement, Scenario};

pub const SCHEMA_VERSION: u32 = 1;

/// A histogram (microseconds) that serializes as base64 HdrHistogram V2.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedHistogram(pub Histogram<u64>);

impl EncodedHistogram {
    pub fn encode(&self) -> String {
        let mut buf = Vec::new();
        V2Serializer::new()
            .serialize(&self.0, &mut buf)
            .expect("serializing to memory does not fail");
        base64::engine::general_purpose::STANDARD.encode(buf)
    }

    pub fn decode(text: &str) -> Result<Self, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| format!("histogram is not base64: {e}"))?;
        let h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| format!("histogram is not HdrHistogram V2: {e:?}"))?;
        Ok(Self(h))
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &EncodedHistogram) {
        let _ = self.0.add(&other.0);
    }
}

impl Serialize for EncodedHistogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for EncodedHistogram {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::decode(&s).map_err(serde::de::Error::custom)
    }
}

/// Latency percentiles of a histogram, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: h.mean().round() / 1000.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub name: String,
    pub steady: bool,
    /// `closed` (users) or `open` (arrival rate).
    pub model: String,
    /// Target users at the stage's end (closed model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_users: Option<u32>,
    /// Target arrivals per second at the stage's end (open model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<f64>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_s: f64,
    /// Most users (closed) or requests in flight (open) seen.
    pub users_max: u32,
    /// Open-model arrivals not sent because `max_in_flight` were running.
    pub dropped: u64,
}

/// One task in one stage, or `name: "ALL"` for the whole stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub name: String,
    pub stage: String,
    pub requests: u64,
    pub errors: u64,
    pub rps: f64,
    #[serde(flatten)]
    pub latency: Percentiles,
    pub histogram: EncodedHistogram,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SteadyRecord {
    pub stages: Vec<String>,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub rps: f64,
    #[serde(flatten)]
    pub latency: Percentiles,
    pub histogram: EncodedHistogram,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloRecord {
    pub id: String,
    pub metric: String,
    pub op: String,
    pub bound: f64,
    pub observed: f64,
    pub passed: bool,
    pub stages: Vec<String>,
    pub task: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondRecord {
    /// Seconds since the run's start.
    pub t: u32,
    pub users: u32,
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// The same, per task name.
    pub tasks: BTreeMap<String, PointRecord>,
}

impl SloRecord {
    /// `p95 < 2000`, with ` (task)` when limited to one task.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {} {}", self.metric, self.op, self.bound);
        if let Some(t) = &self.task {
            s.push_str(&format!(" ({t})"));
        }
        s
    }
}

/// What a task sends: its method and path template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskTemplate {
    pub method: String,
    pub path: String,
}

/// A run, as written to disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema_version: u32,
    pub tool: Tool,
    pub scenario: String,
    pub requirement: Requirement,
    pub target: String,
    pub label: Option<String>,
    pub seed: u64,
    pub duration_scale: f64,
    pub started_at: String,
    pub ended_at: String,
    pub interrupted: bool,
    /// `pass` or `fail`.
    pub verdict: String,
    /// Each task's method and path template, by task name.
    #[serde(default)]
    pub task_templates: BTreeMap<String, TaskTemplate>,
    pub stages: Vec<StageRecord>,
    pub tasks: Vec<TaskRecord>,
    pub steady: SteadyRecord,
    pub slos: Vec<SloRecord>,
    pub errors: BTreeMap<String, u64>,
    pub error_samples: BTreeMap<String, Vec<String>>,
    pub timeseries: Vec<SecondRecord>,
    /// The server's own measurements, when the target reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<crate::server::ServerRecord>,
}

/// Who made the record and how.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub target: String,
    pub label: Option<String>,
    pub seed: u64,
    pub duration_scale: f64,
}

fn rate(requests: u64, seconds: f64) -> f64 {
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
    /// Builds the record (verdict and SLOs still empty: see `verdict`).
    pub fn build(scenario: &Scenario, meta: &RunMeta, run: &RunOutput) -> Self {
        let c: &Collected = &run.collected;
        let durations: Vec<f64> = run
            .stage_times
            .iter()
            .map(|t| {
                t.map_or(0.0, |(s, e)| {
                    (e - s).num_milliseconds().max(0) as f64 / 1000.0
                })
            })
            .collect();
        let stages = scenario
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (model, target_users, target_rate) = match s.load {
                    Load::Users { to, .. } => ("closed", Some(to), None),
                    Load::Rate { to, .. } => ("open", None, Some(to)),
                };
                StageRecord {
                    name: s.name.clone(),
                    steady: s.steady,
                    model: model.to_owned(),
                    target_users,
                    target_rate,
                    started_at: run.stage_times[i].map(|(s, _)| s.to_rfc3339()),
                    ended_at: run.stage_times[i].map(|(_, e)| e.to_rfc3339()),
                    duration_s: durations[i],
                    users_max: c.users_max[i],
                    dropped: c.dropped[i],
                }
            })
            .collect();

        let mut tasks = Vec::new();
        for (i, stage) in scenario.stages.iter().enumerate() {
            let mut all = new_histogram();
            let (mut requests, mut errors) = (0, 0);
            for (j, task) in scenario.tasks.iter().enumerate() {
                let cell = &c.cells[i][j];
                let _ = all.add(&cell.histogram);
                requests += cell.requests;
                errors += cell.errors;
                tasks.push(TaskRecord {
                    name: task.name.clone(),
                    stage: stage.name.clone(),
                    requests: cell.requests,
                    errors: cell.errors,
                    rps: rate(cell.requests, durations[i]),
                    latency: Percentiles::of(&cell.histogram),
                    histogram: EncodedHistogram(cell.histogram.clone()),
                });
            }
            tasks.push(TaskRecord {
                name: "ALL".to_owned(),
                stage: stage.name.clone(),
                requests,
                errors,
                rps: rate(requests, durations[i]),
                latency: Percentiles::of(&all),
                histogram: EncodedHistogram(all),
            });
        }

        let steady_idx: Vec<usize> = (0..scenario.stages.len())
            .filter(|&i| scenario.stages[i].steady)
            .collect();
        let mut steady_h = new_histogram();
        let (mut requests, mut errors, mut seconds) = (0, 0, 0.0);
        for &i in &steady_idx {
            for cell in &c.cells[i] {
                let _ = steady_h.add(&cell.histogram);
                requests += cell.requests;
                errors += cell.errors;
            }
            seconds += durations[i];
        }
        let steady = SteadyRecord {
            stages: steady_idx
                .iter()
                .map(|&i| scenario.stages[i].name.clone())
                .collect(),
            requests,
            errors,
            error_rate: if requests > 0 {
                errors as f64 / requests as f64
            } else {
                0.0
            },
            rps: rate(requests, seconds),
            latency: Percentiles::of(&steady_h),
            histogram: EncodedHistogram(steady_h),
        };

        let timeseries = c
            .timeseries
            .iter()
            .map(|p| SecondRecord {
                t: p.t,
                users: p.users,
                requests: p.all.requests,
                errors: p.all.errors,
                p50_ms: round3(p.all.p50_ms),
                p95_ms: round3(p.all.p95_ms),
                p99_ms: round3(p.all.p99_ms),
                tasks: scenario
                    .tasks
                    .iter()
                    .zip(&p.tasks)
                    .map(|(t, s)| {
                        (
                            t.name.clone(),
                            PointRecord {
                                requests: s.requests,
                                errors: s.errors,
                                p50_ms: round3(s.p50_ms),
                                p95_ms: round3(s.p95_ms),
                                p99_ms: round3(s.p99_ms),
                            },
                        )
                    })
                    .collect(),
            })
            .collect();

        RunRecord {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "harness".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
            },
            scenario: scenario.name.clone(),
            requirement: scenario.requirement.clone(),
            target: meta.target.clone(),
            label: meta.label.clone(),
            seed: meta.seed,
            duration_scale: meta.duration_scale,
            started_at: run.started_at.to_rfc3339(),
            ended_at: run.ended_at.to_rfc3339(),
            interrupted: run.interrupted,
            verdict: String::new(),
            task_templates: scenario
                .tasks
                .iter()
                .map(|t| {
                    (
                        t.name.clone(),
                        TaskTemplate {
                            method: t.method.to_string(),
                            path: t.path.source().to_owned(),
                        },
                    )
                })
                .collect(),
            stages,
            tasks,
            steady,
            slos: Vec::new(),
            errors: c
                .errors
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), *v))
                .collect(),
            error_samples: c
                .error_samples
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                .collect(),
            timeseries,
            server: None,
        }
    }

    /// The row of `task` (or `"ALL"`) in `stage`.
    pub fn task(&self, stage: &str, task: &str) -> Option<&TaskRecord> {
        self.tasks
            .iter()
            .find(|t| t.stage == stage && t.name == task)
    }

    /// A task's latency over the steady stages (their histograms merged).
    pub fn steady_task_percentiles(&self, task: &str) -> Percentiles {
        let mut h = new_histogram();
        for row in self
            .tasks
            .iter()
            .filter(|t| t.name == task && self.steady.stages.contains(&t.stage))
        {
            let _ = h.add(&row.histogram.0);
        }
        Percentiles::of(&h)
    }

    /// Task names in scenario order (without `ALL`).
    pub fn task_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for t in &self.tasks {
            if t.name != "ALL" && !names.contains(&t.name) {
                names.push(t.name.clone());
            }
        }
        names
    }

    pub fn write(&self, path: &Path) -> Result<(), Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Io(format!("cannot create {}: {e}", dir.display())))?;
        }
        let json = serde_json::to_vec_pretty(self).expect("a record always serializes");
        std::fs::write(path, json)
            .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
    }

    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("{}: not JSON: {e}", path.display())))?;
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(Error::Input(format!(
                    "{}: schema_version {v} is not supported (this harness reads {SCHEMA_VERSION})",
                    path.display()
                )))
            }
            None => {
                return Err(Error::Input(format!(
                    "{}: not a run record (no schema_version)",
                    path.display()
                )))
            }
        }
        serde_json::from_value(value).map_err(|e| Error::Input(format!("{}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_through_base64_v2_and_merge_exactly() {
        let mut a = new_histogram();
        let mut b = new_histogram();
        for v in 1..=10_000u64 {
            a.record(v * 7).unwrap();
            b.record(v * 13 + 5).unwrap();
        }
        let ea = EncodedHistogram::decode(&EncodedHistogram(a.clone()).encode()).unwrap();
        assert_eq!(ea.0, a);
        let mut merged = ea.clone();
        merged.merge(&EncodedHistogram(b.clone()));
        assert_eq!(merged.0.len(), a.len() + b.len());
        let mut direct = a.clone();
        direct.add(&b).unwrap();
        assert_eq!(merged.0, direct);
    }
}
