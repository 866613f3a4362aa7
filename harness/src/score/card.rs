//! The scorecard. In: a tool's report, the server's truth over the same
//! window, the tolerance and, for an arrival rate with a stall, the
//! intended-schedule expectation. Out: [`Scorecard`] (JSON
//! `schema_version: 1`, `docs/scorecard.md`): each figure as the tool
//! reported it beside the reference, the signed error, and whether it is
//! within tolerance.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::target::Truth;
use crate::adapters::{LoadModel, Tool, ToolReport};
use crate::histogram::ms;

pub const SCHEMA_VERSION: u32 = 1;

/// The percentiles scored, by name and quantile (1: the maximum).
pub const SCORED: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("max", 1.0),
];

/// How close is close enough: the larger of a share and an absolute margin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    pub pct: f64,
    pub ms: f64,
}

impl Tolerance {
    /// The margin around `reference` (ms, or a count) that is within.
    pub fn margin(&self, reference: f64) -> f64 {
        self.ms.max(self.pct / 100.0 * reference.abs())
    }
}

/// A stall of `for_s` every `every_s` seconds met at a constant arrival rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StallModel {
    pub every_s: f64,
    pub for_s: f64,
    /// The service time outside stalls (the server's median), ms.
    pub base_ms: f64,
}

impl StallModel {
    /// What users arriving at a constant rate experienced at quantile `q`:
    /// a share S/E waited Uniform(0, S] on top of the service time.
    pub fn expected_ms(&self, q: f64) -> f64 {
        let share = self.for_s / self.every_s;
        let wait = if q <= 1.0 - share {
            0.0
        } else {
            self.for_s * (q.min(1.0) - (1.0 - share)) / share
        };
        self.base_ms + wait * 1000.0
    }
}

/// What the percentiles are judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reference {
    /// The server's own service times over the run.
    Server,
    /// What users arriving on schedule experienced (a stall at a rate).
    Expectation,
}

/// A count: requests or errors, the tool's against the server's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountLine {
    pub name: String,
    /// `None`: the tool does not report it.
    pub tool: Option<u64>,
    pub server: u64,
    pub difference: Option<i64>,
    pub within: Option<bool>,
}

/// A percentile as the tool reported it, the server's, the expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PercentileLine {
    pub name: String,
    pub q: f64,
    /// `None`: the tool does not report this percentile.
    pub tool_ms: Option<f64>,
    pub server_ms: f64,
    pub expected_ms: Option<f64>,
    /// Tool minus reference (the expectation when there is one).
    pub error_ms: Option<f64>,
    pub error_pct: Option<f64>,
    pub within: Option<bool>,
}

/// Whether every scored figure was within tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreVerdict {
    Pass,
    Fail,
}

/// A tool scored against the known target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub schema_version: u32,
    pub tool: Tool,
    /// The built-in trial, when one was run.
    pub trial: Option<String>,
    /// The behaviour the target was given (admin API JSON).
    pub behaviour: serde_json::Value,
    pub target: String,
    pub command: Vec<String>,
    pub started_at: String,
    pub duration_s: f64,
    pub connections: u32,
    pub rate: Option<f64>,
    pub model: LoadModel,
    /// The tool measured from intended send times (open model).
    pub measured_from_intended_send_times: bool,
    pub reference: Reference,
    pub stall: Option<StallModel>,
    pub tolerance: Tolerance,
    pub counts: Vec<CountLine>,
    /// The tool's failures by kind, as it names them (`status_503`, `read`).
    pub tool_error_kinds: BTreeMap<String, u64>,
    /// The tool's responses by status, when it reports them.
    pub tool_statuses: Option<BTreeMap<u16, u64>>,
    /// The server's answers by status over the window (a reset it injected
    /// is counted as the 500 it would have been).
    pub server_statuses: BTreeMap<u16, u64>,
    pub percentiles: Vec<PercentileLine>,
    /// The server's curve, for charts: (quantile, ms).
    pub server_curve: Vec<(f64, f64)>,
    pub notes: Vec<String>,
    pub verdict: ScoreVerdict,
}

/// The quantiles of the server's curve.
const CURVE: [f64; 12] = [
    0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999, 1.0,
];

/// How a score was run, beside what it measured.
#[derive(Debug, Clone)]
pub struct Run {
    pub trial: Option<String>,
    pub behaviour: serde_json::Value,
    pub target: String,
    pub command: Vec<String>,
    pub started_at: String,
    pub duration: Duration,
    pub connections: u32,
    pub rate: Option<f64>,
    pub stall: Option<(Duration, Duration)>,
    pub tolerance: Tolerance,
    /// Judge the percentiles (else the counts only).
    pub judge_latency: bool,
}

fn count(name: &str, tool: Option<u64>, server: u64, tol: Tolerance) -> CountLine {
    let difference = tool.map(|t| t as i64 - server as i64);
    // Counts are within the share of the tolerance, and at least one request.
    let margin = (tol.pct / 100.0 * server as f64).max(1.0);
    CountLine {
        name: name.to_owned(),
        tool,
        server,
        difference,
        within: difference.map(|d| (d.unsigned_abs() as f64) <= margin),
    }
}

fn server_ms(truth: &Truth, q: f64) -> f64 {
    let h = &truth.histogram;
    match (h.is_empty(), q >= 1.0) {
        (true, _) => 0.0,
        (false, true) => ms(h.max()),
        (false, false) => ms(h.value_at_quantile(q)),
    }
}

/// What the model means for a stall met at a rate, said from the outcome.
fn stall_note(run: &Run, model: LoadModel, lines: &[PercentileLine]) -> String {
    let rate = run.rate.unwrap_or_default();
    let under = lines
        .iter()
        .any(|l| l.within == Some(false) && l.error_ms.is_some_and(|e| e < 0.0));
    match (model, under) {
        (LoadModel::Open, false) => format!("open model: the tool kept sending at {rate}/s through each stall and measured from the intended send times, as users arriving at that rate experienced it"),
        (LoadModel::Open, true) => format!("open model, yet the tail is short of the expectation: requests were not sent at {rate}/s through the stalls (arrivals dropped, or latency not measured from the intended send times)"),
        (LoadModel::Closed, true) => format!("closed model: at most {} requests wait in each stall and nothing else is sent meanwhile, so the tool under-reports what users arriving at {rate}/s experienced", run.connections),
        (LoadModel::Closed, false) => format!("closed model: only {} requests waited in each stall, yet the tail reads near the expectation: the tool filled in the requests it did not send after the fact (as wrk's stats_correct does), not by measuring them", run.connections),
    }
}

/// The scorecard of `report` against `truth`.
pub fn build(run: Run, report: &ToolReport, truth: &Truth) -> Scorecard {
    let tol = run.tolerance;
    let stall = match (run.stall, run.rate) {
        (Some((every, dur)), Some(_)) => Some(StallModel {
            every_s: every.as_secs_f64(),
            for_s: dur.as_secs_f64(),
            base_ms: server_ms(truth, 0.5),
        }),
        _ => None,
    };
    let counts = vec![
        count("requests", report.requests, truth.requests, tol),
        count("errors", report.errors, truth.errors(), tol),
    ];
    let percentiles = SCORED
        .iter()
        .map(|&(name, q)| {
            let tool = report.quantile(q);
            let server = server_ms(truth, q);
            let expected = stall.map(|s| s.expected_ms(q));
            let reference = expected.unwrap_or(server);
            let error = tool.map(|t| t - reference);
            // Below 1 - S/E a stall trial says nothing a tool should match
            // (a closed tool at full speed measures its own queueing there),
            // and at 1 - S/E the expectation jumps from no wait to some.
            let in_stall = stall.is_none_or(|s| q > 1.0 - s.for_s / s.every_s + 0.005);
            let judged = run.judge_latency && in_stall;
            PercentileLine {
                name: name.to_owned(),
                q,
                tool_ms: tool,
                server_ms: server,
                expected_ms: expected,
                error_ms: error,
                error_pct: error
                    .filter(|_| reference > 0.0)
                    .map(|e| e / reference * 100.0),
                within: error
                    .filter(|_| judged)
                    .map(|e| e.abs() <= tol.margin(reference)),
            }
        })
        .collect::<Vec<_>>();
    let mut notes = report.notes.clone();
    if let Some(s) = stall {
        notes.push(stall_note(&run, report.model, &percentiles));
        notes.push(format!("the expectation assumes a service time outside stalls about constant (the server's median); quantiles up to 1 - S/E = {:.2}, where it jumps, are shown, not judged", 1.0 - s.for_s / s.every_s));
    }
    if !run.judge_latency {
        notes.push("this trial judges counts: its percentiles are shown, not judged".into());
    }
    let all_within = counts
        .iter()
        .map(|c| c.within)
        .chain(percentiles.iter().map(|p| p.within))
        .all(|w| w != Some(false));
    Scorecard {
        schema_version: SCHEMA_VERSION,
        tool: report.tool,
        trial: run.trial,
        behaviour: run.behaviour,
        target: run.target,
        command: run.command,
        started_at: run.started_at,
        duration_s: run.duration.as_secs_f64(),
        connections: run.connections,
        rate: run.rate,
        model: report.model,
        measured_from_intended_send_times: report.model == LoadModel::Open,
        reference: if stall.is_some() {
            Reference::Expectation
        } else {
            Reference::Server
        },
        stall,
        tolerance: tol,
        counts,
        tool_error_kinds: report.error_kinds.clone(),
        tool_statuses: report.statuses.clone(),
        server_statuses: truth.statuses.clone(),
        percentiles,
        server_curve: CURVE.iter().map(|&q| (q, server_ms(truth, q))).collect(),
        notes,
        verdict: if all_within {
            ScoreVerdict::Pass
        } else {
            ScoreVerdict::Fail
        },
    }
}

impl Scorecard {
    /// 0 every scored figure within tolerance, 1 some not.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.verdict == ScoreVerdict::Fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stall_expectation_is_the_documented_arithmetic() {
        let s = StallModel {
            every_s: 10.0,
            for_s: 1.0,
            base_ms: 0.0,
        };
        assert_eq!(s.expected_ms(0.5), 0.0);
        assert_eq!(s.expected_ms(0.9), 0.0);
        assert!((s.expected_ms(0.95) - 500.0).abs() < 1e-9);
        assert!((s.expected_ms(0.99) - 900.0).abs() < 1e-9);
        assert!((s.expected_ms(1.0) - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn tolerance_is_the_larger_margin() {
        let t = Tolerance { pct: 5.0, ms: 1.0 };
        assert_eq!(t.margin(10.0), 1.0);
        assert_eq!(t.margin(100.0), 5.0);
    }
}
