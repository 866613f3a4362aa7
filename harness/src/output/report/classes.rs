//! The report's user-class section. In: a record whose scenario declares
//! classes. Out: each class's share, target and steady window side by
//! side, then per class its rows (stage x task) and its tasks' percentile
//! spectrum, so one kind of user's experience can be read on its own.

use std::fmt::Write as _;

use super::svg::{percentile_chart, Series};
use super::{esc, fmt_num, fmt_opt, table};
use crate::record::RunRecord;

/// Appends the section; nothing for a record without classes.
pub(super) fn section(body: &mut String, r: &RunRecord) {
    if r.classes.is_empty() {
        return;
    }
    body.push_str("<h2>User classes (steady window)</h2>");
    let rows = r
        .classes
        .iter()
        .map(|c| {
            let s = &c.steady;
            vec![
                c.name.clone(),
                match (c.weight, c.count) {
                    (_, Some(n)) => format!("{n} users"),
                    (Some(w), None) => format!("weight {w}"),
                    (None, None) => String::new(),
                },
                c.target
                    .clone()
                    .unwrap_or_else(|| "the run's target".into()),
                s.requests.to_string(),
                s.errors.to_string(),
                fmt_num(s.rps),
                fmt_opt(s.latency.p50_ms),
                fmt_opt(s.latency.p95_ms),
                fmt_opt(s.latency.p99_ms),
            ]
        })
        .collect();
    let head = [
        "class", "share", "target", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms",
    ];
    body.push_str(&table(&head, rows));
    for c in &r.classes {
        let _ = write!(body, "<h3>{}</h3>", esc(&c.name));
        let mine = || r.tasks.iter().filter(|t| t.class.as_ref() == Some(&c.name));
        body.push_str(&super::sections::rows_table(r, mine(), false));
        let spectra: Vec<Series> = c
            .tasks
            .iter()
            .filter_map(|task| {
                let steady = mine().filter(|t| t.name.is(Some(task)) && r.is_steady(&t.stage));
                let parts: Option<Vec<_>> =
                    steady.map(|t| t.histogram.as_ref().map(|h| &h.0)).collect();
                let h = crate::histogram::merged(parts?);
                (!h.is_empty()).then(|| (task.clone(), super::sections::spectrum(&h)))
            })
            .collect();
        if !spectra.is_empty() {
            body.push_str(&percentile_chart(
                &format!("{}: latency by percentile, each task (log scales)", c.name),
                &spectra,
            ));
        }
    }
}
