//! The plan: where the run is at time `t` since its start, which stage, and
//! how many users (closed model) or arrivals per second (open model) it
//! should have then. Pure arithmetic over the (scaled) stages.

use std::time::Duration;

use crate::scenario::{Load, Scenario};

/// What the run should be doing at a moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    Users(u32),
    Rate(f64),
}

#[derive(Debug, Clone)]
pub struct Plan {
    /// (start offset, duration, load) of each stage.
    stages: Vec<(Duration, Duration, Load)>,
    total: Duration,
}

impl Plan {
    pub fn new(scenario: &Scenario) -> Self {
        let mut at = Duration::ZERO;
        let stages = scenario
            .stages
            .iter()
            .map(|s| {
                let start = at;
                at += s.duration;
                (start, s.duration, s.load)
            })
            .collect();
        Self { stages, total: at }
    }

    pub fn total(&self) -> Duration {
        self.total
    }

    /// The stage running at `t`; `None` once the plan is over.
    pub fn stage_at(&self, t: Duration) -> Option<usize> {
        if t >= self.total {
            return None;
        }
        self.stages
            .iter()
            .position(|(start, dur, _)| t >= *start && t < *start + *dur)
    }

    /// When stage `i` starts and ends, as offsets from the run's start.
    pub fn stage_window(&self, i: usize) -> (Duration, Duration) {
        let (start, dur, _) = self.stages[i];
        (start, start + dur)
    }

    /// The target at `t`: a linear ramp within the stage.
    pub fn target_at(&self, t: Duration) -> Option<(usize, Target)> {
        let i = self.stage_at(t)?;
        let (start, dur, load) = self.stages[i];
        let f = ((t - start).as_secs_f64() / dur.as_secs_f64()).clamp(0.0, 1.0);
        let target = match load {
            Load::Users { from, to } => Target::Users(
                (f64::from(from) + (f64::from(to) - f64::from(from)) * f).round() as u32,
            ),
            Load::Rate { from, to } => Target::Rate(from + (to - from) * f),
        };
        Some((i, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_ramps_linearly_through_its_stages() {
        let plan = Plan::new(&Scenario::builtin());
        assert_eq!(plan.total(), Duration::from_secs(2400));
        assert_eq!(plan.target_at(Duration::ZERO), Some((0, Target::Users(0))));
        assert_eq!(
            plan.target_at(Duration::from_secs(150)),
            Some((0, Target::Users(250)))
        );
        assert_eq!(
            plan.target_at(Duration::from_secs(300)),
            Some((1, Target::Users(500)))
        );
        assert_eq!(
            plan.target_at(Duration::from_secs(2130)),
            Some((2, Target::Users(625)))
        );
        assert_eq!(
            plan.target_at(Duration::from_secs(2200)),
            Some((3, Target::Users(750)))
        );
        assert_eq!(
            plan.target_at(Duration::from_secs(2340)),
            Some((4, Target::Users(375)))
        );
        assert_eq!(plan.target_at(Duration::from_secs(2400)), None);
        assert_eq!(
            plan.stage_window(1),
            (Duration::from_secs(300), Duration::from_secs(2100))
        );
    }
}
