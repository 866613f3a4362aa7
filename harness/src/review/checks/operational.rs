//! The checklist's operational items. In: a scenario and the target's
//! facts. Out: the parts of "operational behaviour", "kinds of user",
//! "environment" and "traceable".

use super::*;
use crate::scenario::Share;

/// Think time, kinds of users, the task mix, flows.
pub(super) fn operational(s: &Scenario, facts: Option<&Facts>) -> Vec<Part> {
    let mut parts = Vec::new();
    for c in &s.classes {
        let who = match c.declared {
            true => format!("class {}: ", c.name),
            false => String::new(),
        };
        parts.push(match (max_users(s), c.think_time) {
            (None, _) => (Pass, format!("{who}open model: arrivals at a rate, think time does not apply")),
            (Some(u), ThinkTime::None) if u >= STRESS_USERS => (Fail, format!(
                "{who}no think time with {u} users: each sends its next request the moment the last returns, a stress test rather than a model of people (add [think_time], e.g. between 1s and 3s)"
            )),
            (Some(u), ThinkTime::None) => (Warn, format!(
                "{who}no think time ({u} users): users who never pause are machines, not operators"
            )),
            (Some(_), t) => (Pass, format!(
                "{who}think time {:.1} s on average between iterations",
                think_mean(t)
            )),
        });
    }
    parts.push(kinds_of_users(s));
    for c in &s.classes {
        let total: u32 = c.tasks.iter().map(|t| t.weight).sum();
        let mix: Vec<String> = c
            .tasks
            .iter()
            .map(|t| {
                format!(
                    "{} {:.0}%",
                    t.name,
                    f64::from(t.weight) * 100.0 / f64::from(total.max(1))
                )
            })
            .collect();
        let who = match c.declared {
            true => format!("class {} ", c.name),
            false => String::new(),
        };
        parts.push((Pass, format!("{who}task mix: {}", mix.join(", "))));
    }
    let flows: Vec<String> = s
        .all_tasks()
        .filter(|t| t.is_flow())
        .map(|t| {
            let steps: Vec<&str> = t.steps.iter().map(|s| s.name.as_str()).collect();
            let carried = match t.vars.len() {
                0 => String::new(),
                _ => format!(", carrying {}", t.vars.join(", ")),
            };
            format!("{} ({}{carried})", t.name, steps.join(" → "))
        })
        .collect();
    let requests = s.all_tasks().count();
    if !flows.is_empty() {
        parts.push((
            Pass,
            format!(
                "flows that follow what a response said: {}",
                flows.join("; ")
            ),
        ));
    } else if requests > 1 {
        let api = match facts.map_or(0, |f| f.id_operations.len()) {
            0 => String::new(),
            n => format!(" (the API has {n} operations on ids to follow)"),
        };
        parts.push((Warn, format!(
            "every task is an independent request{api}: none opens what a search found or edits with the version it read (a task with [[tasks.steps]] can)"
        )));
    }
    parts
}

/// One kind of user, or several classes and their shares.
fn kinds_of_users(s: &Scenario) -> Part {
    if !s.has_classes() {
        return (Warn, "one kind of user: every user draws from the same task mix, where operations mix kinds (watch officers reading, planners editing, analysts searching); declare [[users]] classes, or say why one kind is enough".into());
    }
    let weights: u32 = s.classes.iter().map(|c| c.share.weight()).sum();
    let shares: Vec<String> = s
        .classes
        .iter()
        .map(|c| match c.share {
            Share::Weight(w) => format!(
                "{} {:.0}%",
                c.name,
                f64::from(w) * 100.0 / f64::from(weights.max(1))
            ),
            Share::Count(n) => format!("{} {n} users", c.name),
        })
        .collect();
    match s.classes.len() {
        1 => (
            Warn,
            format!(
                "one class of user ({}): operations mix kinds; say why one is enough",
                shares.join(", ")
            ),
        ),
        n => (Pass, format!("{n} kinds of user: {}", shares.join(", "))),
    }
}

/// Reachable, data volume stated, no emulated behaviour left on.
pub(super) fn environment(facts: Option<&Facts>) -> Vec<Part> {
    let Some(f) = facts else {
        return vec![(
            Warn,
            "not checked: give --target to read the target's data volume and behaviour".into(),
        )];
    };
    if !f.reachable {
        return vec![(Fail, format!("{} does not answer", f.url))];
    }
    let mut parts = vec![(Pass, format!("{} answers", f.url))];
    parts.push(match f.missions {
        Some(n) => (Pass, format!("the target holds {n} missions")),
        None => (
            Warn,
            "the target does not state its data volume (/__admin/stats)".into(),
        ),
    });
    parts.push(match &f.behaviour_on {
        None => (Warn, "the target does not say what behaviour is on (/__admin/behaviour)".into()),
        Some(on) if on.is_empty() => (Pass, "no emulated latency, faults or causes are on".into()),
        Some(on) => (Warn, format!(
            "emulated behaviour is on: {}; the results will include it (clear it unless this test means it)",
            on.join("; ")
        )),
    });
    parts
}

/// A requirement, SLOs under it, SLOs on steady stages.
pub(super) fn traceable(s: &Scenario) -> Vec<Part> {
    let mut parts = Vec::new();
    if s.requirement.id == UNTRACED {
        parts.push((
            Fail,
            "no [requirement]: the SLOs trace to nothing (add its id and text)".into(),
        ));
    } else {
        parts.push((
            Pass,
            format!("{}: {}", s.requirement.id, s.requirement.text),
        ));
    }
    let steady: Vec<&str> = s
        .stages
        .iter()
        .filter(|st| st.steady)
        .map(|st| st.name.as_str())
        .collect();
    if steady.is_empty() {
        parts.push((
            Fail,
            "no steady stage: nothing marks the window the requirement is about".into(),
        ));
    }
    if s.slos.is_empty() {
        parts.push((Fail, "no SLOs: nothing is judged".into()));
        return parts;
    }
    parts.push((
        Pass,
        format!(
            "{} SLO{}, each under {}",
            s.slos.len(),
            if s.slos.len() == 1 { "" } else { "s" },
            s.requirement.id
        ),
    ));
    for slo in &s.slos {
        let ramps: Vec<&String> = slo
            .stages
            .iter()
            .filter(|n| !steady.contains(&n.as_str()))
            .collect();
        if !ramps.is_empty() {
            parts.push((
                Warn,
                format!(
                    "{} judges {} (not steady: a ramp mixes loads)",
                    slo.describe(),
                    ramps
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    parts
}
