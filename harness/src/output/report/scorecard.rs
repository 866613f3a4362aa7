//! A scorecard as one self-contained HTML page: its figures as tables
//! (tool, server, expected, error, within; figures outside tolerance
//! marked), statuses, notes, the command, and the tool's, the server's
//! (and the expectation's) percentile curves on one log-scale chart.

use std::fmt::Write as _;

use super::svg::{percentile_chart, Series};
use super::{esc, fmt_num, STYLE};
use crate::adapters::LoadModel;
use crate::score::card::{ScoreVerdict, Scorecard};

/// `yes`, `no` (marked) or `-` (shown, not judged).
fn within(w: Option<bool>) -> &'static str {
    match w {
        Some(true) => "<td>yes</td>",
        Some(false) => "<td class=\"off\">no</td>",
        None => "<td class=\"shown\">-</td>",
    }
}

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(
        || "not reported".to_owned(),
        |v| format!("{}{unit}", fmt_num(v)),
    )
}

fn signed(v: f64, unit: &str) -> String {
    format!("{}{}{unit}", if v >= 0.0 { "+" } else { "" }, fmt_num(v))
}

/// The verdict as a badge.
pub fn badge(v: ScoreVerdict) -> &'static str {
    match v {
        ScoreVerdict::Pass => r#"<span class="pass">PASS</span>"#,
        ScoreVerdict::Fail => r#"<span class="fail">FAIL</span>"#,
    }
}

/// The counts and percentiles as tables.
fn tables(out: &mut String, c: &Scorecard) {
    out.push_str("<h2>Counts</h2><table><tr><th>figure</th><th>tool</th><th>server</th><th>difference</th><th>allowed</th><th>within</th></tr>");
    for l in &c.counts {
        let row = if l.within == Some(false) {
            " class=\"off\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tr{row}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>&plusmn;{}</td>{}</tr>",
            esc(&l.name),
            l.tool
                .map_or_else(|| "not reported".to_owned(), |t| t.to_string()),
            l.server,
            l.difference
                .map_or_else(|| "-".to_owned(), |d| format!("{d:+}")),
            l.allowance,
            within(l.within)
        );
    }
    out.push_str("</table>");
    let judged = c.percentiles.iter().any(|p| p.within.is_some());
    let _ = write!(
        out,
        "<h2>Latency{}</h2><table><tr><th>figure</th><th>tool</th><th>server</th><th>expected</th><th>error</th><th>error %</th><th>within</th></tr>",
        if judged { "" } else { " (shown, not judged: this trial judges counts)" }
    );
    for l in &c.percentiles {
        let row = if l.within == Some(false) {
            " class=\"off\""
        } else {
            ""
        };
        let _ =
            write!(
            out,
            "<tr{row}><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
            esc(&l.name),
            opt(l.tool_ms, " ms"),
            fmt_num(l.server_ms),
            l.expected_ms.map_or_else(|| "-".to_owned(), |e| format!("{} ms", fmt_num(e))),
            l.error_ms.map_or_else(|| "-".to_owned(), |e| signed(e, " ms")),
            l.error_pct.map_or_else(|| "-".to_owned(), |e| signed(e, "%")),
            within(l.within)
        );
    }
    out.push_str("</table>");
}

/// The page.
pub fn html(c: &Scorecard) -> String {
    let tool: Vec<(f64, f64)> = c
        .percentiles
        .iter()
        .filter_map(|l| l.tool_ms.map(|ms| (l.q, ms)))
        .collect();
    let mut series: Vec<Series> = vec![
        (format!("{} (as reported)", c.tool), tool),
        ("server (truth)".into(), c.server_curve.clone()),
    ];
    if let Some(stall) = c.stall {
        let q = [0.5, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1.0];
        series.push((
            "expected on schedule".into(),
            q.iter().map(|&q| (q, stall.expected_ms(q))).collect(),
        ));
    }
    let trial = c.trial.as_deref().unwrap_or("custom behaviour");
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{tool} on trial {trial}: {}</h1><p class=\"meta\">against {} &middot; {} &middot; {} s, {} connections{} &middot; model: {}</p><p class=\"meta\"><code>{}</code></p>",
        badge(c.verdict),
        esc(&c.target),
        esc(&c.started_at),
        fmt_num(c.duration_s),
        c.connections,
        c.rate.map_or(String::new(), |r| format!(", {}/s", fmt_num(r))),
        match c.model {
            LoadModel::Open => "open",
            LoadModel::Closed => "closed",
        },
        esc(&c.command.join(" ")),
        tool = esc(c.tool.name()),
        trial = esc(trial),
    );
    tables(&mut body, c);
    let list = |m: Vec<String>| {
        if m.is_empty() {
            "-".to_owned()
        } else {
            m.join(", ")
        }
    };
    let _ = write!(
        body,
        "<p>server's statuses: {}{}<br>tool's statuses: {}<br>tool's errors: {}</p>",
        list(
            c.server_statuses
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect()
        ),
        if c.server_no_response.is_empty() {
            String::new()
        } else {
            format!(
                "; no response: {}",
                list(
                    c.server_no_response
                        .iter()
                        .map(|(k, v)| format!("{} {v}", esc(k)))
                        .collect()
                )
            )
        },
        c.tool_statuses.as_ref().map_or_else(
            || "not reported".to_owned(),
            |s| list(s.iter().map(|(k, v)| format!("{k} {v}")).collect())
        ),
        list(
            c.tool_error_kinds
                .iter()
                .map(|(k, v)| format!("{} {v}", esc(k)))
                .collect()
        ),
    );
    body.push_str(&percentile_chart(
        "Latency by percentile (log scales)",
        &series,
    ));
    if !c.notes.is_empty() {
        body.push_str("<h2>Notes</h2><ul>");
        for n in &c.notes {
            let _ = write!(body, "<li>{}</li>", esc(n));
        }
        body.push_str("</ul>");
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{tool} on {trial}</title><style>{STYLE}{EXTRA}</style></head><body>{body}<footer>harness {} &middot; scorecard schema_version {}</footer></body></html>\n",
        env!("CARGO_PKG_VERSION"),
        c.schema_version,
        tool = esc(c.tool.name()),
        trial = esc(trial),
    )
}

/// Marks for figures outside tolerance and figures shown only.
pub(crate) const EXTRA: &str = "tr.off td{background:#fde0e0}td.off{color:#b00;font-weight:bold}td.shown{color:#888}code{font-size:12px}";
