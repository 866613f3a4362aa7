//! `harness capacity`: how much load the target takes. In: a scenario (its
//! tasks, keys, think time and SLOs), a model, and how to step the load.
//! Out: one run record holding every step (its `capacity` section says
//! what was found), the summary on stdout, and the HTML report if asked.
//!
//! The load starts at `--start` and grows by `--step` (added, or
//! multiplied with `xF`), each step ramped from nothing over `--ramp` and
//! then held for `--hold`; each step is judged on the scenario's SLOs over
//! its hold. The search stops by itself at the first step that fails an
//! SLO or saturates the target (see [`steps::saturation`]), at `--max`,
//! after `--max-steps`, or on Ctrl-C. The capacity is the highest load of
//! the unbroken run of good steps from the first.
//!
//! - [`steps`]: one step's scenario, its measurement, and its judgement.
//! - [`combine`]: the steps as one record, with the knee and the USL fit.

mod combine;
pub mod steps;

use std::time::Duration;

use crate::error::Error;
use crate::load::endpoint::{check_reachable, parse_target};
use crate::output::progress::{self, Mode};
use crate::record::capacity::{StepRule, StopReason};
use crate::record::{Model, RunMeta, RunRecord};
use crate::run::{write_record, RecordOptions, Written};
use crate::scenario::{Load, Scenario, ScenarioRef};
use crate::server::stats_source::StatsSource;

/// What a search needs, from flags.
#[derive(Debug, Clone)]
pub struct CapacityOptions {
    pub target: String,
    /// The built-in REQ-PERF-401 when `None`.
    pub scenario: Option<ScenarioRef>,
    /// The scenario's own (its first steady stage's) when `None`.
    pub model: Option<Model>,
    pub start: Option<f64>,
    pub step: StepRule,
    pub hold: Duration,
    /// `hold / 6` when `None`.
    pub ramp: Option<Duration>,
    pub max: Option<f64>,
    pub max_steps: u32,
    pub require: Option<f64>,
    /// The seed (step NN runs with seed + NN - 1), where the record goes,
    /// what is shown.
    pub record: RecordOptions,
    /// `--http2`, `--ca-cert`, `--insecure`... over the scenario's transport.
    pub transport: crate::scenario::transport::TransportFlags,
}

/// How a search ended.
#[derive(Debug)]
pub struct CapacityResult {
    pub record: RunRecord,
    pub written: Written,
}

/// The loads to try, in order: from `start`, by `rule`, up to `max`, at
/// most `max_steps` of them. Users are whole and grow by at least one.
pub fn loads(model: Model, start: f64, rule: StepRule, max: f64, max_steps: u32) -> Vec<f64> {
    let mut out = Vec::new();
    let mut load = start;
    while load <= max && out.len() < max_steps as usize {
        out.push(load);
        let next = match rule {
            StepRule::Add(d) => load + d,
            StepRule::Multiply(f) => load * f,
        };
        load = match model {
            Model::Closed => next.round().max(load + 1.0),
            Model::Open => next,
        };
    }
    out
}

/// The search's settings, checked: everything `--start`, `--step`,
/// `--max`, `--hold` and `--ramp` may get wrong is named here.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub model: Model,
    pub start: f64,
    pub step: StepRule,
    pub max: f64,
    pub hold: Duration,
    pub ramp: Duration,
    pub max_steps: u32,
}

impl Plan {
    pub fn new(opts: &CapacityOptions, scenario: &Scenario) -> Result<Self, Error> {
        let usage = |m: String| Err(Error::Usage(m));
        let model = opts.model.unwrap_or_else(|| scenario_model(scenario));
        let (default_max, whole) = match model {
            Model::Open => (100_000.0, false),
            Model::Closed => (10_000.0, true),
        };
        let start = opts.start.unwrap_or(10.0);
        let max = opts.max.unwrap_or(default_max);
        if !(start.is_finite() && start > 0.0) || (whole && start.fract() != 0.0) {
            let what = if whole {
                "a whole number of users"
            } else {
                "an arrival rate"
            };
            return usage(format!("--start must be {what} above 0, got {start}"));
        }
        if !(max.is_finite() && max >= start) {
            return usage(format!(
                "--max must be at least --start ({start}), got {max}"
            ));
        }
        match opts.step {
            StepRule::Add(d) if !(d.is_finite() && d > 0.0) => {
                return usage(format!("--step must add more than 0, got {d}"))
            }
            StepRule::Multiply(f) if !(f.is_finite() && f > 1.0) => {
                return usage(format!("--step x{f} must multiply by more than 1"))
            }
            _ => {}
        }
        if opts.hold < Duration::from_secs(1) {
            return usage(format!(
                "--hold must be at least 1s (a step's throughput is counted in whole seconds), got {}",
                humantime::format_duration(opts.hold)
            ));
        }
        if opts.max_steps == 0 {
            return usage("--max-steps must be at least 1".to_owned());
        }
        let ramp = opts.ramp.unwrap_or(opts.hold / 6);
        Ok(Plan {
            model,
            start,
            step: opts.step,
            max,
            hold: opts.hold,
            ramp,
            max_steps: opts.max_steps,
        })
    }

    pub fn loads(&self) -> Vec<f64> {
        loads(self.model, self.start, self.step, self.max, self.max_steps)
    }
}

/// The model of the scenario's first steady stage (else its first).
fn scenario_model(s: &Scenario) -> Model {
    let stage = s.stages.iter().find(|st| st.steady).or(s.stages.first());
    match stage.map(|st| st.load) {
        Some(Load::Rate { .. }) => Model::Open,
        _ => Model::Closed,
    }
}

/// Runs the search and writes its record.
pub async fn search(opts: &CapacityOptions) -> Result<CapacityResult, Error> {
    let mut base = opts.scenario.clone().unwrap_or_default().load()?;
    opts.transport.apply_to(&mut base);
    let rec = &opts.record;
    let plan = Plan::new(opts, &base)?;
    let url = parse_target(&opts.target)?;
    check_reachable(&url, &base.transport).await?;
    let mode = Mode::detect(rec.quiet);
    let export = match rec.metrics_listen {
        Some(addr) => Some(crate::live::LiveExport::listen(addr).await?),
        None => None,
    };
    let loads = plan.loads();
    progress::announce(
        mode,
        format_args!(
            "harness capacity: {} ({}) against {}: {} model, up to {} steps from {} by {}, {} s each (ramp {} s), seed {}",
            base.name,
            base.requirement.id,
            opts.target,
            model_name(plan.model),
            loads.len(),
            plan.start,
            rule_text(plan.step),
            plan.hold.as_secs_f64(),
            plan.ramp.as_secs_f64(),
            rec.seed
        ),
    );
    let stats = match rec.no_server_stats {
        true => None,
        false => StatsSource::probe(&opts.target, &base.transport.tls).await,
    };
    let mut measured = Vec::new();
    let mut stopped = None;
    for (i, &load) in loads.iter().enumerate() {
        let watched = export.as_ref().map(|l| &l.export);
        let step =
            steps::run_step(&base, &plan, i, load, &url, rec.seed, mode, &stats, watched).await;
        let prev = measured.last().map(|m: &steps::Measured| &m.step);
        let judged = step.judge(prev, plan.model);
        progress::announce(mode, format_args!("{}", judged.line(plan.model)));
        let stop = judged.stop();
        measured.push(judged);
        if stop.is_some() {
            stopped = stop;
            break;
        }
    }
    let (reason, detail) = stopped.unwrap_or_else(|| ran_out(&plan, loads.len()));
    let meta = RunMeta {
        target: opts.target.clone(),
        label: rec.label.clone(),
        seed: rec.seed,
        duration_scale: 1.0,
        shard: None,
    };
    let record = combine::record(&base, &plan, opts.require, &meta, measured, reason, detail);
    let written = write_record(&record, rec, &format!("capacity-{}", base.name))?;
    Ok(CapacityResult { record, written })
}

/// Why a search that never failed stopped.
fn ran_out(plan: &Plan, ran: usize) -> (StopReason, String) {
    if ran as u32 >= plan.max_steps {
        let detail = format!("{} steps ran (--max-steps)", plan.max_steps);
        return (StopReason::MaxSteps, detail);
    }
    let detail = format!("the next step would pass --max {}", plan.max);
    (StopReason::MaxReached, detail)
}

pub(crate) fn model_name(m: Model) -> &'static str {
    match m {
        Model::Open => "open",
        Model::Closed => "closed",
    }
}

pub(crate) fn rule_text(r: StepRule) -> String {
    match r {
        StepRule::Add(d) => format!("+{d}"),
        StepRule::Multiply(f) => format!("x{f}"),
    }
}

/// `--step`: `10` adds 10 each step, `x1.5` multiplies by 1.5.
pub fn parse_step(s: &str) -> Result<StepRule, String> {
    let bad = || format!("expected a number to add (10) or x and a factor (x1.5), got {s:?}");
    match s.strip_prefix(['x', 'X', '*']) {
        Some(f) => f.trim().parse().map(StepRule::Multiply).map_err(|_| bad()),
        None => s.trim().parse().map(StepRule::Add).map_err(|_| bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_add_or_multiply_and_stop_at_max_or_count() {
        assert_eq!(
            loads(Model::Open, 20.0, StepRule::Add(10.0), 60.0, 30),
            [20.0, 30.0, 40.0, 50.0, 60.0]
        );
        assert_eq!(
            loads(Model::Open, 10.0, StepRule::Multiply(2.0), 100.0, 30),
            [10.0, 20.0, 40.0, 80.0]
        );
        assert_eq!(
            loads(Model::Open, 10.0, StepRule::Add(1.0), 1e9, 3),
            [10.0, 11.0, 12.0]
        );
        // Users are whole and always grow.
        assert_eq!(
            loads(Model::Closed, 2.0, StepRule::Multiply(1.2), 6.0, 30),
            [2.0, 3.0, 4.0, 5.0, 6.0]
        );
    }

    #[test]
    fn the_step_flag_reads_both_forms() {
        assert_eq!(parse_step("10"), Ok(StepRule::Add(10.0)));
        assert_eq!(parse_step("x1.5"), Ok(StepRule::Multiply(1.5)));
        assert!(parse_step("x").is_err());
        assert!(parse_step("ten").unwrap_err().contains("x1.5"));
    }
}
