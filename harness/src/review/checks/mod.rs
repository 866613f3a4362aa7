//! The checks, one function per item. In: a scenario and, when read, the
//! target's [`Facts`]. Out: [`Finding`]s with their evidence; each check
//! says what it found and, when it warns or fails, what to change.

mod data;
mod missed;
mod operational;
mod statistics;

use std::time::Duration;

pub(super) use super::target::Facts;
pub(super) use super::{Finding, Status};
pub(super) use crate::scenario::template::KeyDistribution;
pub(super) use crate::scenario::{Load, Metric, Scenario, ThinkTime, UNTRACED};

use data::data;
pub use missed::often_missed;
use operational::{environment, operational, traceable};
use statistics::{class_fraction, headroom, statistics};

pub(super) use Status::{Fail, Pass, Warn};

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
