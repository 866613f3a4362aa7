//! The checks, one function per item. In: a scenario and, when read, the
//! target's [`Facts`]. Out: [`Finding`]s with their evidence; each check
//! says what it found and, when it warns or fails, what to change.

use std::time::Duration;

use super::target::Facts;
use super::{Finding, Status};
use crate::scenario::template::KeyDistribution;
use crate::scenario::{Load, Metric, Scenario, Share, ThinkTime, UNTRACED};

use Status::{Fail, Pass, Warn};

type Part = (Status, String);

/// Users at or above which a closed model with no think time is a stress
/// test, not a model of people.
pub const STRESS_USERS: u32 = 100;

/// Samples a steady window needs for quantile `q`: ten beyond it, so that
/// the estimate rests on ten observations rather than one or two.
pub fn samples_needed(q: f64) -> u64 {
    (10.0 / (1.0 - q)).ceil() as u64
}

/// The shortest steady window a latency SLO on `metric` should be judged
/// over: a high percentile over a short window is decided by whether a
/// few slow moments (a GC cycle, a checkpoint) happened to fall in it.
pub fn min_window(metric: Metric) -> Option<Duration> {
    match metric {
        Metric::P50 => Some(Duration::from_secs(30)),
        Metric::P95 => Some(Duration::from_secs(60)),
        Metric::P99 => Some(Duration::from_secs(300)),
        _ => None,
    }
}

fn quantile(metric: Metric) -> Option<f64> {
    match metric {
        Metric::P50 => Some(0.5),
        Metric::P95 => Some(0.95),
        Metric::P99 => Some(0.99),
        _ => None,
    }
}

fn secs(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

/// The most users any closed stage reaches.
fn max_users(s: &Scenario) -> Option<u32> {
    s.stages
        .iter()
        .filter_map(|st| match st.load {
            Load::Users { from, to } => Some(from.max(to)),
            Load::Rate { .. } => None,
        })
        .max()
}

/// Every key the classes draw, each (name, spec) once.
fn all_keys(s: &Scenario) -> Vec<(&String, &crate::scenario::template::KeySpec)> {
    let mut out: Vec<(&String, &crate::scenario::template::KeySpec)> = Vec::new();
    for (name, k) in s.classes.iter().flat_map(|c| &c.keys) {
        if !out.iter().any(|(n, x)| *n == name && *x == k) {
            out.push((name, k));
        }
    }
    out
}

/// Mean think time over the classes, weighted by their shares (counts as
/// weights of their number of users), in seconds.
fn mean_think(s: &Scenario) -> f64 {
    s.classes
        .iter()
        .map(|c| class_fraction(s, &c.name) * think_mean(c.think_time))
        .sum()
}

/// Mean think time between iterations, in seconds.
fn think_mean(t: ThinkTime) -> f64 {
    match t {
        ThinkTime::None => 0.0,
        ThinkTime::Constant(d) | ThinkTime::ConstantPacing(d) => d.as_secs_f64(),
        ThinkTime::Between(a, b) => (a.as_secs_f64() + b.as_secs_f64()) / 2.0,
    }
}

/// The seed document's checklist, in its order.
pub fn checklist(s: &Scenario, facts: Option<&Facts>) -> Vec<Finding> {
    vec![
        Finding::of(
            "operational_behaviour",
            "Load scenarios validated against operational user behavior and traffic patterns",
            operational(s, facts),
        ),
        Finding::of(
            "environment",
            "Test environment mirrors production infrastructure (compute, network, database)",
            environment(facts),
        ),
        Finding::of(
            "requirement_traceable",
            "Performance requirements traceable to operational SLAs and mission needs",
            traceable(s),
        ),
        Finding::of(
            "data_distribution",
            "Test data reflects production data volume and distribution characteristics",
            data(s, facts),
        ),
        Finding::of(
            "statistics",
            "Results tracked over time to detect performance trends and regressions",
            statistics(s),
        ),
        Finding::of(
            "capacity_planning",
            "Findings documented for capacity planning and infrastructure scaling decisions",
            headroom(s),
        ),
    ]
}

/// Think time, kinds of users, the task mix, flows.
fn operational(s: &Scenario, facts: Option<&Facts>) -> Vec<Part> {
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
fn environment(facts: Option<&Facts>) -> Vec<Part> {
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
fn traceable(s: &Scenario) -> Vec<Part> {
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

/// Key distributions and key ranges against the target's data.
fn data(s: &Scenario, facts: Option<&Facts>) -> Vec<Part> {
    let mut parts = Vec::new();
    let keys = all_keys(s);
    if keys.is_empty() {
        parts.push((
            Warn,
            "no keys: every request reads the same paths (a cache sees one hot item)".into(),
        ));
    }
    for (name, k) in keys {
        match k.distribution {
            KeyDistribution::Uniform => parts.push((Warn, format!(
                "key {name} is uniform over {} ids: production traffic has hot spots (distribution = \"zipf\")",
                k.n
            ))),
            KeyDistribution::Zipf { s: exp } => parts.push((Pass, format!(
                "key {name}: zipf (s = {exp}) over {} ids, hot spots as in production",
                k.n
            ))),
        }
        let Some(held) = facts.and_then(|f| f.missions) else {
            continue;
        };
        let last = k.start + k.n - 1;
        if last > held {
            parts.push((Fail, format!(
                "key {name} draws ids up to {last}, the target holds {held}: {} of them do not exist (404s, not the work the SLO is about)",
                last - held
            )));
        } else if k.n * 100 < held {
            parts.push((Warn, format!(
                "key {name} draws {} of the target's {held} ids: a tiny slice that caches hold whole",
                k.n
            )));
        } else {
            parts.push((
                Pass,
                format!("key {name}: {} of the target's {held} ids", k.n),
            ));
        }
    }
    parts
}

/// Enough samples and time for each latency SLO; warm-up; ramp-down.
fn statistics(s: &Scenario) -> Vec<Part> {
    let mut parts = Vec::new();
    let steady: Vec<usize> = (0..s.stages.len())
        .filter(|&i| s.stages[i].steady)
        .collect();
    let window: Duration = steady.iter().map(|&i| s.stages[i].duration).sum();
    for slo in &s.slos {
        let (Some(q), Some(min)) = (quantile(slo.metric), min_window(slo.metric)) else {
            continue;
        };
        let needed = samples_needed(q);
        let share = slo.class.as_deref().map_or(1.0, |c| class_fraction(s, c));
        let expected = (expected_samples(s, &steady, slo.bound) as f64 * share) as u64;
        let how = format!(
            "{} needs {needed} samples (10 / (1 - {q})) and expects about {expected} over {} of steady load",
            slo.describe(),
            secs(window)
        );
        parts.push(if expected < needed {
            (Fail, format!("{how}: too few"))
        } else {
            (Pass, how)
        });
        if window * 3 < min {
            parts.push((
                Fail,
                format!(
                "a {} steady window is far too short for {}: under {} a few slow moments decide it",
                secs(window), slo.metric, secs(min)
            ),
            ));
        } else if window < min {
            parts.push((
                Warn,
                format!(
                    "a {} steady window is short for {} (at least {})",
                    secs(window),
                    slo.metric,
                    secs(min)
                ),
            ));
        }
    }
    match steady.first() {
        Some(0) => parts.push((Warn, "no warm-up before the steady window: connection set-up and cold caches land in what is judged".into())),
        Some(_) => parts.push((Pass, format!("warm-up before the steady window: {}", s.stages[0].name))),
        None => {}
    }
    match (steady.last(), s.stages.last()) {
        (Some(&last), Some(end)) if last + 1 < s.stages.len() => parts.push((Pass, format!("ramp-down after the steady window: {}", end.name))),
        (Some(_), _) => parts.push((Warn, "no ramp-down: the run stops at full load, so its last seconds mix finished and cut-off requests".into())),
        _ => {}
    }
    parts
}

/// The share of the users (by weight; counts as weights of their users)
/// that class `name` has.
fn class_fraction(s: &Scenario, name: &str) -> f64 {
    let share = |c: &crate::scenario::UserClass| f64::from(c.share.part());
    let total: f64 = s.classes.iter().map(share).sum();
    let mine: f64 = s.classes.iter().filter(|c| c.name == name).map(share).sum();
    if total > 0.0 {
        mine / total
    } else {
        0.0
    }
}

/// Requests the steady stages should see: open, arrivals; closed, users
/// over think time plus (at worst) the SLO's bound as response time.
fn expected_samples(s: &Scenario, steady: &[usize], bound_ms: f64) -> u64 {
    let response = (bound_ms / 1000.0).max(0.001);
    steady
        .iter()
        .map(|&i| {
            let st = &s.stages[i];
            let secs = st.duration.as_secs_f64();
            let rate = match st.load {
                Load::Rate { from, to } => (from + to) / 2.0,
                Load::Users { from, to } => {
                    let users = (f64::from(from) + f64::from(to)) / 2.0;
                    users / (mean_think(s) + response)
                }
            };
            (rate * secs) as u64
        })
        .sum()
}

/// A stage beyond the steady load, to show headroom.
fn headroom(s: &Scenario) -> Vec<Part> {
    let level = |l: Load| match l {
        Load::Users { from, to } => f64::from(from.max(to)),
        Load::Rate { from, to } => from.max(to),
    };
    let steady = s
        .stages
        .iter()
        .filter(|st| st.steady)
        .map(|st| level(st.load))
        .fold(0.0, f64::max);
    match s.stages.iter().find(|st| !st.steady && level(st.load) > steady) {
        Some(st) => vec![(Pass, format!(
            "stage {} goes beyond the steady load ({} against {}): the run shows headroom",
            st.name, level(st.load), steady
        ))],
        None => vec![(Warn, "no stage goes beyond the steady load: the run shows no headroom (add a spike stage, or run harness capacity)".into())],
    }
}

/// What generated load tests often miss, where the file can tell.
pub fn often_missed(s: &Scenario, facts: Option<&Facts>) -> Vec<Finding> {
    let flat = s.stages.iter().filter(|st| st.steady).count() == s.stages.len();
    let patterns = if flat {
        (Warn, "one flat level of load: operations have peaks and quiet hours (add ramp and spike stages)".to_owned())
    } else {
        (Pass, format!("{} stages of changing load", s.stages.len()))
    };
    let constrained = facts
        .and_then(|f| f.behaviour_on.as_ref())
        .is_some_and(|on| {
            on.iter().any(|o| {
                o.starts_with("concurrency")
                    || o.starts_with("links")
                    || o.starts_with("dependency_concurrency")
            })
        });
    let infrastructure = if constrained {
        (
            Pass,
            "the target emulates limits (concurrency, links or a dependency ceiling)".to_owned(),
        )
    } else {
        (Warn, "no limits are named: bandwidth, connection pools and memory are the production target's (mock-api emulates them: --concurrency, --link, --dependency-concurrency)".to_owned())
    };
    let skew = if all_keys(s)
        .iter()
        .any(|(_, k)| matches!(k.distribution, KeyDistribution::Zipf { .. }))
    {
        (Pass, "keys drawn with hot spots (zipf)".to_owned())
    } else {
        (
            Warn,
            "no skewed keys: every id as likely as any other".to_owned(),
        )
    };
    let own: Vec<String> = s
        .classes
        .iter()
        .filter_map(|c| c.target.as_ref().map(|t| format!("{} from {t}", c.name)))
        .collect();
    let place = match own.is_empty() {
        true => (
            Warn,
            "every user loads one address: one location (mock-api --link emulates far ones; a class's target = the link's address puts its users there)".to_owned(),
        ),
        false => (Pass, format!("classes load from their own addresses: {}", own.join(", "))),
    };
    let compound = (Warn, "only the API is loaded, not the systems behind it at the same time (mock-api's upstream can be loaded directly)".to_owned());
    vec![
        Finding::of(
            "operational_load_patterns",
            "Actual operational load patterns",
            vec![patterns],
        ),
        Finding::of(
            "infrastructure_constraints",
            "Infrastructure constraints (network bandwidth, database connections, memory limits)",
            vec![infrastructure],
        ),
        Finding::of(
            "realistic_data_distribution",
            "Realistic data distribution (production data skew, hot spots, cache hit rates)",
            vec![skew],
        ),
        Finding::of(
            "geographic_distribution",
            "Geographic distribution (latency from different operational locations)",
            vec![place],
        ),
        Finding::of(
            "compound_stress",
            "Compound stress factors (several systems under load at once)",
            vec![compound],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_and_windows_grow_with_the_percentile() {
        assert_eq!(samples_needed(0.95), 200);
        assert_eq!(samples_needed(0.99), 1000);
        assert!(min_window(Metric::P99) > min_window(Metric::P95));
        assert_eq!(min_window(Metric::Errors), None);
    }

    #[test]
    fn the_builtin_scenario_has_warnings_and_no_fail() {
        let s = Scenario::builtin();
        let all: Vec<Finding> = checklist(&s, None)
            .into_iter()
            .chain(often_missed(&s, None))
            .collect();
        let fails: Vec<&Finding> = all.iter().filter(|f| f.status == Fail).collect();
        assert!(fails.is_empty(), "{fails:#?}");
        let stats = all.iter().find(|f| f.id == "statistics").unwrap();
        assert_eq!(stats.status, Pass, "{stats:#?}");
    }
}
