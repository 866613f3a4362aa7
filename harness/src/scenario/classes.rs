//! User classes, their tasks and their flows' steps: raw TOML to
//! [`UserClass`]es, checked before any request. A file with top-level
//! `tasks` and no `[[users]]` is one implicit class; every error names the
//! field (`users[1].tasks[0].steps[2].path`) and points at its line.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::fields::{self, stats_name, think_time};
use super::raw::{RawClass, RawScenario, RawStep, RawTask};
use super::spans::Source;
use super::steps::step;
use super::template::KeySpec;
use super::transport::{Protocol, Reuse};
use super::{Load, OnError, Share, Stage, Task, ThinkTime, UserClass};
use crate::error::ScenarioError;

type Result<T> = std::result::Result<T, ScenarioError>;

/// The scenario's classes: its `[[users]]`, or one made of its top-level
/// `tasks`. Stats names (single-request tasks and steps) are unique over
/// the whole scenario.
pub(super) fn classes(
    raw: &RawScenario,
    keys: &BTreeMap<String, KeySpec>,
    think: ThinkTime,
    targets: &BTreeMap<String, String>,
    stages: &[Stage],
    src: &Source<'_>,
) -> Result<Vec<UserClass>> {
    let classes = match (&raw.tasks, &raw.users) {
        (Some(_), Some(users)) => {
            return Err(src.error(
                users.span(),
                "users",
                "a scenario has either top-level tasks (one kind of user) or [[users]] classes with their own tasks, not both",
            ))
        }
        (None, None) => {
            return Err(src.error(
                0..0,
                "tasks",
                "at least one task is needed: top-level [[tasks]], or [[users]] classes with their own [[users.tasks]]",
            ))
        }
        (Some(tasks), None) => vec![UserClass {
            name: super::IMPLICIT_CLASS.to_owned(),
            share: Share::Weight(1),
            think_time: think,
            keys: keys.clone(),
            tasks: class_tasks(tasks, "tasks", keys, src)?,
            target: None,
            declared: false,
            protocol: None,
            connection: connection(raw.connection.as_ref(), "connection", src)?,
        }],
        (None, Some(users)) => {
            if users.get_ref().is_empty() {
                return Err(src.error(users.span(), "users", "at least one class is needed"));
            }
            let mut out: Vec<UserClass> = Vec::new();
            for (i, c) in users.get_ref().iter().enumerate() {
                let mut class = class(i, c, keys, think, targets, stages, src)?;
                if c.get_ref().connection.is_none() {
                    class.connection = connection(raw.connection.as_ref(), "connection", src)?;
                }
                if out.iter().any(|x| x.name == class.name) {
                    let span = c.get_ref().name.span();
                    let message = format!("duplicate class name {:?}", class.name);
                    return Err(src.error(span, format!("users[{i}].name"), message));
                }
                out.push(class);
            }
            if out.iter().all(|c| c.share == Share::Weight(0)) {
                return Err(src.error(
                    users.span(),
                    "users.weight",
                    "at least one class needs a weight above 0 or a count",
                ));
            }
            out
        }
    };
    unique_stats_names(raw, &classes, src)?;
    Ok(classes)
}

fn class(
    i: usize,
    c: &Spanned<RawClass>,
    shared_keys: &BTreeMap<String, KeySpec>,
    think: ThinkTime,
    targets: &BTreeMap<String, String>,
    stages: &[Stage],
    src: &Source<'_>,
) -> Result<UserClass> {
    let field = |f: &str| format!("users[{i}].{f}");
    let r = c.get_ref();
    let name = stats_name(&r.name, field("name"), true, src)?;
    let share = match (&r.weight, &r.count) {
        (Some(_), Some(count)) => {
            return Err(src.error(
                count.span(),
                field("count"),
                "a class has a weight (a share of each stage's users) or a count (a fixed number), not both",
            ))
        }
        (None, Some(count)) if *count.get_ref() == 0 => {
            return Err(src.error(count.span(), field("count"), "must be at least 1"))
        }
        (None, Some(count)) => {
            if let Some(open) = stages
                .iter()
                .find(|s| matches!(s.load, Load::Rate { .. }))
            {
                return Err(src.error(
                    count.span(),
                    field("count"),
                    format!("a fixed count applies to closed-model stages (users), but stage {:?} is open (rate); give the class a weight", open.name),
                ));
            }
            Share::Count(*count.get_ref())
        }
        (Some(w), None) => Share::Weight(*w.get_ref()),
        (None, None) => Share::Weight(1),
    };
    let mut keys = shared_keys.clone();
    for (k, v) in fields::keys(&r.keys, src)? {
        keys.insert(k, v);
    }
    let think_time = match &r.think_time {
        Some(t) => think_time(t, src)?,
        None => think,
    };
    let target = r
        .target
        .as_ref()
        .map(|t| class_target(t, &field("target"), targets, src))
        .transpose()?;
    let protocol = r
        .protocol
        .as_ref()
        .map(|p| protocol(p, &field("protocol"), src))
        .transpose()?;
    // Without its own, the scenario's (set by the caller).
    let connection = connection(r.connection.as_ref(), &field("connection"), src)?;
    Ok(UserClass {
        tasks: class_tasks(&r.tasks, &field("tasks"), &keys, src)?,
        name,
        share,
        think_time,
        keys,
        target,
        declared: true,
        protocol,
        connection,
    })
}

/// `protocol = "h1" | "h2"`.
pub(super) fn protocol(p: &Spanned<String>, field: &str, src: &Source<'_>) -> Result<Protocol> {
    Protocol::parse(p.get_ref().trim()).ok_or_else(|| {
        src.error(
            p.span(),
            field,
            format!("{:?}: expected \"h1\" or \"h2\"", p.get_ref()),
        )
    })
}

/// `connection = "keep-alive" | "per-iteration" | "per-request"` (default keep-alive).
fn connection(c: Option<&Spanned<String>>, field: &str, src: &Source<'_>) -> Result<Reuse> {
    let Some(c) = c else {
        return Ok(Reuse::KeepAlive);
    };
    Reuse::parse(c.get_ref().trim()).ok_or_else(|| {
        let names: Vec<&str> = Reuse::ALL.iter().map(|r| r.name()).collect();
        src.error(
            c.span(),
            field,
            format!("{:?}: expected one of {names:?}", c.get_ref()),
        )
    })
}

/// A class's `target`: an `http://` URL, or the name of a `[targets.NAME]`.
fn class_target(
    t: &Spanned<String>,
    field: &str,
    targets: &BTreeMap<String, String>,
    src: &Source<'_>,
) -> Result<String> {
    let v = t.get_ref().trim();
    if let Some(url) = targets.get(v) {
        return Ok(url.clone());
    }
    if v.contains("://") {
        return target_url(v).map_err(|m| src.error(t.span(), field, m));
    }
    let named: Vec<&str> = targets.keys().map(String::as_str).collect();
    Err(src.error(
        t.span(),
        field,
        format!("{v:?} is neither an http(s):// URL nor a [targets.NAME] (declared: {named:?})"),
    ))
}

/// An `http(s)://HOST[:PORT][/prefix]` URL, as `--target` takes.
pub(super) fn target_url(v: &str) -> std::result::Result<String, String> {
    match reqwest::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            Ok(v.to_owned())
        }
        Ok(_) => Err(format!(
            "{v:?} must be an http:// or https:// URL with a host"
        )),
        Err(e) => Err(format!("{v:?} is not a URL: {e}")),
    }
}

/// The `[targets.NAME]` table: names to checked URLs.
pub(super) fn targets(raw: &RawScenario, src: &Source<'_>) -> Result<BTreeMap<String, String>> {
    raw.targets
        .iter()
        .map(|(name, t)| {
            let url = t.get_ref().url.get_ref();
            let field = format!("targets.{name}.url");
            let checked = target_url(url.trim()).map_err(|m| src.error(t.span(), field, m))?;
            Ok((name.clone(), checked))
        })
        .collect()
}

fn class_tasks(
    raw: &Spanned<Vec<Spanned<RawTask>>>,
    at: &str,
    keys: &BTreeMap<String, KeySpec>,
    src: &Source<'_>,
) -> Result<Vec<Task>> {
    if raw.get_ref().is_empty() {
        return Err(src.error(raw.span(), at, "at least one task is needed"));
    }
    let mut tasks: Vec<Task> = Vec::new();
    for (i, t) in raw.get_ref().iter().enumerate() {
        let name = t.get_ref().name.get_ref().trim();
        if tasks.iter().any(|x| x.name == name) {
            return Err(src.error(
                t.get_ref().name.span(),
                format!("{at}[{i}].name"),
                format!("duplicate task name {name:?}"),
            ));
        }
        tasks.push(task(&format!("{at}[{i}]"), t, keys, src)?);
    }
    if tasks.iter().all(|t| t.weight == 0) {
        return Err(src.error(
            raw.span(),
            format!("{at}.weight"),
            "at least one task needs a weight above 0",
        ));
    }
    Ok(tasks)
}

fn task(
    at: &str,
    t: &Spanned<RawTask>,
    keys: &BTreeMap<String, KeySpec>,
    src: &Source<'_>,
) -> Result<Task> {
    let field = |f: &str| format!("{at}.{f}");
    let r = t.get_ref();
    let name = stats_name(&r.name, field("name"), false, src)?;
    let mut vars = Vec::new();
    let (steps, on_error) = match &r.steps {
        Some(steps) => {
            let request_field = [
                ("method", r.method.as_ref().map(Spanned::span)),
                ("path", r.path.as_ref().map(Spanned::span)),
                ("body", r.body.as_ref().map(Spanned::span)),
                ("expect", r.expect.as_ref().map(Spanned::span)),
                ("headers", r.headers.values().next().map(Spanned::span)),
                ("extract", r.extract.first().map(Spanned::span)),
                ("check", r.check.first().map(Spanned::span)),
            ]
            .into_iter()
            .find_map(|(f, span)| span.map(|s| (f, s)));
            if let Some((f, span)) = request_field {
                return Err(src.error(
                    span,
                    field(f),
                    format!("task {name:?} is a flow (it has steps): its requests are its steps, so `{f}` belongs in a [[...steps]] entry"),
                ));
            }
            if steps.get_ref().is_empty() {
                return Err(src.error(steps.span(), field("steps"), "at least one step is needed"));
            }
            let mut out = Vec::new();
            for (k, s) in steps.get_ref().iter().enumerate() {
                out.push(step(
                    &format!("{at}.steps[{k}]"),
                    s.get_ref(),
                    keys,
                    &mut vars,
                    src,
                )?);
            }
            let on_error = match r.on_error.as_ref() {
                None => OnError::Stop,
                Some(o) => match o.get_ref().as_str() {
                    "stop" => OnError::Stop,
                    "continue" => OnError::Continue,
                    other => {
                        return Err(src.error(
                            o.span(),
                            field("on_error"),
                            format!("unknown {other:?}; expected \"stop\" or \"continue\""),
                        ))
                    }
                },
            };
            (out, on_error)
        }
        None => {
            if let Some(o) = &r.on_error {
                return Err(src.error(
                    o.span(),
                    field("on_error"),
                    "on_error applies to flows (tasks with steps)",
                ));
            }
            if let Some(e) = r.extract.first() {
                return Err(src.error(
                    e.span(),
                    field("extract"),
                    "a one-request task has no later step to use what it extracts; make it a flow with steps",
                ));
            }
            let Some(path) = &r.path else {
                return Err(src.error(
                    t.span(),
                    field("path"),
                    format!("task {name:?} needs a path (one request) or steps (a flow)"),
                ));
            };
            let one = RawStep {
                name: r.name.clone(),
                method: r.method.clone(),
                path: path.clone(),
                body: r.body.clone(),
                expect: r.expect.clone(),
                headers: r.headers.clone(),
                extract: Vec::new(),
                check: r.check.clone(),
            };
            (vec![step(at, &one, keys, &mut vars, src)?], OnError::Stop)
        }
    };
    Ok(Task {
        name,
        weight: *r.weight.get_ref(),
        steps,
        on_error,
        vars,
    })
}

/// No two stats rows may share a name: each single-request task and each
/// step is reported under its own.
fn unique_stats_names(raw: &RawScenario, classes: &[UserClass], src: &Source<'_>) -> Result<()> {
    let mut seen = BTreeSet::new();
    for c in classes {
        for t in &c.tasks {
            for s in &t.steps {
                if !seen.insert(s.name.as_str()) {
                    let at = raw_name_span(raw, &s.name);
                    return Err(src.error(
                        at,
                        if c.declared { "users.tasks.name" } else { "tasks.name" },
                        format!(
                            "{:?} names two requests: stats are reported per request name, so each task and step needs its own (e.g. prefix it with the class: \"{} {}\")",
                            s.name, c.name, s.name
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Where a name is written the second time (for the error's line).
fn raw_name_span(raw: &RawScenario, name: &str) -> std::ops::Range<usize> {
    let tasks = raw.tasks.iter().flat_map(|t| t.get_ref()).chain(
        raw.users
            .iter()
            .flat_map(|u| u.get_ref())
            .flat_map(|c| c.get_ref().tasks.get_ref()),
    );
    let mut spans = Vec::new();
    for t in tasks {
        let r = t.get_ref();
        if r.steps.is_none() && r.name.get_ref().trim() == name {
            spans.push(r.name.span());
        }
        for s in r.steps.iter().flat_map(|s| s.get_ref()) {
            if s.get_ref().name.get_ref().trim() == name {
                spans.push(s.get_ref().name.span());
            }
        }
    }
    spans.into_iter().nth(1).unwrap_or(0..0)
}
