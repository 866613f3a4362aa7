//! The `capacity` section of a run record (schema_version 3), written by
//! `harness capacity`. In: what the search measured at each step. Out: the
//! section as stored, and [`CapacityRecord::rejudged`], which derives the
//! capacity again from a judgement of the record's SLOs, so `harness judge`
//! treats a capacity record as the search did.
//!
//! Each step is a stage of the record (its hold, steady; and its ramp, not
//! steady, before it), and each of the scenario's SLOs is copied once per
//! step with that step's stage: the record's rows, histograms and SLOs are
//! those of any run, and this section says how they were stepped.

use serde::{Deserialize, Serialize};

use crate::record::{Model, SloRecord};

/// How the load grows from one step to the next.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepRule {
    /// Add this much (`--step 10`).
    Add(f64),
    /// Multiply by this (`--step x1.5`).
    Multiply(f64),
}

/// Why the search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// An SLO failed at the last step.
    SloFailed,
    /// The target saturated at the last step: throughput stopped following
    /// the load, errors appeared, or arrivals were dropped.
    Saturated,
    /// The next step would pass `--max`.
    MaxReached,
    /// `--max-steps` steps ran.
    MaxSteps,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl StopReason {
    /// Whether the search found the limit (rather than running out of room).
    pub fn found_limit(self) -> bool {
        matches!(self, StopReason::SloFailed | StopReason::Saturated)
    }
}

/// Why a step counts as saturated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Saturation {
    /// Achieved throughput fell behind the offered arrival rate (open) or
    /// stopped growing with the users (closed).
    Throughput,
    /// Requests failed.
    Errors,
    /// Open-model arrivals found `max_in_flight` requests running.
    Dropped,
}

/// The server's own view of one route over a step's hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRoute {
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub mean_ms: f64,
}

/// One step of the search, over its hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityStep {
    /// The record's stage holding this step (`step-01`...).
    pub stage: String,
    /// The offered load: arrivals per second (open) or users (closed).
    pub load: f64,
    /// Responses completed per second during the hold.
    pub achieved_rps: f64,
    /// Requests started in the hold, their errors, and arrivals dropped.
    pub requests: u64,
    pub errors: u64,
    pub dropped: u64,
    pub mean_ms: f64,
    pub p95_ms: f64,
    /// Requests in progress on average, by Little's law: achieved
    /// throughput × mean latency.
    pub concurrency: f64,
    /// Every SLO held at this step.
    pub slos_passed: bool,
    /// `None`: the target kept up.
    pub saturated: Option<Saturation>,
    /// What saturation or failure looked like, in words (empty when none).
    pub detail: String,
    /// Per server route, over the hold, when the target reports itself.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub server: std::collections::BTreeMap<String, StepRoute>,
}

/// The knee: where p95 starts to grow much faster than the load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knee {
    pub stage: String,
    pub load: f64,
    /// p95 at the step before it and at it.
    pub p95_before_ms: f64,
    pub p95_ms: f64,
}

/// The Universal Scalability Law fitted to the steps (see
/// `analysis::capacity`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UslRecord {
    /// Throughput of one request in progress (requests/s).
    pub lambda: f64,
    /// Contention.
    pub sigma: f64,
    /// Coherency.
    pub kappa: f64,
    pub r_squared: f64,
    /// Concurrency at the predicted peak (`null`: no peak, a ceiling).
    pub peak_concurrency: Option<f64>,
    /// The predicted peak throughput, or the ceiling approached.
    pub peak_throughput: Option<f64>,
    /// `null` when the fit may be used for planning; otherwise why not.
    pub poor: Option<String>,
}

/// How the search went and what it found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityRecord {
    pub model: Model,
    pub start: f64,
    pub step: StepRule,
    pub hold_s: f64,
    pub ramp_s: f64,
    pub max: f64,
    pub max_steps: u32,
    /// `--require`: the capacity the run must show.
    pub require: Option<f64>,
    pub steps: Vec<CapacityStep>,
    /// The highest load of the unbroken run of steps from the first that
    /// passed every SLO without saturating; `null` when the first did not.
    pub capacity: Option<f64>,
    /// The throughput achieved at that step.
    pub capacity_rps: Option<f64>,
    /// The search stopped before finding the limit (max reached, steps
    /// used up, interrupted): the capacity is at least this.
    pub at_least: bool,
    pub stopped: StopReason,
    /// The step the search stopped at, and why in words.
    pub stopped_at: Option<String>,
    pub stop_detail: String,
    pub knee: Option<Knee>,
    pub usl: Option<UslRecord>,
    /// The capacity is at least `require` (without `require`: a capacity
    /// was found).
    pub met: bool,
}

impl CapacityRecord {
    /// Capacity from the steps as they are marked: the unbroken run of
    /// passing, unsaturated steps from the first (a step cut short by
    /// Ctrl-C, always the last, does not count).
    pub fn derive(steps: &[CapacityStep], stopped: StopReason) -> (Option<f64>, Option<f64>) {
        let counted = match stopped {
            StopReason::Interrupted => &steps[..steps.len().saturating_sub(1)],
            _ => steps,
        };
        counted
            .iter()
            .take_while(|s| s.slos_passed && s.saturated.is_none())
            .last()
            .map_or((None, None), |s| (Some(s.load), Some(s.achieved_rps)))
    }

    /// Whether `capacity` meets `require`.
    pub fn meets(capacity: Option<f64>, require: Option<f64>) -> bool {
        match (capacity, require) {
            (Some(c), Some(r)) => c >= r,
            (Some(_), None) => true,
            (None, Some(r)) => r <= 0.0,
            (None, None) => false,
        }
    }

    /// The section again after its SLOs were judged anew (`slos`: the
    /// record's SLOs, each on one step's stage): which steps pass, the
    /// capacity, and whether it meets `require`.
    pub fn rejudged(&self, slos: &[SloRecord]) -> Self {
        let mut c = self.clone();
        for step in &mut c.steps {
            step.slos_passed = slos
                .iter()
                .filter(|s| s.spec.stages.contains(&step.stage))
                .all(|s| s.passed);
        }
        let (capacity, rps) = Self::derive(&c.steps, c.stopped);
        c.capacity = capacity;
        c.capacity_rps = rps;
        c.met = Self::meets(capacity, c.require);
        c
    }

    /// `req/s` (open) or `users` (closed).
    pub fn unit(&self) -> &'static str {
        match self.model {
            Model::Open => "req/s",
            Model::Closed => "users",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Metric, Op, Slo};

    fn step(stage: &str, load: f64, passed: bool, saturated: Option<Saturation>) -> CapacityStep {
        CapacityStep {
            stage: stage.into(),
            load,
            achieved_rps: load,
            requests: 100,
            errors: 0,
            dropped: 0,
            mean_ms: 50.0,
            p95_ms: 55.0,
            concurrency: load * 0.05,
            slos_passed: passed,
            saturated,
            detail: String::new(),
            server: Default::default(),
        }
    }

    #[test]
    fn capacity_is_the_last_of_the_unbroken_passing_steps() {
        let steps = [
            step("step-01", 10.0, true, None),
            step("step-02", 20.0, true, None),
            step("step-03", 30.0, false, None),
            step("step-04", 40.0, true, None),
        ];
        assert_eq!(
            CapacityRecord::derive(&steps, StopReason::SloFailed),
            (Some(20.0), Some(20.0))
        );
        assert_eq!(
            CapacityRecord::derive(&steps[..2], StopReason::Interrupted).0,
            Some(10.0)
        );
        let saturated = [
            step("step-01", 10.0, true, None),
            step("step-02", 20.0, true, Some(Saturation::Throughput)),
        ];
        let sat = StopReason::Saturated;
        assert_eq!(CapacityRecord::derive(&saturated, sat).0, Some(10.0));
        assert_eq!(CapacityRecord::derive(&saturated[1..], sat).0, None);
        assert!(CapacityRecord::meets(Some(20.0), Some(20.0)));
        assert!(!CapacityRecord::meets(Some(10.0), Some(20.0)));
        assert!(!CapacityRecord::meets(None, None));
    }

    #[test]
    fn rejudging_follows_the_slos_of_each_step() {
        let record = CapacityRecord {
            model: Model::Open,
            start: 10.0,
            step: StepRule::Add(10.0),
            hold_s: 3.0,
            ramp_s: 0.5,
            max: 100.0,
            max_steps: 30,
            require: Some(20.0),
            steps: vec![
                step("step-01", 10.0, true, None),
                step("step-02", 20.0, true, None),
            ],
            capacity: Some(20.0),
            capacity_rps: Some(20.0),
            at_least: true,
            stopped: StopReason::MaxReached,
            stopped_at: None,
            stop_detail: String::new(),
            knee: None,
            usl: None,
            met: true,
        };
        let slo = |stage: &str, passed: bool| SloRecord {
            spec: Slo {
                id: format!("p95@{stage}"),
                metric: Metric::P95,
                op: Op::Lt,
                bound: 100.0,
                stages: vec![stage.into()],
                task: None,
                class: None,
            },
            observed: Some(1.0),
            passed,
        };
        let again = record.rejudged(&[slo("step-01", true), slo("step-02", false)]);
        assert_eq!(again.capacity, Some(10.0));
        assert!(!again.met);
        assert!(!again.steps[1].slos_passed);
        let same = record.rejudged(&[slo("step-01", true), slo("step-02", true)]);
        assert_eq!(same, record);
    }
}
