//! The scorecard. In: a tool's report, the server's truth over the same
//! window, the tolerance and, for an arrival rate with a stall, the
//! intended-schedule expectation. Out: [`Scorecard`] (JSON
//! `schema_version: 3`, `docs/scorecard.md`): each figure as the tool
//! reported it beside the reference, the signed error, and whether it is
//! within tolerance.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::target::Truth;
use crate::adapters::{LoadModel, Tool, ToolReport};
use crate::histogram::ms;

pub const SCHEMA_VERSION: u32 = 3;

/// The percentiles scored, by name and quantile (1: the maximum).
pub const SCORED: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("max", 1.0),
];

/// How close is close enough.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    /// A percentile is within when its error is at most the larger of
    /// this share of the reference ...
    pub pct: f64,
    /// ... and this many ms.
    pub ms: f64,
    /// `max` may also exceed the reference by this much: one sample
    /// carries the client machine's own worst scheduling delay, which no
    /// trial can promise below (v2; 0 when a v1 card is read).
    #[serde(default)]
    pub max_client_ms: f64,
    /// Requests a tool may leave uncounted (or count that the server did
    /// not see) at its deadline: one per connection. Counts are within when
    /// they differ by at most this, errors by at most as many requests as
    /// the tool missed (v2; 0 when a v1 card is read).
    #[serde(default)]
    pub in_flight: u64,
}

impl Tolerance {
    /// The margin around `reference` (ms) that is within.
    pub fn margin(&self, reference: f64) -> f64 {
        self.ms.max(self.pct / 100.0 * reference.abs())
    }

    /// Whether a percentile's error is within: `max` (q = 1) may also be
    /// above by the client's allowance.
    pub fn holds(&self, q: f64, reference: f64, error: f64) -> bool {
        let margin = self.margin(reference);
        match q >= 1.0 {
            true => -margin <= error && error <= margin + self.max_client_ms,
            false => error.abs() <= margin,
        }
    }
}

/// The default allowance on `max` above the reference, ms.
pub const MAX_CLIENT_MS: f64 = 10.0;

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
    /// How far the count may be off and be within (v2).
    #[serde(default)]
    pub allowance: u64,
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
    /// The server's answers by status over the window.
    pub server_statuses: BTreeMap<u16, u64>,
    /// The requests the server sent no answer to, by why (`reset`): no
    /// status exists for them (v2).
    #[serde(default)]
    pub server_no_response: BTreeMap<String, u64>,
    pub percentiles: Vec<PercentileLine>,
    /// The server's curve, for charts: (quantile, ms).
    pub server_curve: Vec<(f64, f64)>,
    /// The `tls` and `h2` trials: the tool's connections as the server
    /// saw them, and whether its latencies hold its handshakes or it
    /// spoke HTTP/2 (v3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<super::wire::ConnectionLine>,
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
    /// How the tool was asked to connect.
    pub wire: super::trial::Wire,
}

fn count(name: &str, tool: Option<u64>, server: u64, allowance: u64) -> CountLine {
    let difference = tool.map(|t| t as i64 - server as i64);
    CountLine {
        name: name.to_owned(),
        tool,
        server,
        difference,
        allowance,
        within: difference.map(|d| d.unsigned_abs() <= allowance),
    }
}

/// Requests and errors against the server's: requests within the requests
/// in flight at the deadline (one per connection); an error may be missing
/// only with its request, so errors within as many requests as the tool
/// missed (all in flight when it does not count requests).
fn counts(report: &ToolReport, truth: &Truth, tol: Tolerance) -> Vec<CountLine> {
    let requests = count("requests", report.requests, truth.requests, tol.in_flight);
    let missed = requests
        .difference
        .map_or(tol.in_flight, |d| d.unsigned_abs().min(tol.in_flight));
    let errors = count("errors", report.errors, truth.errors(), missed);
    vec![requests, errors]
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
        (LoadModel::Closed, false) => format!("closed model: only {} requests waited in each stall, yet the tail reads near the expectation: a closed-model tool matches it only by adding samples it did not measure (wrk's stats_correct does), or it did not run closed (say how it ran with --model)", run.connections),
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
    let counts = counts(report, truth, tol);
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
                within: error.filter(|_| judged).map(|e| tol.holds(q, reference, e)),
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
    notes.extend(lost_failures_note(
        &counts,
        truth.no_response.values().sum(),
    ));
    let connection = super::wire::judge(
        run.wire,
        super::wire::fixed_delay_ms(&run.behaviour),
        report.quantile(0.5),
        server_ms(truth, 0.5),
        truth,
    );
    if let Some(c) = &connection {
        notes.push(c.note.clone());
    }
    let all_within = counts
        .iter()
        .map(|c| c.within)
        .chain(percentiles.iter().map(|p| p.within))
        .chain(connection.iter().map(|c| c.within))
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
        server_no_response: truth.no_response.clone(),
        percentiles,
        server_curve: CURVE.iter().map(|&q| (q, server_ms(truth, q))).collect(),
        connection,
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

/// When errors the server answered with nothing (resets) are missing from
/// the tool's, what usually does that: failures left out of the output,
/// or a client that sends a GET again after its connection failed.
fn lost_failures_note(counts: &[CountLine], no_response: u64) -> Option<String> {
    let errors = counts.iter().find(|c| c.name == "errors")?;
    let missing = u64::try_from(-errors.difference?).ok()?;
    (errors.within == Some(false) && no_response > 0 && missing > 0).then(|| format!(
        "{missing} errors are missing of the server's {no_response} requests that got no response: a tool that leaves failed requests out of its output loses them, and a client that sends a GET again on a new connection when a reused one fails before the answer (Go's net/http, which k6 uses; Locust's FastHttpUser) counts the failure and its retry as one success, and one that opens its connection again without counting the request it carried (autocannon) counts neither"
    ))
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

    fn tolerance() -> Tolerance {
        Tolerance {
            pct: 5.0,
            ms: 1.0,
            max_client_ms: MAX_CLIENT_MS,
            in_flight: 10,
        }
    }

    #[test]
    fn tolerance_is_the_larger_margin_and_max_may_carry_the_clients_delay() {
        let t = tolerance();
        assert_eq!(t.margin(10.0), 1.0);
        assert_eq!(t.margin(100.0), 5.0);
        assert!(t.holds(0.99, 50.0, 2.5) && !t.holds(0.99, 50.0, 2.6));
        // The maximum: up to 2.5 ms below (a tool cannot see less than the
        // server's worst), up to 12.5 ms above.
        assert!(t.holds(1.0, 50.0, 12.5) && !t.holds(1.0, 50.0, 12.6));
        assert!(t.holds(1.0, 50.0, -2.5) && !t.holds(1.0, 50.0, -2.6));
    }

    fn report(requests: Option<u64>, errors: Option<u64>) -> ToolReport {
        let mut r = ToolReport::new(Tool::Wrk, LoadModel::Closed);
        r.requests = requests;
        r.errors = errors;
        r
    }

    fn truth(requests: u64, errors: u64) -> Truth {
        Truth {
            requests,
            statuses: BTreeMap::from([(200, requests - errors), (503, errors)]),
            no_response: BTreeMap::new(),
            histogram: crate::histogram::new_histogram(),
            connections: Default::default(),
        }
    }

    #[test]
    fn a_tool_that_loses_errors_fails_whatever_their_share() {
        let t = tolerance();
        // 650 of 13,000 errors lost (5%): within any percentage, not within
        // what can be in flight at a deadline.
        let c = counts(
            &report(Some(260_000), Some(12_350)),
            &truth(260_000, 13_000),
            t,
        );
        assert_eq!(c[0].within, Some(true));
        assert_eq!((c[1].allowance, c[1].within), (0, Some(false)));
        // Cut at the deadline: 7 requests uncounted, 2 of them errors.
        let c = counts(
            &report(Some(259_993), Some(12_998)),
            &truth(260_000, 13_000),
            t,
        );
        assert_eq!(
            (c[0].within, c[1].allowance, c[1].within),
            (Some(true), 7, Some(true))
        );
        // More than one request per connection missing.
        let c = counts(
            &report(Some(259_989), Some(13_000)),
            &truth(260_000, 13_000),
            t,
        );
        assert_eq!(c[0].within, Some(false));
        // A tool that does not count requests: errors within what can be in flight.
        let c = counts(&report(None, Some(12_991)), &truth(260_000, 13_000), t);
        assert_eq!(
            (c[0].within, c[1].allowance, c[1].within),
            (None, 10, Some(true))
        );
    }

    #[test]
    fn resets_lost_by_a_tool_are_explained_and_others_are_not() {
        let t = tolerance();
        // k6 on the resets trial: a reset on a reused connection retried.
        let mut k6 = truth(116_375, 0);
        k6.no_response.insert("reset".into(), 1189);
        let c = counts(&report(Some(115_195), Some(9)), &k6, t);
        let note = lost_failures_note(&c, 1189).unwrap();
        assert!(note.starts_with("1180 errors are missing"), "{note}");
        // Errors within, or no answerless requests: nothing to explain.
        let c = counts(&report(Some(116_375), Some(1189)), &k6, t);
        assert_eq!(lost_failures_note(&c, 1189), None);
        let c = counts(
            &report(Some(260_000), Some(12_350)),
            &truth(260_000, 13_000),
            t,
        );
        assert_eq!(lost_failures_note(&c, 0), None);
    }
}
