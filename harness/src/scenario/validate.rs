//! Raw TOML shapes to a validated [`Scenario`], one function per section
//! (stages, SLOs, limits; keys and think time read by [`super::fields`],
//! classes and tasks by [`super::classes`]). Each error names the field and
//! points at its span. SLOs given on the command line are checked here by
//! the same rules.

use toml::Spanned;

use super::fields::{keys, think_time};
use super::raw::{RawScenario, RawSlo, RawStage};
use super::spans::Source;
use super::transport::Transport;
use super::{
    Load, Metric, Op, Scenario, Slo, SloExpr, Stage, ThinkTime, Tracing, UserClass,
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_TIMEOUT,
};
use crate::error::ScenarioError;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Validates a scenario; `untraced` allows one without a `[requirement]`
/// (for `harness review`, which reports it; runs refuse it).
pub(super) fn scenario(raw: RawScenario, src: &Source<'_>, untraced: bool) -> Result<Scenario> {
    if raw.name.trim().is_empty() {
        return Err(src.error(0..0, "name", "must not be empty"));
    }
    let requirement =
        match raw.requirement.as_ref() {
            Some(r) if r.id.trim().is_empty() => {
                return Err(src.error(0..0, "requirement.id", "must not be empty"))
            }
            Some(r) => super::Requirement {
                id: r.id.clone(),
                text: r.text.clone(),
            },
            None if untraced => super::Requirement {
                id: super::UNTRACED.to_owned(),
                text: String::new(),
            },
            None => return Err(src.error(
                0..0,
                "requirement",
                "missing: every scenario traces to a requirement ([requirement] with id and text)",
            )),
        };
    let keys = keys(&raw.keys, src)?;
    let think_time = match &raw.think_time {
        None => ThinkTime::None,
        Some(t) => think_time(t, src)?,
    };
    let stages = stages(&raw.stages, src)?;
    let targets = super::classes::targets(&raw, src)?;
    let classes = super::classes::classes(&raw, &keys, think_time, &targets, &stages, src)?;
    let slos = raw
        .slos
        .iter()
        .enumerate()
        .map(|(i, s)| slo(i, s.get_ref(), &requirement.id, &stages, &classes, src))
        .collect::<Result<Vec<_>>>()?;
    let timeout = match &raw.timeout {
        Some(t) => src.duration(t, "timeout")?,
        None => DEFAULT_TIMEOUT,
    };
    let max_in_flight = match &raw.max_in_flight {
        Some(m) if *m.get_ref() == 0 => {
            return Err(src.error(m.span(), "max_in_flight", "must be at least 1"))
        }
        Some(m) => *m.get_ref() as usize,
        None => DEFAULT_MAX_IN_FLIGHT,
    };
    let transport = transport(&raw, src)?;
    let trace = tracing(&raw, src)?;
    Ok(Scenario {
        trace,
        transport,
        name: raw.name.trim().to_owned(),
        description: raw.description.clone(),
        requirement,
        classes,
        targets,
        stages,
        slos,
        timeout,
        max_in_flight,
    })
}

/// `trace_sample` and `slowest`.
fn tracing(raw: &RawScenario, src: &Source<'_>) -> Result<Tracing> {
    let mut t = Tracing::default();
    if let Some(f) = &raw.trace_sample {
        let v = *f.get_ref();
        if !(0.0..=1.0).contains(&v) {
            return Err(src.error(f.span(), "trace_sample", "must be from 0 to 1"));
        }
        t.sample = v;
    }
    if let Some(n) = &raw.slowest {
        if *n.get_ref() > 1000 {
            return Err(src.error(n.span(), "slowest", "must be from 0 to 1000"));
        }
        t.slowest = *n.get_ref() as usize;
    }
    Ok(t)
}

/// `protocol`, `connections`, `max_streams`, `tls_resumption`.
fn transport(raw: &RawScenario, src: &Source<'_>) -> Result<Transport> {
    let mut t = Transport::default();
    if let Some(p) = &raw.protocol {
        t.protocol = super::classes::protocol(p, "protocol", src)?;
    }
    for (value, name, slot) in [
        (&raw.connections, "connections", &mut t.h2_connections),
        (&raw.max_streams, "max_streams", &mut t.max_streams),
    ] {
        if let Some(v) = value {
            if !(1..=10_000).contains(v.get_ref()) {
                return Err(src.error(v.span(), name, "must be from 1 to 10000"));
            }
            *slot = *v.get_ref();
        }
    }
    if let Some(resume) = raw.tls_resumption {
        t.tls.resumption = resume;
    }
    Ok(t)
}

fn stages(raw: &Spanned<Vec<Spanned<RawStage>>>, src: &Source<'_>) -> Result<Vec<Stage>> {
    if raw.get_ref().is_empty() {
        return Err(src.error(raw.span(), "stages", "at least one stage is needed"));
    }
    let mut stages: Vec<Stage> = Vec::new();
    for (i, s) in raw.get_ref().iter().enumerate() {
        let field = |f: &str| format!("stages[{i}].{f}");
        let r = s.get_ref();
        let name = r.name.get_ref().trim().to_owned();
        if name.is_empty() || stages.iter().any(|x| x.name == name) {
            return Err(src.error(
                r.name.span(),
                field("name"),
                format!("stage names must be non-empty and unique: {name:?}"),
            ));
        }
        let duration = src.duration(&r.duration, &field("duration"))?;
        if duration.is_zero() {
            return Err(src.error(r.duration.span(), field("duration"), "must be above 0"));
        }
        let previous = stages.last().map(|p| p.load);
        stages.push(Stage {
            name,
            load: stage_load(i, s, previous, src)?,
            duration,
            steady: r.steady,
        });
    }
    if !stages.iter().any(|s| s.steady) {
        return Err(src.error(
            raw.span(),
            "stages.steady",
            "mark at least one stage steady = true (SLOs apply to steady stages by default)",
        ));
    }
    Ok(stages)
}

/// Users (closed model) or arrivals per second (open model), each ramping
/// from where the previous stage of the same model ended, or from
/// `from_users` / `from_rate`.
fn stage_load(
    i: usize,
    s: &Spanned<RawStage>,
    previous: Option<Load>,
    src: &Source<'_>,
) -> Result<Load> {
    let field = |f: &str| format!("stages[{i}].{f}");
    let r = s.get_ref();
    match (&r.users, &r.rate) {
        (Some(u), None) => {
            if r.from_rate.is_some() {
                return Err(src.error(
                    s.span(),
                    field("from_rate"),
                    "from_rate only applies to open-model stages (rate)",
                ));
            }
            let from = match (&r.from_users, previous) {
                (Some(f), _) => *f.get_ref(),
                (None, Some(Load::Users { to, .. })) => to,
                (None, _) => 0,
            };
            Ok(Load::Users {
                from,
                to: *u.get_ref(),
            })
        }
        (None, Some(rate)) => {
            if let Some(f) = &r.from_users {
                return Err(src.error(
                    f.span(),
                    field("from_users"),
                    "from_users only applies to closed-model stages (users)",
                ));
            }
            let to = non_negative(
                rate,
                &field("rate"),
                src,
                "must be a number of requests per second, 0 or more",
            )?;
            let from = match (&r.from_rate, previous) {
                (Some(f), _) => non_negative(f, &field("from_rate"), src, "must be 0 or more")?,
                (None, Some(Load::Rate { to: prev_to, .. })) => prev_to,
                (None, _) => to,
            };
            Ok(Load::Rate { from, to })
        }
        (Some(_), Some(rate)) => Err(src.error(
            rate.span(),
            field("rate"),
            "a stage has either users (closed model) or rate (open model), not both",
        )),
        (None, None) => Err(src.error(
            s.span(),
            field("users"),
            "a stage needs users (closed model) or rate (open model)",
        )),
    }
}

fn non_negative(v: &Spanned<f64>, field: &str, src: &Source<'_>, why: &str) -> Result<f64> {
    let x = *v.get_ref();
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(src.error(v.span(), field, why))
    }
}

fn slo(
    i: usize,
    s: &RawSlo,
    requirement: &str,
    stages: &[Stage],
    classes: &[UserClass],
    src: &Source<'_>,
) -> Result<Slo> {
    let field = |f: &str| format!("slos[{i}].{f}");
    let metric: Metric = s
        .metric
        .get_ref()
        .parse()
        .map_err(|m| src.error(s.metric.span(), field("metric"), m))?;
    let op = match &s.op {
        None => metric.default_op(),
        Some(o) => o
            .get_ref()
            .parse::<Op>()
            .map_err(|m| src.error(o.span(), field("op"), m))?,
    };
    let bound = *s.bound.get_ref();
    if !bound.is_finite() || bound < 0.0 || (metric == Metric::ErrorRate && bound > 1.0) {
        return Err(src.error(
            s.bound.span(),
            field("bound"),
            "must be a finite number, 0 or more (error_rate: a fraction from 0 to 1)",
        ));
    }
    let stage_names = match &s.stages {
        None => steady_names(stages),
        Some(names) => names
            .get_ref()
            .iter()
            .map(|n| match stages.iter().any(|st| &st.name == n) {
                true => Ok(n.clone()),
                false => Err(src.error(
                    names.span(),
                    field("stages"),
                    format!("no stage named {n:?}"),
                )),
            })
            .collect::<Result<Vec<_>>>()?,
    };
    let class = s.class.as_ref().map(|c| c.get_ref().as_str());
    let task = s.task.as_ref().map(|t| t.get_ref().as_str());
    let (class, task) = slo_scope(classes, class, task).map_err(|(which, why)| {
        let span = match which {
            Scope::Class => s.class.as_ref().map(Spanned::span),
            Scope::Task => s.task.as_ref().map(Spanned::span),
        };
        src.error(span.unwrap_or(0..0), field(which.field()), why)
    })?;
    Ok(Slo {
        id: s
            .id
            .clone()
            .unwrap_or_else(|| slo_id(requirement, metric, class.as_deref(), task.as_deref())),
        metric,
        op,
        bound,
        stages: stage_names,
        task,
        class,
    })
}

/// The steady stages' names: what an SLO applies to unless it names others.
fn steady_names(stages: &[Stage]) -> Vec<String> {
    stages
        .iter()
        .filter(|st| st.steady)
        .map(|st| st.name.clone())
        .collect()
}

/// Which part of an SLO's scope is at fault.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope {
    Class,
    Task,
}

impl Scope {
    pub(super) fn field(self) -> &'static str {
        match self {
            Scope::Class => "class",
            Scope::Task => "task",
        }
    }
}

/// An SLO's class and task checked against the scenario: the class is a
/// declared one, the task (or step) is one of its (or any class's).
pub(super) fn slo_scope(
    classes: &[UserClass],
    class: Option<&str>,
    task: Option<&str>,
) -> std::result::Result<(Option<String>, Option<String>), (Scope, String)> {
    let class = match class {
        Some(c) => match classes.iter().find(|x| x.declared && x.name == c) {
            Some(x) => Some(x),
            None => {
                let declared: Vec<&str> = classes
                    .iter()
                    .filter(|x| x.declared)
                    .map(|x| x.name.as_str())
                    .collect();
                return Err((
                    Scope::Class,
                    format!("no class named {c:?} (declared: {declared:?})"),
                ));
            }
        },
        None => None,
    };
    if let Some(name) = task {
        let mut within = classes
            .iter()
            .filter(|c| class.is_none_or(|x| x.name == c.name));
        if !within.any(|c| {
            c.tasks
                .iter()
                .flat_map(|t| &t.steps)
                .any(|s| s.name == name)
        }) {
            let whose = class.map_or(String::new(), |c| format!(" in class {:?}", c.name));
            return Err((
                Scope::Task,
                format!("no task or step named {name:?}{whose}"),
            ));
        }
    }
    Ok((class.map(|c| c.name.clone()), task.map(str::to_owned)))
}

/// An SLO's id when it gives none: `REQ.metric[.class][.task]`.
pub(super) fn slo_id(
    requirement: &str,
    metric: Metric,
    class: Option<&str>,
    task: Option<&str>,
) -> String {
    let mut id = format!("{requirement}.{metric}");
    for part in [class, task].into_iter().flatten() {
        id.push('.');
        id.push_str(&part.replace(' ', "_"));
    }
    id
}

/// An SLO given on the command line, checked against the scenario as a
/// file's `[[slos]]` is; it applies to the steady stages. Its id is the
/// one a file's would get, with `.cli` added if the scenario has it.
pub(super) fn cli_slo(scenario: &Scenario, e: &SloExpr) -> std::result::Result<Slo, String> {
    let (class, task) = slo_scope(&scenario.classes, e.class.as_deref(), e.task.as_deref())
        .map_err(|(_, why)| why)?;
    let mut id = slo_id(
        &scenario.requirement.id,
        e.metric,
        class.as_deref(),
        task.as_deref(),
    );
    while scenario.slos.iter().any(|s| s.id == id) {
        id.push_str(".cli");
    }
    Ok(Slo {
        id,
        metric: e.metric,
        op: e.op,
        bound: e.bound,
        stages: steady_names(&scenario.stages),
        task,
        class,
    })
}
