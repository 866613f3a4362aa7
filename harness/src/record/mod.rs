//! The run record: the one interface between running and judging. In: what
//! a run measured ([`build`]) or a file on disk ([`RunRecord::read`]). Out:
//! JSON with `schema_version: 8`, documented in `docs/run-record.md` and
//! `docs/run-record.schema.json`.
//!
//! A record is built once, complete: the server's truth and the verdict are
//! in it when it is made. It carries its SLOs and every histogram (base64
//! HdrHistogram V2), so [`verdict::judge`] works on a record read from disk
//! as well as on a fresh one, and records merge exactly.
//!
//! - [`build`]: a run's measurements → a record.
//! - [`verdict`]: SLOs evaluated on a record's histograms and counts.
//! - [`capacity`]: the section a capacity search adds.
//! - [`merge`]: the shards of one run as one record.

pub mod build;
pub mod capacity;
pub mod connections;
pub mod latency;
pub mod merge;
pub mod slowest;
pub mod verdict;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
pub use crate::histogram::{EncodedHistogram, Percentiles};
use crate::load::client::ErrorClass;
use crate::scenario::{Metric, Requirement, AGGREGATE};
use crate::server::ServerRecord;
pub use build::RunMeta;
pub use latency::{Latency, LatencyBasis, SourceRecord};

pub const SCHEMA_VERSION: u32 = 8;
/// Every version this harness reads (a v1 record is a v2 record measured
/// by the harness itself, with every histogram and percentile present; a
/// v2 record is a v3 record without a `capacity` section; a v3 record is a
/// v4 record of a scenario without user classes; a v4 record is a v5
/// record whose verdict is never `not_judged` and whose server windows
/// have no `no_response` or `notes`; a v5 record is a v6 record without
/// a `connections` section; a v6 record is a v7 record whose
/// `connections.engine` is `hyper`).
pub const READABLE_VERSIONS: [u32; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

/// What the SLOs say of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every SLO held.
    Pass,
    /// An SLO did not hold (or could not be shown to).
    Fail,
    /// The run had no SLOs: nothing was judged (v5).
    NotJudged,
}

impl Verdict {
    /// `Pass` when every SLO passed, `Fail` when one did not,
    /// `NotJudged` when there are none.
    pub fn of(slos: &[SloRecord]) -> Self {
        match slos {
            [] => Verdict::NotJudged,
            _ if slos.iter().all(|s| s.passed) => Verdict::Pass,
            _ => Verdict::Fail,
        }
    }

    pub fn passed(self) -> bool {
        self == Verdict::Pass
    }

    /// The process exit code for this verdict: 0 pass (or nothing to
    /// judge), 1 fail.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Pass | Verdict::NotJudged => 0,
            Verdict::Fail => 1,
        }
    }

    /// As the summary's last line says it: `PASS`, `FAIL`, `NOT JUDGED
    /// (no SLOs)`.
    pub fn headline(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::NotJudged => "NOT JUDGED (no SLOs)",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotJudged => "not judged",
        })
    }
}

/// How a stage drives load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Virtual users.
    Closed,
    /// An arrival rate.
    Open,
}

/// A row's task: one of the scenario's, or every task together (written
/// as [`AGGREGATE`], `"ALL"`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskName {
    All,
    Task(String),
}

impl TaskName {
    /// The task's own name, `None` for the aggregate.
    pub fn task(&self) -> Option<&str> {
        match self {
            TaskName::All => None,
            TaskName::Task(name) => Some(name),
        }
    }

    pub fn as_str(&self) -> &str {
        self.task().unwrap_or(AGGREGATE)
    }

    /// Whether this row is `task` (`None`: the aggregate).
    pub fn is(&self, task: Option<&str>) -> bool {
        self.task() == task
    }
}

impl fmt::Display for TaskName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that tables can align it.
        f.pad(self.as_str())
    }
}

impl Serialize for TaskName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TaskName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(if s == AGGREGATE {
            TaskName::All
        } else {
            TaskName::Task(s)
        })
    }
}

/// Shard `index` (1-based) of `total` (`harness run --shard I/N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub total: u32,
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
    pub model: Model,
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

/// One task in one stage, or every task together ([`TaskName::All`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub name: TaskName,
    /// The user class whose task (or step) it is, when the scenario
    /// declares classes (v4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    pub stage: String,
    pub requests: u64,
    pub errors: u64,
    pub rps: f64,
    #[serde(flatten)]
    pub latency: Latency,
    /// Every response's latency; absent when the source reported only
    /// percentiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<EncodedHistogram>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SteadyRecord {
    pub stages: Vec<String>,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub rps: f64,
    #[serde(flatten)]
    pub latency: Latency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<EncodedHistogram>,
}

/// A user class: its share, its rows, and its steady window (v4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassRecord {
    pub name: String,
    /// Its share of each stage's users or arrivals, by weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// Its fixed number of users (closed model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Where its users sent requests, when not the run's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Its rows' names (tasks and steps), in order.
    pub tasks: Vec<String>,
    /// Its requests over the steady stages.
    pub steady: SteadyRecord,
}

/// An SLO as records carry it: the scenario's, with stages and task by name.
pub use crate::scenario::Slo as SloSpec;

/// An SLO and what was observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloRecord {
    #[serde(flatten)]
    pub spec: SloSpec,
    /// `None` when the record's source does not report the metric (the
    /// SLO then fails: it cannot be shown to hold).
    pub observed: Option<f64>,
    pub passed: bool,
}

impl SloRecord {
    pub fn describe(&self) -> String {
        self.spec.describe()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    pub requests: u64,
    pub errors: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondRecord {
    /// Seconds since the run's start.
    pub t: u32,
    pub users: u32,
    /// Every task together: requests, errors and the second's percentiles
    /// (absent when the source did not report them).
    #[serde(flatten)]
    pub all: PointRecord,
    /// The same, per task name.
    pub tasks: BTreeMap<String, PointRecord>,
}

/// What a task sends: its method and path template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskTemplate {
    pub method: String,
    pub path: String,
}

/// One task's client latency beside its server route's, steady window.
#[derive(Debug, Clone)]
pub struct ClientVsServer<'a> {
    pub task: String,
    pub client: Latency,
    /// The route's name and window; `None` when no route matches.
    pub route: Option<(&'a str, &'a crate::server::RouteWindow)>,
}

/// A run, as written to disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema_version: u32,
    pub tool: Tool,
    /// What measured the run and how much of it the record holds: the
    /// harness itself, or another tool's results brought in by `import`
    /// (absent in v1 records: the harness).
    #[serde(default)]
    pub source: SourceRecord,
    pub scenario: String,
    pub requirement: Requirement,
    pub target: String,
    pub label: Option<String>,
    /// The run's seed (a shard draws from its own stream derived from it).
    pub seed: u64,
    /// Which part of a sharded run this is (v3; absent: the whole run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    pub duration_scale: f64,
    pub started_at: String,
    pub ended_at: String,
    pub interrupted: bool,
    pub verdict: Verdict,
    /// Each task's method and path template, by task name.
    #[serde(default)]
    pub task_templates: BTreeMap<String, TaskTemplate>,
    pub stages: Vec<StageRecord>,
    pub tasks: Vec<TaskRecord>,
    pub steady: SteadyRecord,
    pub slos: Vec<SloRecord>,
    pub errors: BTreeMap<ErrorClass, u64>,
    pub error_samples: BTreeMap<ErrorClass, Vec<String>>,
    pub timeseries: Vec<SecondRecord>,
    /// The server's own measurements, when the target reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerRecord>,
    /// How `harness capacity` stepped the load and what it found (v3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<capacity::CapacityRecord>,
    /// The scenario's user classes, when it declares them (v4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassRecord>,
    /// How the harness connected and where each task's time went (v6;
    /// absent in imports of other tools' results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<connections::ConnectionsRecord>,
    /// Each task's slowest requests of the steady window, with their
    /// trace ids (v8; absent before, and in imports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slowest: Vec<slowest::SlowRequest>,
}

impl RunRecord {
    /// The row of `task` (`None`: every task together) in `stage`.
    pub fn task(&self, stage: &str, task: Option<&str>) -> Option<&TaskRecord> {
        self.tasks
            .iter()
            .find(|t| t.stage == stage && t.name.is(task))
    }

    /// Requests over the whole run, every stage's `ALL` row together.
    pub fn requests(&self) -> u64 {
        self.tasks
            .iter()
            .filter(|t| t.name == TaskName::All)
            .map(|t| t.requests)
            .sum()
    }

    /// Whether the stage named `stage` is steady.
    pub fn is_steady(&self, stage: &str) -> bool {
        self.stages.iter().any(|s| s.name == stage && s.steady)
    }

    /// A task's latency over the steady stages: their histograms merged,
    /// or the one row's reported figures when there are no histograms.
    pub fn steady_task_latency(&self, task: &str) -> Latency {
        let rows: Vec<&TaskRecord> = self
            .tasks
            .iter()
            .filter(|t| t.name.is(Some(task)) && self.steady.stages.contains(&t.stage))
            .collect();
        latency::latency_of(&rows)
    }

    /// Task names in scenario order (without the aggregate).
    pub fn task_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for t in self.tasks.iter().filter_map(|t| t.name.task()) {
            if !names.iter().any(|n| n == t) {
                names.push(t.to_owned());
            }
        }
        names
    }

    /// Per task, the client's steady percentiles beside the server route
    /// that served it (same method, matching path pattern), if any.
    pub fn client_vs_server(&self) -> Vec<ClientVsServer<'_>> {
        let Some(server) = &self.server else {
            return Vec::new();
        };
        self.task_names()
            .into_iter()
            .filter_map(|task| {
                let template = self.task_templates.get(&task)?;
                let route = crate::server::route_for(server, &template.method, &template.path);
                Some(ClientVsServer {
                    client: self.steady_task_latency(&task),
                    task,
                    route,
                })
            })
            .collect()
    }

    /// The bound of the record's first p95 SLO, if it has one.
    pub fn p95_bound(&self) -> Option<f64> {
        self.slos
            .iter()
            .find(|s| s.spec.metric == Metric::P95)
            .map(|s| s.spec.bound)
    }

    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(self).expect("a record always serializes");
        crate::error::write_file(path, &json)
    }

    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = crate::error::read_file(path)?;
        let at = || path.to_owned();
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| Error::NotJson { path: at(), source })?;
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            Some(v) if READABLE_VERSIONS.iter().any(|&r| u64::from(r) == v) => {}
            Some(found) => {
                return Err(Error::SchemaVersion {
                    path: at(),
                    found,
                    supported: SCHEMA_VERSION,
                })
            }
            None => return Err(Error::NotARecord { path: at() }),
        }
        serde_json::from_value(value).map_err(|source| Error::BadRecord { path: at(), source })
    }
}
