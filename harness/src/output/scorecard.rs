//! Scorecards as text. In: a [`Scorecard`], or the built-in trials. Out:
//! the table a user reads (tool, server, expectation, signed error, within
//! tolerance or not; "not reported" where the tool gives no such figure),
//! one line per trial of a suite, and the trials' list.

use std::fmt::Write as _;

use super::summary::fmt_ms;
use crate::adapters::Tool;
use crate::score::card::{Reference, ScoreVerdict, Scorecard};
use crate::score::trial;

fn within(w: Option<bool>) -> &'static str {
    match w {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    }
}

/// The whole scorecard.
pub fn render(c: &Scorecard) -> String {
    let mut out = String::new();
    let trial = c.trial.as_deref().unwrap_or("custom behaviour");
    let _ = writeln!(
        out,
        "{} scored on trial {trial} against {}",
        c.tool, c.target
    );
    let _ = writeln!(out, "command: {}", c.command.join(" "));
    let _ = writeln!(
        out,
        "model: {} ({})",
        match c.model {
            crate::adapters::LoadModel::Open => "open",
            crate::adapters::LoadModel::Closed => "closed",
        },
        if c.measured_from_intended_send_times {
            "latency measured from intended send times"
        } else {
            "latency measured from when each request was sent"
        }
    );
    let reference = match c.reference {
        Reference::Server => "the server's own service times",
        Reference::Expectation => "the intended-schedule expectation",
    };
    let _ = writeln!(
        out,
        "percentiles judged against {reference}; within: {}% or {} ms, the larger (max: up to {} ms more, the client's own delay)",
        c.tolerance.pct, c.tolerance.ms, c.tolerance.max_client_ms
    );
    let _ = writeln!(
        out,
        "counts within {} requests (those in flight at the deadline: one per connection); errors within as many as the tool missed\n",
        c.tolerance.in_flight
    );
    let _ = writeln!(
        out,
        "{:<10} {:>14} {:>12} {:>12} {:>11} {:>9}  within",
        "", "tool", "server", "expected", "error ms", "error %"
    );
    for l in &c.counts {
        let tool = l.tool.map_or("not reported".into(), |t| t.to_string());
        let diff = l.difference.map_or("-".into(), |d| format!("{d:+}"));
        let _ = writeln!(
            out,
            "{:<10} {:>14} {:>12} {:>12} {:>11} {:>9}  {}",
            l.name,
            tool,
            l.server,
            "",
            diff,
            "",
            within(l.within)
        );
    }
    let _ = write!(out, "{}", statuses(c));
    for l in &c.percentiles {
        let tool = l.tool_ms.map_or("not reported".into(), fmt_ms);
        let expected = l.expected_ms.map_or(String::new(), fmt_ms);
        let err = l.error_ms.map_or("-".into(), |e| format!("{e:+.2}"));
        let pct = l.error_pct.map_or("-".into(), |e| format!("{e:+.1}%"));
        let _ = writeln!(
            out,
            "{:<10} {:>14} {:>12} {:>12} {:>11} {:>9}  {}",
            format!("{} ms", l.name),
            tool,
            fmt_ms(l.server_ms),
            expected,
            err,
            pct,
            within(l.within)
        );
    }
    if !c.notes.is_empty() {
        let _ = writeln!(out);
        for n in &c.notes {
            let _ = writeln!(out, "note: {n}");
        }
    }
    let _ = writeln!(
        out,
        "\nverdict: {}",
        match c.verdict {
            ScoreVerdict::Pass => "PASS (every reported figure within tolerance)",
            ScoreVerdict::Fail => "FAIL (some reported figures are off the truth)",
        }
    );
    out
}

/// `code count, ...`, or `none`.
fn list<K: std::fmt::Display>(m: &std::collections::BTreeMap<K, u64>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    let items: Vec<String> = m.iter().map(|(k, n)| format!("{k} {n}")).collect();
    items.join(", ")
}

/// The answers by status (and the tool's failures by kind) side by side.
fn statuses(c: &Scorecard) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  server's statuses: {}", list(&c.server_statuses));
    if !c.server_no_response.is_empty() {
        let _ = writeln!(
            out,
            "  server's no response: {}",
            list(&c.server_no_response)
        );
    }
    if let Some(s) = &c.tool_statuses {
        let _ = writeln!(out, "  tool's statuses:   {}", list(s));
    }
    let _ = writeln!(out, "  tool's errors:     {}", list(&c.tool_error_kinds));
    out
}

/// One line of a suite: the trial and its figures' errors.
pub fn suite_line(c: &Scorecard) -> String {
    let errs: Vec<String> = c
        .percentiles
        .iter()
        .map(|l| match l.error_pct {
            Some(e) => format!("{} {e:+.1}%", l.name),
            None => format!("{} -", l.name),
        })
        .collect();
    let counts: Vec<String> = c
        .counts
        .iter()
        .map(|l| match l.difference {
            Some(d) => format!("{} {d:+}", l.name),
            None => format!("{} -", l.name),
        })
        .collect();
    format!(
        "{:<7} {:<5} {} | {}",
        c.trial.as_deref().unwrap_or("custom"),
        match c.verdict {
            ScoreVerdict::Pass => "PASS",
            ScoreVerdict::Fail => "FAIL",
        },
        counts.join(", "),
        errs.join(", ")
    )
}

/// `harness score --list-trials`.
pub fn trials() -> String {
    let mut out = String::new();
    for t in trial::all() {
        let _ = writeln!(out, "{}: {}", t.name, t.about);
        let _ = writeln!(out, "  behaviour: {}", t.behaviour);
        let rate = t
            .rate
            .map_or(String::new(), |r| format!(", {r}/s for open-model tools"));
        let _ = writeln!(
            out,
            "  {} s, {} connections{rate}",
            t.duration.as_secs(),
            t.connections
        );
        for tool in Tool::ALL {
            let cmd = trial::command_for(tool, tool.name(), t.rate.is_some(), t.wire)
                .map_or_else(|why| format!("(none: {why})"), |c| c.join(" "));
            let _ = writeln!(out, "  {:<10} {cmd}", tool.name());
        }
        let _ = writeln!(out);
    }
    out.push_str("Placeholders: {url} {path} {rate} {duration} {connections} {out} {locustfile} {k6script} {artilleryscript} {jmeterplan} {cacert}\n");
    out
}
