//! A scorecard as one self-contained HTML page: the figures table and the
//! tool's, the server's (and the expectation's) percentile curves on one
//! log-scale chart.

use std::fmt::Write as _;

use super::svg::{percentile_chart, Series};
use super::{esc, STYLE};
use crate::output::scorecard::render;
use crate::score::card::{ScoreVerdict, Scorecard};

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
    let badge = match c.verdict {
        ScoreVerdict::Pass => r#"<span class="pass">PASS</span>"#,
        ScoreVerdict::Fail => r#"<span class="fail">FAIL</span>"#,
    };
    let mut page = String::new();
    let _ = writeln!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{tool} on {trial}</title><style>{STYLE}</style></head><body><h1>{tool} on trial {trial}: {badge}</h1><p class=\"meta\">against {} &middot; {}</p>{}<pre>{}</pre><footer>harness {} &middot; scorecard schema_version {}</footer></body></html>",
        esc(&c.target),
        esc(&c.started_at),
        percentile_chart("Latency by percentile (log scales)", &series),
        esc(&render(c)),
        env!("CARGO_PKG_VERSION"),
        c.schema_version,
        tool = esc(c.tool.name()),
        trial = esc(trial),
    );
    page
}
