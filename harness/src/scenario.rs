//! Scenarios: a TOML file parsed and validated into a [`Scenario`] before
//! any request is sent. Every error names the file, the line and the field.
//!
//! The seed document's scenario (REQ-PERF-401) is built in:
//! [`Scenario::builtin`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, ScenarioError};
use crate::template::{BodyTemplate, IdFormat, KeyDistribution, KeySpec, PathTemplate};

/// The built-in scenario's source.
pub const BUILTIN_SOURCE: &str = include_str!("../scenarios/req-perf-401.toml");
/// The name under which the built-in scenario is reported.
pub const BUILTIN_FILE: &str = "<built-in req-perf-401.toml>";

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

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: String,
    pub weight: u32,
    pub method: reqwest::Method,
    pub path: PathTemplate,
    pub body: Option<BodyTemplate>,
    /// The status a success has.
    pub expect: u16,
}

/// What an SLO measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    P50,
    P95,
    P99,
    Max,
    ErrorRate,
    Errors,
    Rps,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::Max => "max",
            Metric::ErrorRate => "error_rate",
            Metric::Errors => "errors",
            Metric::Rps => "rps",
        }
    }

    /// The comparison used when the scenario names none: latencies and
    /// errors are upper bounds, throughput a lower one.
    pub fn default_op(self) -> Op {
        match self {
            Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max => Op::Lt,
            Metric::ErrorRate | Metric::Errors => Op::Le,
            Metric::Rps => Op::Ge,
        }
    }

    /// The unit of the bound and the observed value.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max => "ms",
            Metric::ErrorRate => "",
            Metric::Errors => "",
            Metric::Rps => "req/s",
        }
    }
}

/// An SLO's comparison: `observed OP bound` must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    pub fn holds(self, observed: f64, bound: f64) -> bool {
        match self {
            Op::Lt => observed < bound,
            Op::Le => observed <= bound,
            Op::Gt => observed > bound,
            Op::Ge => observed >= bound,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub id: String,
    pub metric: Metric,
    pub op: Op,
    pub bound: f64,
    /// Indexes of the stages it applies to.
    pub stages: Vec<usize>,
    /// Index of the task it is limited to, if any.
    pub task: Option<usize>,
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub requirement: Requirement,
    pub keys: BTreeMap<String, KeySpec>,
    pub think_time: ThinkTime,
    pub tasks: Vec<Task>,
    pub stages: Vec<Stage>,
    pub slos: Vec<Slo>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Most requests in flight at once in open-model stages; an arrival
    /// that finds none free is counted as dropped.
    pub max_in_flight: usize,
}

// ---- raw TOML shapes -------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    description: Option<String>,
    requirement: Requirement,
    #[serde(default)]
    keys: BTreeMap<String, Spanned<RawKey>>,
    #[serde(default)]
    think_time: Option<Spanned<RawThink>>,
    tasks: Spanned<Vec<Spanned<RawTask>>>,
    stages: Spanned<Vec<Spanned<RawStage>>>,
    #[serde(default)]
    slos: Vec<Spanned<RawSlo>>,
    #[serde(default)]
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    max_in_flight: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    distribution: Spanned<String>,
    n: Spanned<u64>,
    #[serde(default)]
    s: Option<Spanned<f64>>,
    #[serde(default)]
    start: Option<u64>,
    #[serde(default)]
    format: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThink {
    kind: Spanned<String>,
    #[serde(default)]
    min: Option<Spanned<String>>,
    #[serde(default)]
    max: Option<Spanned<String>>,
    #[serde(default)]
    value: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    name: Spanned<String>,
    #[serde(default = "one")]
    weight: Spanned<u32>,
    #[serde(default = "get")]
    method: Spanned<String>,
    path: Spanned<String>,
    #[serde(default)]
    body: Option<Spanned<toml::Value>>,
    #[serde(default = "ok")]
    expect: Spanned<u16>,
}

fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}
fn get() -> Spanned<String> {
    Spanned::new(0..0, "GET".to_owned())
}
fn ok() -> Spanned<u16> {
    Spanned::new(0..0, 200)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    name: Spanned<String>,
    #[serde(default)]
    users: Option<Spanned<u32>>,
    #[serde(default)]
    rate: Option<Spanned<f64>>,
    #[serde(default)]
    from_rate: Option<Spanned<f64>>,
    duration: Spanned<String>,
    #[serde(default)]
    steady: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    #[serde(default)]
    id: Option<String>,
    metric: Spanned<String>,
    #[serde(default)]
    op: Option<Spanned<String>>,
    bound: Spanned<f64>,
    #[serde(default)]
    stages: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    task: Option<Spanned<String>>,
}

/// Locates byte offsets of a source as file, line, column and field path.
struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, col)
    }

    fn error(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Error {
        let (line, column) = self.line_col(span.start);
        Error::Scenario(ScenarioError {
            file: self.file.to_owned(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        })
    }

    /// The dotted field at `offset`, from the key on its line and the
    /// nearest table header above it (`tasks[1].weight`).
    fn field_at(&self, offset: usize) -> String {
        let (line, _) = self.line_col(offset);
        let lines: Vec<&str> = self.text.lines().collect();
        let key = lines
            .get(line.saturating_sub(1))
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim().to_owned())
            .filter(|k| !k.starts_with('['))
            .unwrap_or_default();
        let mut table = String::new();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for l in lines.iter().take(line.saturating_sub(1)) {
            let t = l.trim();
            if let Some(name) = t
                .strip_prefix("[[")
                .and_then(|r| r.split_once("]]"))
                .map(|(n, _)| n.trim())
            {
                let n = counts.entry(name.to_owned()).or_insert(0);
                table = format!("{name}[{n}]");
                *n += 1;
            } else if let Some(name) = t
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .map(|(n, _)| n.trim())
            {
                table = name.to_owned();
            }
        }
        match (table.is_empty(), key.is_empty()) {
            (true, _) => key,
            (false, true) => table,
            (false, false) => format!("{table}.{key}"),
        }
    }
}

fn parse_duration(src: &Source<'_>, s: &Spanned<String>, field: &str) -> Result<Duration, Error> {
    humantime::parse_duration(s.get_ref().trim()).map_err(|e| {
        src.error(
            s.span(),
            field,
            format!(
                "{:?} is not a duration like \"90s\", \"5m\" or \"1500ms\": {e}",
                s.get_ref()
            ),
        )
    })
}

impl Scenario {
    /// The seed document's scenario.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN_FILE, BUILTIN_SOURCE).expect("the built-in scenario is valid")
    }

    /// Reads and validates a scenario file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot read scenario {}: {e}", path.display())))?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses and validates scenario text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, Error> {
        let src = Source { file, text };
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let field = src.field_at(span.start);
            src.error(span, field, e.message().to_owned())
        })?;
        raw.validate(&src)
    }
}

impl RawScenario {
    fn validate(self, src: &Source<'_>) -> Result<Scenario, Error> {
        if self.name.trim().is_empty() {
            return Err(src.error(0..0, "name", "must not be empty"));
        }
        if self.requirement.id.trim().is_empty() {
            return Err(src.error(0..0, "requirement.id", "must not be empty"));
        }

        let mut keys = BTreeMap::new();
        for (name, key) in &self.keys {
            let field = |f: &str| format!("keys.{name}.{f}");
            let k = key.get_ref();
            let n = *k.n.get_ref();
            if n == 0 {
                return Err(src.error(k.n.span(), field("n"), "must be at least 1"));
            }
            let distribution = match k.distribution.get_ref().as_str() {
                "uniform" => KeyDistribution::Uniform,
                "zipf" => {
                    let s = k.s.as_ref().map_or(1.0, |s| *s.get_ref());
                    if !(s.is_finite() && s > 0.0) {
                        let span = k.s.as_ref().map_or(key.span(), |s| s.span());
                        return Err(src.error(
                            span,
                            field("s"),
                            "zipf exponent must be a number above 0",
                        ));
                    }
                    KeyDistribution::Zipf { s }
                }
                other => {
                    return Err(src.error(
                        k.distribution.span(),
                        field("distribution"),
                        format!("unknown distribution {other:?}; expected \"uniform\" or \"zipf\""),
                    ))
                }
            };
            let format = match &k.format {
                Some(f) => IdFormat::parse(f.get_ref())
                    .map_err(|m| src.error(f.span(), field("format"), m))?,
                None => IdFormat::plain(),
            };
            keys.insert(
                name.clone(),
                KeySpec {
                    distribution,
                    n,
                    start: k.start.unwrap_or(1),
                    format,
                },
            );
        }

        let think_time = match &self.think_time {
            None => ThinkTime::None,
            Some(t) => {
                let r = t.get_ref();
                let need = |v: &Option<Spanned<String>>, name: &str| -> Result<Duration, Error> {
                    match v {
                        Some(s) => parse_duration(src, s, &format!("think_time.{name}")),
                        None => Err(src.error(
                            t.span(),
                            format!("think_time.{name}"),
                            format!("think_time of kind {:?} needs {name}", r.kind.get_ref()),
                        )),
                    }
                };
                match r.kind.get_ref().as_str() {
                    "none" => ThinkTime::None,
                    "constant" => ThinkTime::Constant(need(&r.value, "value")?),
                    "constant_pacing" => ThinkTime::ConstantPacing(need(&r.value, "value")?),
                    "between" => {
                        let (min, max) = (need(&r.min, "min")?, need(&r.max, "max")?);
                        if min > max {
                            let span = r.max.as_ref().map_or(t.span(), |m| m.span());
                            return Err(src.error(span, "think_time.max", "must not be below think_time.min"));
                        }
                        ThinkTime::Between(min, max)
                    }
                    other => {
                        return Err(src.error(
                            r.kind.span(),
                            "think_time.kind",
                            format!("unknown kind {other:?}; expected \"between\", \"constant\", \"constant_pacing\" or \"none\""),
                        ))
                    }
                }
            }
        };

        if self.tasks.get_ref().is_empty() {
            return Err(src.error(self.tasks.span(), "tasks", "at least one task is needed"));
        }
        let mut tasks = Vec::new();
        for (i, t) in self.tasks.get_ref().iter().enumerate() {
            let t = t.get_ref();
            let field = |f: &str| format!("tasks[{i}].{f}");
            let name = t.name.get_ref().trim().to_owned();
            if name.is_empty() || name == "ALL" {
                return Err(src.error(
                    t.name.span(),
                    field("name"),
                    "must be non-empty and not \"ALL\"",
                ));
            }
            if tasks.iter().any(|x: &Task| x.name == name) {
                return Err(src.error(
                    t.name.span(),
                    field("name"),
                    format!("duplicate task name {name:?}"),
                ));
            }
            let method =
                reqwest::Method::from_bytes(t.method.get_ref().to_ascii_uppercase().as_bytes())
                    .map_err(|_| {
                        src.error(
                            t.method.span(),
                            field("method"),
                            format!("{:?} is not an HTTP method", t.method.get_ref()),
                        )
                    })?;
            let path = PathTemplate::parse(t.path.get_ref(), &keys)
                .map_err(|m| src.error(t.path.span(), field("path"), m))?;
            let body = t
                .body
                .as_ref()
                .map(|b| {
                    BodyTemplate::parse(b.get_ref(), &keys)
                        .map_err(|m| src.error(b.span(), field("body"), m))
                })
                .transpose()?;
            let expect = *t.expect.get_ref();
            if !(100..=599).contains(&expect) {
                return Err(src.error(
                    t.expect.span(),
                    field("expect"),
                    "must be an HTTP status (100-599)",
                ));
            }
            tasks.push(Task {
                name,
                weight: *t.weight.get_ref(),
                method,
                path,
                body,
                expect,
            });
        }
        if tasks.iter().all(|t| t.weight == 0) {
            return Err(src.error(
                self.tasks.span(),
                "tasks.weight",
                "at least one task needs a weight above 0",
            ));
        }

        if self.stages.get_ref().is_empty() {
            return Err(src.error(self.stages.span(), "stages", "at least one stage is needed"));
        }
        let mut stages: Vec<Stage> = Vec::new();
        for (i, s) in self.stages.get_ref().iter().enumerate() {
            let sp = s.span();
            let s = s.get_ref();
            let field = |f: &str| format!("stages[{i}].{f}");
            let name = s.name.get_ref().trim().to_owned();
            if name.is_empty() || stages.iter().any(|x| x.name == name) {
                return Err(src.error(
                    s.name.span(),
                    field("name"),
                    format!("stage names must be non-empty and unique: {name:?}"),
                ));
            }
            let duration = parse_duration(src, &s.duration, &field("duration"))?;
            if duration.is_zero() {
                return Err(src.error(s.duration.span(), field("duration"), "must be above 0"));
            }
            let prev = stages.last().map(|p| p.load);
            let load =
                match (&s.users, &s.rate) {
                    (Some(u), None) => {
                        if s.from_rate.is_some() {
                            return Err(src.error(
                                sp,
                                field("from_rate"),
                                "from_rate only applies to open-model stages (rate)",
                            ));
                        }
                        let from = match prev {
                            Some(Load::Users { to, .. }) => to,
                            _ => 0,
                        };
                        Load::Users {
                            from,
                            to: *u.get_ref(),
                        }
                    }
                    (None, Some(r)) => {
                        let to = *r.get_ref();
                        if !(to.is_finite() && to >= 0.0) {
                            return Err(src.error(
                                r.span(),
                                field("rate"),
                                "must be a number of requests per second, 0 or more",
                            ));
                        }
                        let from = match (&s.from_rate, prev) {
                            (Some(f), _) => {
                                let f_val = *f.get_ref();
                                if !(f_val.is_finite() && f_val >= 0.0) {
                                    return Err(src.error(
                                        f.span(),
                                        field("from_rate"),
                                        "must be 0 or more",
                                    ));
                                }
                                f_val
                            }
                            (None, Some(Load::Rate { to: prev_to, .. })) => prev_to,
                            (None, _) => to,
                        };
                        Load::Rate { from, to }
                    }
                    (Some(_), Some(r)) => return Err(src.error(
                        r.span(),
                        field("rate"),
                        "a stage has either users (closed model) or rate (open model), not both",
                    )),
                    (None, None) => {
                        return Err(src.error(
                            sp,
                            field("users"),
                            "a stage needs users (closed model) or rate (open model)",
                        ))
                    }
                };
            stages.push(Stage {
                name,
                load,
                duration,
                steady: s.steady,
            });
        }
        if !stages.iter().any(|s| s.steady) {
            return Err(src.error(
                self.stages.span(),
                "stages.steady",
                "mark at least one stage steady = true (SLOs apply to steady stages by default)",
            ));
        }

        let steady: Vec<usize> = stages
            .iter()
            .enumerate()
            .filter(|(_, s)| s.steady)
            .map(|(i, _)| i)
            .collect();
        let mut slos = Vec::new();
        for (i, s) in self.slos.iter().enumerate() {
            let s = s.get_ref();
            let field = |f: &str| format!("slos[{i}].{f}");
            let metric: Metric = match s.metric.get_ref().as_str() {
                "p50" => Metric::P50,
                "p95" => Metric::P95,
                "p99" => Metric::P99,
                "max" => Metric::Max,
                "error_rate" => Metric::ErrorRate,
                "errors" => Metric::Errors,
                "rps" => Metric::Rps,
                other => {
                    return Err(src.error(
                        s.metric.span(),
                        field("metric"),
                        format!("unknown metric {other:?}; expected p50, p95, p99, max, error_rate, errors or rps"),
                    ))
                }
            };
            let op = match &s.op {
                None => metric.default_op(),
                Some(o) => match o.get_ref().as_str() {
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    other => {
                        return Err(src.error(
                            o.span(),
                            field("op"),
                            format!("unknown comparison {other:?}; expected <, <=, > or >="),
                        ))
                    }
                },
            };
            let bound = *s.bound.get_ref();
            if !bound.is_finite() || bound < 0.0 || (metric == Metric::ErrorRate && bound > 1.0) {
                return Err(src.error(
                    s.bound.span(),
                    field("bound"),
                    "must be a finite number, 0 or more (error_rate: a fraction from 0 to 1)",
                ));
            }
            let stage_ids = match &s.stages {
                None => steady.clone(),
                Some(names) => names
                    .get_ref()
                    .iter()
                    .map(|n| {
                        stages.iter().position(|st| &st.name == n).ok_or_else(|| {
                            src.error(
                                names.span(),
                                field("stages"),
                                format!("no stage named {n:?}"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            };
            let task = s
                .task
                .as_ref()
                .map(|t| {
                    tasks
                        .iter()
                        .position(|x| &x.name == t.get_ref())
                        .ok_or_else(|| {
                            src.error(
                                t.span(),
                                field("task"),
                                format!("no task named {:?}", t.get_ref()),
                            )
                        })
                })
                .transpose()?;
            let id = s.id.clone().unwrap_or_else(|| {
                let mut id = format!("{}.{}", self.requirement.id, metric.as_str());
                if let Some(t) = task {
                    id.push('.');
                    id.push_str(&tasks[t].name.replace(' ', "_"));
                }
                id
            });
            slos.push(Slo {
                id,
                metric,
                op,
                bound,
                stages: stage_ids,
                task,
            });
        }

        let timeout = match &self.timeout {
            Some(t) => parse_duration(src, t, "timeout")?,
            None => Duration::from_secs(30),
        };
        let max_in_flight = match &self.max_in_flight {
            Some(m) if *m.get_ref() == 0 => {
                return Err(src.error(m.span(), "max_in_flight", "must be at least 1"))
            }
            Some(m) => *m.get_ref() as usize,
            None => 1000,
        };

        Ok(Scenario {
            name: self.name.trim().to_owned(),
            description: self.description,
            requirement: self.requirement,
            keys,
            think_time,
            tasks,
            stages,
            slos,
            timeout,
            max_in_flight,
        })
    }
}

impl Scenario {
    /// The same scenario with every stage's duration multiplied by `scale`
    /// (think time and user counts unchanged).
    pub fn scaled(&self, scale: f64) -> Self {
        let mut s = self.clone();
        for st in &mut s.stages {
            st.duration = st.duration.mul_f64(scale).max(Duration::from_millis(1));
        }
        s
    }

    pub fn total_duration(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_scenario_is_the_seed_documents() {
        let s = Scenario::builtin();
        assert_eq!(s.requirement.id, "REQ-PERF-401");
        let stages: Vec<_> = s
            .stages
            .iter()
            .map(|s| (s.name.as_str(), s.load, s.duration.as_secs(), s.steady))
            .collect();
        assert_eq!(
            stages,
            [
                ("ramp-up", Load::Users { from: 0, to: 500 }, 300, false),
                ("sustained", Load::Users { from: 500, to: 500 }, 1800, true),
                ("spike-ramp", Load::Users { from: 500, to: 750 }, 60, false),
                ("spike", Load::Users { from: 750, to: 750 }, 120, false),
                ("ramp-down", Load::Users { from: 750, to: 0 }, 120, false),
            ]
        );
        let weights: Vec<_> = s
            .tasks
            .iter()
            .map(|t| (t.name.as_str(), t.weight))
            .collect();
        assert_eq!(
            weights,
            [
                ("get mission", 6),
                ("update waypoint", 2),
                ("search missions", 2)
            ]
        );
        assert_eq!(
            s.think_time,
            ThinkTime::Between(Duration::from_secs(1), Duration::from_secs(3))
        );
        assert_eq!(s.slos.len(), 2);
        assert_eq!(
            (s.slos[0].metric, s.slos[0].op, s.slos[0].bound),
            (Metric::P95, Op::Lt, 2000.0)
        );
        assert_eq!(
            (s.slos[1].metric, s.slos[1].op, s.slos[1].bound),
            (Metric::Errors, Op::Le, 0.0)
        );
        assert_eq!(s.slos[0].stages, [1]);
        assert!(matches!(
            s.keys["mission_id"].distribution,
            KeyDistribution::Zipf { .. }
        ));
        assert_eq!(s.keys["mission_id"].n, 1000);
    }

    fn err(text: &str) -> ScenarioError {
        match Scenario::parse("bad.toml", text) {
            Err(Error::Scenario(e)) => e,
            other => panic!("expected a scenario error, got {other:?}"),
        }
    }

    fn with(replace: &str, by: &str) -> String {
        assert!(BUILTIN_SOURCE.contains(replace), "{replace}");
        BUILTIN_SOURCE.replacen(replace, by, 1)
    }

    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let text = with("weight = 2", "weight = \"two\"");
        let e = err(&text);
        assert_eq!(e.file, "bad.toml");
        assert_eq!(e.line, line_of(&text, "weight = \"two\""));
        assert_eq!(e.field, "tasks[1].weight");

        let text = with("metric = \"p95\"", "metric = \"p96\"");
        let e = err(&text);
        assert_eq!(
            (e.line, e.field.as_str()),
            (line_of(&text, "p96"), "slos[0].metric")
        );

        let text = with("duration = \"30m\"", "duration = \"thirty\"");
        let e = err(&text);
        assert_eq!(
            (e.line, e.field.as_str()),
            (line_of(&text, "thirty"), "stages[1].duration")
        );

        let text = with(
            "path = \"/api/missions/{mission_id}\"",
            "path = \"/api/missions/{mision_id}\"",
        );
        let e = err(&text);
        assert_eq!(e.field, "tasks[0].path");
        assert!(e.message.contains("mision_id"), "{}", e.message);

        let text = with("kind = \"between\"", "kind = \"sometimes\"");
        assert_eq!(err(&text).field, "think_time.kind");

        let text = with("steady = true", "steady = false");
        assert_eq!(err(&text).field, "stages.steady");

        let text = with(
            "users = 750\nduration = \"1m\"",
            "users = 750\nusers_typo = 3\nduration = \"1m\"",
        );
        let e = err(&text);
        assert_eq!(e.line, line_of(&text, "users_typo"));
        assert!(e.message.contains("users_typo"), "{}", e.message);
    }

    #[test]
    fn open_model_stages_ramp_from_the_previous_rate() {
        let s = Scenario::parse(
            "open.toml",
            r#"
name = "open"
[requirement]
id = "R-1"
text = "t"
[[tasks]]
name = "health"
path = "/healthz"
[[stages]]
name = "warm"
rate = 100
duration = "10s"
[[stages]]
name = "hold"
rate = 200
duration = "10s"
steady = true
"#,
        )
        .unwrap();
        assert_eq!(
            s.stages[0].load,
            Load::Rate {
                from: 100.0,
                to: 100.0
            }
        );
        assert_eq!(
            s.stages[1].load,
            Load::Rate {
                from: 100.0,
                to: 200.0
            }
        );
        assert_eq!(s.think_time, ThinkTime::None);
        assert!(s.slos.is_empty());
    }

    #[test]
    fn scaling_shortens_stages_only() {
        let s = Scenario::builtin().scaled(0.02);
        assert_eq!(s.stages[1].duration, Duration::from_secs(36));
        assert_eq!(s.think_time, Scenario::builtin().think_time);
        assert_eq!(s.total_duration(), Duration::from_secs(48));
    }
}
