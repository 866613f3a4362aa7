//! Reports people read. In: a record, and optionally a comparison with a
//! baseline and a history's analysis. Out: one self-contained HTML file
//! (inline SVG charts, no script, nothing fetched) or JUnit XML (one test
//! case per SLO). Nothing here measures.
//!
//! - [`sections`]: the page's sections, each from the record.
//! - [`capacity`]: a capacity search's findings and charts.
//! - [`svg`]: line charts.
//! - [`junit`]: JUnit XML.
//! - `phases`: how the run connected, a stacked bar of each task's phases.

mod capacity;
mod classes;
mod junit;
pub mod matrix;
mod phases;
pub mod scorecard;
mod sections;
pub mod svg;

use std::fmt::Write as _;

pub use junit::junit;

use crate::analysis::compare::Comparison;
use crate::analysis::{Analysis, Run};
use crate::record::RunRecord;

pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:right}th{background:#f4f4f4}td:first-child,td:nth-child(2){text-align:left}.pass{color:#fff;background:#2ca02c;padding:1px 6px;border-radius:3px}.fail{color:#fff;background:#d62728;padding:1px 6px;border-radius:3px}.unjudged{color:#fff;background:#7f7f7f;padding:1px 6px;border-radius:3px}.meta{color:#555}svg{display:block;margin:8px 0}pre{background:#f8f8f8;padding:8px;white-space:pre-wrap}footer{color:#888;font-size:12px;margin-top:24px}";

/// The whole report as one HTML document: a page of sections.
pub fn html(
    record: &RunRecord,
    baseline: Option<&Comparison>,
    history: Option<(&[Run], &Analysis)>,
) -> String {
    let r = record;
    let mut body = String::new();
    sections::header(&mut body, r);
    sections::verdict(&mut body, r);
    capacity::section(&mut body, r);
    sections::load(&mut body, r);
    sections::latency(&mut body, r);
    classes::section(&mut body, r);
    sections::rows(&mut body, r);
    sections::errors(&mut body, r);
    sections::client_vs_server(&mut body, r);
    phases::section(&mut body, r);
    slowest(&mut body, r);
    if let Some(c) = baseline {
        sections::baseline(&mut body, c);
    }
    if let Some((runs, a)) = history {
        sections::history(&mut body, runs, a);
    }
    let mut page = String::new();
    let _ = writeln!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} {}</title><style>{STYLE}</style></head><body>{body}<footer>harness {} &middot; record schema_version {}</footer></body></html>",
        esc(&r.requirement.id),
        esc(&r.scenario),
        env!("CARGO_PKG_VERSION"),
        r.schema_version
    );
    page
}

/// Each task's slowest requests of the steady window, with their trace ids.
fn slowest(body: &mut String, r: &RunRecord) {
    if r.slowest.is_empty() {
        return;
    }
    body.push_str("<h2>Slowest requests</h2><p class=\"meta\">The steady window's slowest per task; each trace id is the one its <code>traceparent</code> header carried: look it up in a tracing backend, or in the target's <code>/__admin/slow</code>.</p>");
    let rows = r
        .slowest
        .iter()
        .map(|s| {
            let p = &s.phases;
            vec![
                s.class
                    .as_ref()
                    .map_or_else(|| s.task.clone(), |c| format!("{c}/{}", s.task)),
                s.trace_id.clone(),
                fmt_num(s.latency_ms),
                s.status.map_or_else(|| "-".to_owned(), |st| st.to_string()),
                s.error.clone().unwrap_or_default(),
                s.at.clone(),
                fmt_num(p.connect_ms + p.dns_ms + p.tls_ms),
                fmt_num(p.waiting_ms),
                fmt_num(p.receiving_ms),
            ]
        })
        .collect();
    body.push_str(&table(
        &[
            "task",
            "trace id",
            "ms",
            "status",
            "error",
            "started",
            "dns+connect+tls ms",
            "waiting ms",
            "receiving ms",
        ],
        rows,
    ));
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Numbers on charts and in tables.
fn fmt_num(v: f64) -> String {
    super::decimals(v, 100.0, 1.0)
}

/// A figure a source may not report: `-` when absent.
fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), fmt_num)
}

fn table(head: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut s = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            if c.starts_with("<span") {
                let _ = write!(s, "<td>{c}</td>");
            } else {
                let _ = write!(s, "<td>{}</td>", esc(&c));
            }
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

fn verdict_badge(pass: bool) -> String {
    if pass {
        r#"<span class="pass">PASS</span>"#.to_owned()
    } else {
        r#"<span class="fail">FAIL</span>"#.to_owned()
    }
}
