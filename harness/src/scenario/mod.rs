//! Scenarios. In: a TOML file (or the built-in REQ-PERF-401 text). Out: a
//! validated [`Scenario`], checked before any request is sent; every error
//! names the file, the line and the field ([`ScenarioError`]).
//!
//! - `spans`: byte spans to file, line, column and dotted field.
//! - `ad_hoc`: the scenario of `harness run --path`, built directly.
//! - [`raw`]: the TOML shapes as written.
//! - [`validate`]: raw shapes to a [`Scenario`], one function per section;
//!   `fields`: the readers every section shares (keys, think time, names).
//! - [`template`]: keys (uniform, zipf), path, header and body templates.
//! - [`flow`]: steps, what they extract into variables and what they check.
//! - [`classes`]: user classes and their tasks validated; [`steps`]: each
//!   request of a task or flow.
//! - `model`: what a validated scenario holds (classes, tasks, steps);
//!   `slo`: its SLOs (metric, comparison, percentile).

mod ad_hoc;
mod classes;
mod fields;
pub mod flow;
mod model;
mod raw;
mod slo;
mod spans;
mod steps;
pub mod template;
pub mod transport;
mod validate;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

pub use crate::error::ScenarioError;

use crate::error::Error;
pub use ad_hoc::AdHocLoad;
pub use model::{Entry, OnError, Share, Step, Task, UserClass};
pub use slo::{Metric, Op, Percentile, Slo, SloExpr};

/// Requests in flight at once in open-model stages, unless the scenario says.
const DEFAULT_MAX_IN_FLIGHT: usize = 1000;
/// Per-request timeout, unless the scenario says.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The name of the one class of a scenario that declares none (never
/// written to records).
const IMPLICIT_CLASS: &str = "users";

/// The name under which records report a stage's requests over all tasks
/// together; no task may be called this.
pub const AGGREGATE: &str = "ALL";

/// The built-in scenario's source.
pub const BUILTIN_SOURCE: &str = include_str!("../../scenarios/req-perf-401.toml");
/// The name under which the built-in scenario is reported.
pub const BUILTIN_FILE: &str = "<built-in req-perf-401.toml>";

/// The operations scenario's source: REQ-PERF-401 as three user classes.
pub const OPS_SOURCE: &str = include_str!("../../scenarios/req-perf-401-ops.toml");

/// The built-in scenarios, selected by name where a path is taken
/// (`--scenario req-perf-401`): name, what it is, its TOML.
pub const BUILTINS: [(&str, &str, &str); 2] = [
    (
        "req-perf-401",
        "the seed document's REQ-PERF-401: 500 users, 60/20/20 mix, spike to 750 (40 min)",
        BUILTIN_SOURCE,
    ),
    (
        "req-perf-401-ops",
        "REQ-PERF-401 as watch officers, planners (read, then update with If-Match) and analysts (search, then open a result) (40 min)",
        OPS_SOURCE,
    ),
];

/// The requirement id of a scenario that names none (`harness review`
/// reads such a file and fails its traceability; runs refuse it).
pub const UNTRACED: &str = "UNTRACED";

/// The requirement a scenario traces to.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Requirement {
    pub id: String,
    pub text: String,
}

/// Time a virtual user waits between iterations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThinkTime {
    /// No wait.
    None,
    /// The same wait after every request.
    Constant(Duration),
    /// A uniform random wait in `[min, max]` (Locust's `between`).
    Between(Duration, Duration),
    /// Start an iteration every `period`, whatever the request took
    /// (Locust's `constant_pacing`).
    ConstantPacing(Duration),
}

/// How a stage drives load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// Closed model: virtual users, ramped linearly from `from` to `to`.
    Users { from: u32, to: u32 },
    /// Open model: arrivals per second, ramped linearly from `from` to `to`.
    Rate { from: f64, to: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub name: String,
    pub load: Load,
    pub duration: Duration,
    pub steady: bool,
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub requirement: Requirement,
    /// At least one; one undeclared class when the file has top-level
    /// `tasks` and no `[[users]]`.
    pub classes: Vec<UserClass>,
    /// Named targets (`[targets.NAME] url = ...`).
    pub targets: BTreeMap<String, String>,
    pub stages: Vec<Stage>,
    pub slos: Vec<Slo>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Most requests in flight at once in open-model stages; an arrival
    /// that finds none free is counted as dropped.
    pub max_in_flight: usize,
    /// How requests travel: protocol, TLS trust, HTTP/2 connections
    /// (the file's, then the command line's flags).
    pub transport: transport::Transport,
    /// W3C trace context and the slowest requests kept.
    pub trace: Tracing,
}

/// `trace_sample` and `slowest`: what the harness says of each request's
/// trace, and how many of the slowest it keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tracing {
    /// The fraction of requests whose `traceparent` says sampled.
    pub sample: f64,
    /// Slowest requests kept per task in the steady window.
    pub slowest: usize,
}

impl Default for Tracing {
    fn default() -> Self {
        Tracing {
            sample: 1.0,
            slowest: 10,
        }
    }
}

impl Scenario {
    /// The seed document's scenario.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN_FILE, BUILTIN_SOURCE).expect("the built-in scenario is valid")
    }

    /// Reads and validates a scenario file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        ScenarioRef::File(path.to_owned()).load()
    }

    /// Parses and validates scenario text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, Error> {
        Self::parse_with(file, text, false)
    }

    /// As [`Scenario::parse`], but a scenario without a `[requirement]`
    /// is read (its id [`UNTRACED`]) rather than refused: for review.
    pub fn parse_untraced(file: &str, text: &str) -> Result<Self, Error> {
        Self::parse_with(file, text, true)
    }

    fn parse_with(file: &str, text: &str, untraced: bool) -> Result<Self, Error> {
        let src = spans::Source { file, text };
        let raw: raw::RawScenario = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let field = src.field_at(span.start);
            let message = with_top_level_hint(e.message(), &field);
            src.error(span, field, message)
        })?;
        Ok(validate::scenario(raw, &src, untraced)?)
    }

    /// The same scenario with every stage's duration multiplied by `scale`
    /// (think time and user counts unchanged).
    pub fn scaled(&self, scale: f64) -> Self {
        let mut s = self.clone();
        for st in &mut s.stages {
            st.duration = st.duration.mul_f64(scale).max(Duration::from_millis(1));
        }
        s
    }

    /// The same scenario judged also on SLOs given on the command line
    /// (`--slo`), each checked as a file's `[[slos]]` is (its task and
    /// class exist) and applied to the steady stages.
    pub fn with_slos(mut self, exprs: &[SloExpr]) -> Result<Self, Error> {
        for e in exprs {
            let slo = validate::cli_slo(&self, e)
                .map_err(|why| Error::Usage(format!("--slo {:?}: {why}", e.text)))?;
            self.slos.push(slo);
        }
        Ok(self)
    }

    pub fn total_duration(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// Whether the file declares user classes (`[[users]]`).
    pub fn has_classes(&self) -> bool {
        self.classes.iter().any(|c| c.declared)
    }

    /// Every stats row's place, class by class, task by task, step by step
    /// (the collector's and the record's order).
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let mut out = Vec::new();
        for (ci, c) in self.classes.iter().enumerate() {
            for (ti, t) in c.tasks.iter().enumerate() {
                for (si, s) in t.steps.iter().enumerate() {
                    out.push(Entry {
                        class: ci,
                        task: ti,
                        step: si,
                        name: &s.name,
                    });
                }
            }
        }
        out
    }

    /// Every task of every class.
    pub fn all_tasks(&self) -> impl Iterator<Item = &Task> {
        self.classes.iter().flat_map(|c| &c.tasks)
    }

    /// Every step of every class.
    pub fn all_steps(&self) -> impl Iterator<Item = &Step> {
        self.all_tasks().flat_map(|t| &t.steps)
    }
}

/// The built-in scenario called `name`: its name, what it is, its TOML.
pub fn builtin(name: &str) -> Option<(&'static str, &'static str, &'static str)> {
    BUILTINS.iter().copied().find(|(n, _, _)| *n == name)
}

/// A scenario as the command line names it (`--scenario`, `review`,
/// `--slos-from`): a built-in's name, or any other text as a file's path
/// (a file called like a built-in is reached as `./req-perf-401`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioRef {
    Builtin(&'static str),
    File(std::path::PathBuf),
}

impl Default for ScenarioRef {
    /// The seed document's REQ-PERF-401.
    fn default() -> Self {
        ScenarioRef::Builtin(BUILTINS[0].0)
    }
}

impl std::str::FromStr for ScenarioRef {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match builtin(s) {
            Some((name, _, _)) => ScenarioRef::Builtin(name),
            None => ScenarioRef::File(s.into()),
        })
    }
}

impl ScenarioRef {
    /// Its name in errors (`<built-in NAME.toml>`, or the path) and its TOML.
    pub fn source(&self) -> Result<(String, String), Error> {
        match self {
            ScenarioRef::Builtin(name) => {
                let (_, _, text) = builtin(name).expect("a built-in's own name");
                Ok((format!("<built-in {name}.toml>"), text.to_owned()))
            }
            ScenarioRef::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::ScenarioFile {
                    path: path.to_owned(),
                    source,
                })?;
                Ok((path.display().to_string(), text))
            }
        }
    }

    /// The scenario, read and validated.
    pub fn load(&self) -> Result<Scenario, Error> {
        let (file, text) = self.source()?;
        Scenario::parse(&file, &text)
    }
}

/// An unknown key that is a top-level one, found inside a table: say that
/// top-level keys must come before the first table.
fn with_top_level_hint(message: &str, field: &str) -> String {
    let key = message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split_once('`'))
        .map(|(k, _)| k);
    let table = field.rsplit_once('.').map(|(t, _)| t);
    let (Some(key), Some(table)) = (key, table) else {
        return message.to_owned();
    };
    if !raw::TOP_LEVEL_KEYS.contains(&key) {
        return message.to_owned();
    }
    // `tasks[2]` was opened by a `[[tasks]]` header.
    let header = match table.split_once('[') {
        Some((array, _)) => format!("[[{array}]]"),
        None => format!("[{table}]"),
    };
    format!(
        "{message}: `{key}` is a top-level key, but it is written after a {header} header, so TOML reads it as part of that table; top-level keys must come before the first table"
    )
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_classes;
