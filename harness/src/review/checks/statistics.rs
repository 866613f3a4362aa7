//! The checklist's statistics and headroom items. In: a scenario's
//! stages and SLOs. Out: whether each SLO will have enough samples and a
//! long enough window, and whether the load leaves headroom.

use std::time::Duration;

use super::*;

/// Enough samples and time for each latency SLO; warm-up; ramp-down.
pub(super) fn statistics(s: &Scenario) -> Vec<Part> {
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
pub(super) fn class_fraction(s: &Scenario, name: &str) -> f64 {
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
pub(super) fn expected_samples(s: &Scenario, steady: &[usize], bound_ms: f64) -> u64 {
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
pub(super) fn headroom(s: &Scenario) -> Vec<Part> {
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
