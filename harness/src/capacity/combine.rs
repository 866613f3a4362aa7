//! The steps of a search as one record. In: the measured steps, the plan,
//! and why the search stopped. Out: a [`RunRecord`] whose stages are every
//! step's ramp and hold, whose SLOs are every step's, whose server truth is
//! the holds' exact sum, with its `capacity` section (the capacity, the
//! knee, the USL fit) and its verdict: pass when the capacity meets
//! `--require`.

use crate::analysis::capacity::{fit_usl, knee, Point};
use crate::capacity::steps::Measured;
use crate::capacity::Plan;
use crate::load::collector::{add_errors, Collected};
use crate::load::engine::RunOutput;
use crate::record::capacity::{
    CapacityRecord, CapacityStep, Knee, Saturation, StopReason, UslRecord,
};
use crate::record::{RunMeta, RunRecord, Verdict};
use crate::scenario::Scenario;
use crate::server::{self, ServerRecord};

/// The search's record.
pub(super) fn record(
    base: &Scenario,
    plan: &Plan,
    require: Option<f64>,
    meta: &RunMeta,
    measured: Vec<Measured>,
    stopped: StopReason,
    stop_detail: String,
) -> RunRecord {
    let mut scenario = base.clone();
    scenario.stages = measured
        .iter()
        .flat_map(|m| m.scenario.stages.clone())
        .collect();
    scenario.slos = measured
        .iter()
        .flat_map(|m| m.scenario.slos.clone())
        .collect();
    let output = joined(&measured);
    let servers: Option<Vec<&ServerRecord>> = measured.iter().map(|m| m.server.as_ref()).collect();
    let server = servers.and_then(|s| server::sum_records(&s));
    let mut record = RunRecord::build(&scenario, meta, &output, server);
    let steps: Vec<CapacityStep> = measured.into_iter().map(|m| m.step).collect();
    let (capacity, capacity_rps) = CapacityRecord::derive(&steps, stopped);
    let met = CapacityRecord::meets(capacity, require);
    let section = CapacityRecord {
        model: plan.model,
        start: plan.start,
        step: plan.step,
        hold_s: plan.hold.as_secs_f64(),
        ramp_s: plan.ramp.as_secs_f64(),
        max: plan.max,
        max_steps: plan.max_steps,
        require,
        capacity,
        capacity_rps,
        at_least: !stopped.found_limit(),
        stopped,
        stopped_at: stopped
            .found_limit()
            .then(|| steps.last().map(|s| s.stage.clone()))
            .flatten(),
        stop_detail,
        knee: knee_of(&steps),
        usl: usl_of(&steps),
        met,
        steps,
    };
    record.verdict = if met { Verdict::Pass } else { Verdict::Fail };
    record.capacity = Some(section);
    record
}

/// The knee among the steps: load against p95.
pub(super) fn knee_of(steps: &[CapacityStep]) -> Option<Knee> {
    let curve: Vec<(f64, f64)> = steps.iter().map(|s| (s.load, s.p95_ms)).collect();
    let i = knee(&curve)?;
    Some(Knee {
        stage: steps[i].stage.clone(),
        load: steps[i].load,
        p95_before_ms: steps[i - 1].p95_ms,
        p95_ms: steps[i].p95_ms,
    })
}

/// How far above the throughput a saturated target reached a fitted peak
/// may lie before the fit is called poor.
const PEAK_OVER_CEILING: f64 = 1.15;

/// The USL fitted to the steps' concurrency (Little's law) and throughput.
pub(super) fn usl_of(steps: &[CapacityStep]) -> Option<UslRecord> {
    let points: Vec<Point> = steps
        .iter()
        .map(|s| Point::from_little(s.achieved_rps, s.mean_ms))
        .collect();
    let mut fit = fit_usl(&points)?;
    // A target that saturated showed its ceiling: a fit whose peak lies
    // well above it (the law's smooth curve over a hard limit) is not one
    // to plan with.
    let reached = steps.iter().map(|s| s.achieved_rps).fold(0.0, f64::max);
    let saturated = steps
        .iter()
        .any(|s| s.saturated == Some(Saturation::Throughput));
    if let (true, None, Some(peak)) = (saturated, &fit.poor, fit.peak_throughput) {
        if peak > PEAK_OVER_CEILING * reached {
            fit.poor = Some(format!(
                "it predicts {peak:.0} req/s at best, but throughput levelled off at {reached:.1} req/s when the target saturated (a hard ceiling, which the law's smooth curve overshoots)"
            ));
        }
    }
    let r = |x: f64| (x * 1e6).round() / 1e6;
    Some(UslRecord {
        lambda: r(fit.lambda),
        sigma: r(fit.sigma),
        kappa: r(fit.kappa),
        r_squared: r(fit.r_squared),
        peak_concurrency: fit.peak_concurrency.map(r),
        peak_throughput: fit.peak_throughput.map(r),
        poor: fit.poor,
    })
}

/// The steps' outputs as one run: stages in order, counts summed, the
/// time series on the search's own clock (seconds since the first step).
fn joined(measured: &[Measured]) -> RunOutput {
    let first = &measured[0].output;
    let mut c = Collected {
        cells: Vec::new(),
        errors: Default::default(),
        error_samples: Default::default(),
        timeseries: Vec::new(),
        users_max: Vec::new(),
        dropped: Vec::new(),
        phases: first.collected.phases.clone(),
        slowest: first.collected.slowest.clone(),
    };
    let mut connections = first.connections;
    let mut stage_times = Vec::new();
    for m in measured {
        let (o, from) = (&m.output, &m.output.collected);
        c.cells.extend(from.cells.iter().cloned());
        c.users_max.extend(&from.users_max);
        c.dropped.extend(&from.dropped);
        if !std::ptr::eq(o, first) {
            connections.add(&o.connections);
            for (row, more) in c.phases.iter_mut().zip(&from.phases) {
                row.add_all(more);
            }
            // Each row's slowest over every step's hold.
            for (row, more) in c.slowest.iter_mut().zip(&from.slowest) {
                let keep = row.len().max(more.len());
                row.extend(more.iter().cloned());
                row.sort_by_key(|s| std::cmp::Reverse(s.latency));
                row.truncate(keep);
            }
        }
        stage_times.extend(&o.stage_times);
        add_errors(
            &mut c.errors,
            &mut c.error_samples,
            &from.errors,
            &from.error_samples,
        );
        let offset = (o.started_at - first.started_at).num_milliseconds().max(0) / 1000;
        let mut next = c.timeseries.last().map_or(0, |p| p.t + 1);
        for p in &from.timeseries {
            let t = (offset as u32 + p.t).max(next);
            next = t + 1;
            c.timeseries
                .push(crate::load::collector::Point { t, ..p.clone() });
        }
    }
    RunOutput {
        collected: c,
        started_at: first.started_at,
        ended_at: measured[measured.len() - 1].output.ended_at,
        stage_times,
        interrupted: measured.iter().any(|m| m.output.interrupted),
        connections,
    }
}
