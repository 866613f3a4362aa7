//! The slowest requests, printed. In: a record's (or a comparison side's)
//! [`SlowRequest`]s. Out: lines for the summary and `harness compare`,
//! one per request: task, time, status or error, trace id, where the time
//! went. The record keeps every one; the text shows the first few per task.

use std::fmt::Write as _;

use crate::record::slowest::SlowRequest;

/// Requests shown per task in text (the record keeps the scenario's `slowest`).
pub const SHOWN_PER_TASK: usize = 3;

/// The largest phase, for a one-line reason: `waiting 812.0 ms`.
fn main_phase(s: &SlowRequest) -> (&'static str, f64) {
    let p = &s.phases;
    [
        ("dns", p.dns_ms),
        ("connect", p.connect_ms),
        ("tls", p.tls_ms),
        ("waiting", p.waiting_ms),
        ("receiving", p.receiving_ms),
    ]
    .into_iter()
    .fold(("waiting", 0.0), |a, b| if b.1 > a.1 { b } else { a })
}

/// One request on one line.
pub fn line(s: &SlowRequest) -> String {
    let task = match &s.class {
        Some(c) => format!("{c}/{}", s.task),
        None => s.task.clone(),
    };
    let outcome = match (&s.error, s.status) {
        (Some(e), Some(st)) => format!("{e} ({st})"),
        (Some(e), None) => e.clone(),
        (None, Some(st)) => format!("status {st}"),
        (None, None) => "no status".to_owned(),
    };
    let (phase, ms) = main_phase(s);
    format!(
        "{task:<20} {:>10.1} ms  {outcome:<12} trace {}  at {}  ({phase} {ms:.1} ms)",
        s.latency_ms, s.trace_id, s.at
    )
}

/// The first [`SHOWN_PER_TASK`] of each task, under `title`; nothing when none.
pub fn render(title: &str, slowest: &[SlowRequest]) -> String {
    let mut out = String::new();
    if slowest.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n{title}");
    let mut shown: Vec<(&Option<String>, &str, usize)> = Vec::new();
    for s in slowest {
        let count = match shown
            .iter_mut()
            .find(|(c, t, _)| *c == &s.class && *t == s.task)
        {
            Some(entry) => {
                entry.2 += 1;
                entry.2
            }
            None => {
                shown.push((&s.class, &s.task, 1));
                1
            }
        };
        if count <= SHOWN_PER_TASK {
            let _ = writeln!(out, "  {}", line(s));
        }
    }
    out
}
