//! One step of a capacity search. In: the base scenario, the plan, the
//! step's load. Out: the step measured ([`Measured`]: the engine's output,
//! the server's truth, the step's figures) and judged: its SLOs over the
//! hold, and whether the target kept up ([`saturation`]).

use std::collections::BTreeMap;

use crate::capacity::Plan;
use crate::load::engine::RunOutput;
use crate::output::progress::Mode;
use crate::record::capacity::{CapacityStep, Saturation, StepRoute, StopReason};
use crate::record::{Model, RunMeta, RunRecord};
use crate::scenario::{Load, Metric, Scenario, Slo, Stage};
use crate::server::stats_source::StatsSource;
use crate::server::ServerRecord;

/// Open model: the target keeps up while it completes at least this share
/// of the arrivals offered.
pub const OPEN_SHARE: f64 = 0.95;
/// Closed model: the target keeps up while throughput grows by at least
/// this share of the users' growth (users +100%: throughput at least +25%).
pub const CLOSED_GAIN: f64 = 0.25;

/// A step as run: what the engine gathered and what it comes to.
#[derive(Debug)]
pub struct Measured {
    /// The step's scenario: its ramp and hold stages and its SLOs.
    pub scenario: Scenario,
    pub output: RunOutput,
    pub server: Option<ServerRecord>,
    pub step: CapacityStep,
    /// The SLOs that failed, described with what was observed.
    pub failed: Vec<String>,
}

/// The name of step `i`'s hold (`step-01`) and ramp (`ramp-01`).
pub fn stage_names(i: usize) -> (String, String) {
    (format!("step-{:02}", i + 1), format!("ramp-{:02}", i + 1))
}

/// The seed of step `i`: the run's seed for the first step, then the next
/// numbers, so each step draws fresh keys and tasks and a search replays.
pub fn step_seed(seed: u64, i: usize) -> u64 {
    seed.wrapping_add(i as u64)
}

/// Step `i` as a scenario of its own: a ramp from nothing to `load` (when
/// `plan.ramp` is not zero), then the hold, steady; the base's SLOs on the
/// hold (throughput SLOs left out: a search's low steps are meant to be
/// below them).
pub fn step_scenario(base: &Scenario, plan: &Plan, i: usize, load: f64) -> Scenario {
    let (hold, ramp) = stage_names(i);
    let (ramp_load, hold_load) = match plan.model {
        Model::Open => (
            Load::Rate {
                from: 0.0,
                to: load,
            },
            Load::Rate {
                from: load,
                to: load,
            },
        ),
        Model::Closed => {
            let n = load as u32;
            (
                Load::Users { from: 0, to: n },
                Load::Users { from: n, to: n },
            )
        }
    };
    let mut s = base.clone();
    s.stages.clear();
    if !plan.ramp.is_zero() {
        s.stages.push(Stage {
            name: ramp,
            load: ramp_load,
            duration: plan.ramp,
            steady: false,
        });
    }
    s.stages.push(Stage {
        name: hold.clone(),
        load: hold_load,
        duration: plan.hold,
        steady: true,
    });
    s.slos = base
        .slos
        .iter()
        .filter(|slo| slo.metric != Metric::Rps)
        .map(|slo| Slo {
            id: format!("{}@{hold}", slo.id),
            stages: vec![hold.clone()],
            ..slo.clone()
        })
        .collect();
    s
}

/// Runs step `i` at `load` and reads its figures over the hold.
#[allow(clippy::too_many_arguments)]
pub async fn run_step(
    base: &Scenario,
    plan: &Plan,
    i: usize,
    load: f64,
    url: &reqwest::Url,
    seed: u64,
    mode: Mode,
    stats: &Option<StatsSource>,
    export: Option<&std::sync::Arc<crate::live::LiveExport>>,
) -> Measured {
    let scenario = step_scenario(base, plan, i, load);
    let seed = step_seed(seed, i);
    let sources = stats.iter().cloned().collect();
    let urls = std::slice::from_ref(url);
    let (output, server) = crate::run::measure(
        &scenario,
        urls,
        seed,
        mode,
        sources,
        export.map(|e| (e, None)),
    )
    .await;
    let meta = RunMeta {
        target: url.to_string(),
        label: None,
        seed,
        duration_scale: 1.0,
        shard: None,
    };
    let record = RunRecord::build(&scenario, &meta, &output, server.clone());
    let (hold, _) = stage_names(i);
    let row = record.task(&hold, None);
    let (requests, errors) = row.map_or((0, 0), |r| (r.requests, r.errors));
    let mean_ms = row.and_then(|r| r.latency.mean_ms).unwrap_or(0.0);
    let p95_ms = row.and_then(|r| r.latency.p95_ms).unwrap_or(0.0);
    let dropped = record
        .stages
        .iter()
        .find(|s| s.name == hold)
        .map_or(0, |s| s.dropped);
    let achieved_rps = achieved(&record, plan);
    let failed = record
        .slos
        .iter()
        .filter(|s| !s.passed)
        .map(|s| match s.observed {
            Some(o) => format!("{}: observed {}", s.describe(), round(o)),
            None => format!("{}: not observed", s.describe()),
        })
        .collect::<Vec<_>>();
    let server_routes = record.server.as_ref().map_or_else(BTreeMap::new, |s| {
        s.routes
            .iter()
            .filter(|(_, r)| r.count > 0)
            .map(|(name, r)| {
                let route = StepRoute {
                    count: r.count,
                    p50_ms: r.latency.p50_ms,
                    p95_ms: r.latency.p95_ms,
                    mean_ms: r.latency.mean_ms,
                };
                (name.clone(), route)
            })
            .collect()
    });
    let step = CapacityStep {
        stage: hold,
        load,
        achieved_rps: round(achieved_rps),
        requests,
        errors,
        dropped,
        mean_ms,
        p95_ms,
        concurrency: round(achieved_rps * mean_ms / 1000.0),
        slos_passed: failed.is_empty(),
        saturated: None,
        detail: String::new(),
        server: server_routes,
    };
    Measured {
        scenario,
        output,
        server,
        step,
        failed,
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Responses completed per second over the hold's whole seconds (from the
/// time series: a response counts in the second it completed), so a
/// target that falls behind shows fewer than were sent.
fn achieved(record: &RunRecord, plan: &Plan) -> f64 {
    let ramp = plan.ramp.as_secs_f64();
    let (a, b) = (ramp.ceil(), (ramp + plan.hold.as_secs_f64()).floor());
    if b <= a {
        return 0.0;
    }
    let done: u64 = record
        .timeseries
        .iter()
        .filter(|p| f64::from(p.t) >= a && f64::from(p.t) < b)
        .map(|p| p.all.requests)
        .sum();
    done as f64 / (b - a)
}

/// Whether the target kept up at `step` (after `prev`), and if not why:
/// errors, dropped arrivals, or throughput that stopped following the
/// load (open: under [`OPEN_SHARE`] of the arrival rate; closed: growing
/// by less than [`CLOSED_GAIN`] of the users' growth).
pub fn saturation(
    step: &CapacityStep,
    prev: Option<&CapacityStep>,
    model: Model,
) -> Option<(Saturation, String)> {
    if step.errors > 0 {
        let text = format!("{} of {} requests failed", step.errors, step.requests);
        return Some((Saturation::Errors, text));
    }
    if step.dropped > 0 {
        let text = format!(
            "{} arrivals dropped: max_in_flight requests were already running",
            step.dropped
        );
        return Some((Saturation::Dropped, text));
    }
    match model {
        Model::Open if step.achieved_rps < OPEN_SHARE * step.load => {
            let text = format!(
                "achieved {:.1} req/s of {} offered ({:.0}%)",
                step.achieved_rps,
                step.load,
                step.achieved_rps / step.load * 100.0
            );
            Some((Saturation::Throughput, text))
        }
        Model::Open => None,
        Model::Closed => {
            let prev = prev.filter(|p| p.load > 0.0 && p.achieved_rps > 0.0)?;
            let users = step.load / prev.load - 1.0;
            let throughput = step.achieved_rps / prev.achieved_rps - 1.0;
            (users > 0.0 && throughput < CLOSED_GAIN * users).then(|| {
                let text = format!(
                    "users {:+.0}% but throughput {:+.0}% ({:.1} to {:.1} req/s)",
                    users * 100.0,
                    throughput * 100.0,
                    prev.achieved_rps,
                    step.achieved_rps
                );
                (Saturation::Throughput, text)
            })
        }
    }
}

impl Measured {
    /// Marks saturation and writes the step's detail.
    pub fn judge(mut self, prev: Option<&CapacityStep>, model: Model) -> Self {
        let saturated = saturation(&self.step, prev, model);
        let mut detail = self.failed.clone();
        if let Some((kind, text)) = &saturated {
            self.step.saturated = Some(*kind);
            detail.push(format!("saturated: {text}"));
        }
        if self.output.interrupted {
            detail.push("interrupted during the step".to_owned());
        }
        self.step.detail = detail.join("; ");
        self
    }

    /// Why the search stops after this step, if it does.
    pub fn stop(&self) -> Option<(StopReason, String)> {
        let reason = if self.output.interrupted {
            StopReason::Interrupted
        } else if !self.step.slos_passed {
            StopReason::SloFailed
        } else if self.step.saturated.is_some() {
            StopReason::Saturated
        } else {
            return None;
        };
        Some((reason, self.step.detail.clone()))
    }

    /// The step's line for the person watching.
    pub fn line(&self, model: Model) -> String {
        let s = &self.step;
        let unit = match model {
            Model::Open => "req/s offered",
            Model::Closed => "users",
        };
        let verdict = match (s.slos_passed, s.saturated.is_some()) {
            (true, false) => "pass".to_owned(),
            _ => format!("stop: {}", s.detail),
        };
        format!(
            "{}: {} {unit}: {:.1} req/s achieved, p95 {:.1} ms, mean {:.1} ms, {} errors: {verdict}",
            s.stage, s.load, s.achieved_rps, s.p95_ms, s.mean_ms, s.errors
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(load: f64, achieved: f64) -> CapacityStep {
        CapacityStep {
            stage: "step-02".into(),
            load,
            achieved_rps: achieved,
            requests: 100,
            errors: 0,
            dropped: 0,
            mean_ms: 50.0,
            p95_ms: 55.0,
            concurrency: 1.0,
            slos_passed: true,
            saturated: None,
            detail: String::new(),
            server: BTreeMap::new(),
        }
    }

    #[test]
    fn an_open_step_saturates_when_completions_fall_behind_arrivals() {
        assert_eq!(saturation(&step(80.0, 79.0), None, Model::Open), None);
        let (kind, text) = saturation(&step(90.0, 78.0), None, Model::Open).unwrap();
        assert_eq!(kind, Saturation::Throughput);
        assert!(text.contains("78.0 req/s of 90"), "{text}");
    }

    #[test]
    fn a_closed_step_saturates_when_throughput_stops_growing_with_users() {
        let prev = step(20.0, 40.0);
        assert_eq!(
            saturation(&step(40.0, 75.0), Some(&prev), Model::Closed),
            None
        );
        let (kind, _) = saturation(&step(40.0, 44.0), Some(&prev), Model::Closed).unwrap();
        assert_eq!(kind, Saturation::Throughput);
        assert_eq!(saturation(&step(40.0, 44.0), None, Model::Closed), None);
    }

    #[test]
    fn errors_and_drops_are_saturation_whatever_the_throughput() {
        let mut s = step(10.0, 10.0);
        s.errors = 3;
        assert_eq!(
            saturation(&s, None, Model::Open).unwrap().0,
            Saturation::Errors
        );
        s.errors = 0;
        s.dropped = 1;
        assert_eq!(
            saturation(&s, None, Model::Closed).unwrap().0,
            Saturation::Dropped
        );
    }

    #[test]
    fn a_step_scenario_ramps_holds_and_judges_only_its_hold() {
        let base = Scenario::builtin();
        let plan = Plan {
            model: Model::Open,
            start: 10.0,
            step: crate::record::capacity::StepRule::Add(10.0),
            max: 100.0,
            hold: std::time::Duration::from_secs(6),
            ramp: std::time::Duration::from_secs(1),
            max_steps: 30,
        };
        let s = step_scenario(&base, &plan, 2, 30.0);
        let names: Vec<&str> = s.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["ramp-03", "step-03"]);
        assert!(!s.stages[0].steady && s.stages[1].steady);
        assert_eq!(
            s.stages[1].load,
            Load::Rate {
                from: 30.0,
                to: 30.0
            }
        );
        assert_eq!(s.slos.len(), base.slos.len());
        assert!(s.slos.iter().all(|slo| slo.stages == ["step-03"]));
        assert!(s.slos[0].id.ends_with("@step-03"), "{}", s.slos[0].id);
    }
}
