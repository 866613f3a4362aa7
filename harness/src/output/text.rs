//! Text renderings of judgements made on disk. In: records, an
//! [`Analysis`], a [`Comparison`]. Out: the `history` table, the analysis
//! report in the seed document's style, the comparison table.

use std::fmt::Write as _;

use crate::analysis::compare::{
    Comparison, PercentileDelta, ALPHA, MIN_CHANGE_PCT, SUMMARY_MIN_CHANGE_PCT,
};
use crate::analysis::{Analysis, HistoryVerdict, Severity, Trend};
use crate::record::{LatencyBasis, RunRecord};

/// `harness history`: one line per record, oldest first.
pub fn render_history(records: &[RunRecord], dir: &std::path::Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<26} {:<16} {:<16} {:<7} {:>9} {:>9} {:>9} {:>8}",
        "started (UTC)", "label", "scenario", "verdict", "p50 ms", "p95 ms", "p99 ms", "errors"
    );
    for r in records {
        let s = &r.steady;
        let _ = writeln!(
            out,
            "{:<26} {:<16} {:<16} {:<7} {:>9} {:>9} {:>9} {:>7.3}%",
            r.started_at.chars().take(25).collect::<String>(),
            r.label.as_deref().unwrap_or("-"),
            r.scenario,
            r.verdict.to_string(),
            two_decimals(s.latency.p50_ms),
            two_decimals(s.latency.p95_ms),
            two_decimals(s.latency.p99_ms),
            s.error_rate * 100.0
        );
    }
    let _ = writeln!(out, "{} run(s) in {}", records.len(), dir.display());
    out
}

/// Two decimals, or `-` for a figure the record's source did not report.
fn two_decimals(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"))
}

/// The text report, in the seed document's style.
pub fn render_analysis(a: &Analysis) -> String {
    let mut out = String::new();
    let headline = match a.verdict {
        HistoryVerdict::Regression => "PERFORMANCE REGRESSION DETECTED",
        HistoryVerdict::Improvement => "PERFORMANCE IMPROVEMENT",
        HistoryVerdict::Stable => "NO SIGNIFICANT CHANGE",
    };
    let _ = writeln!(out, "{headline}\n");
    let all = |t: Trend| a.metrics.values().all(|m| m.trend == t);
    let summary = if all(Trend::Increasing) {
        "steady degradation across all percentiles"
    } else if all(Trend::Decreasing) {
        "steady improvement across all percentiles"
    } else if all(Trend::None) {
        "no significant trend"
    } else {
        "mixed"
    };
    let _ = writeln!(
        out,
        "Trend over {} runs ({} -> {}): {summary}",
        a.runs,
        a.labels[0],
        a.labels[a.runs - 1]
    );
    write_metrics(&mut out, a);
    write_severity(&mut out, a);
    write_causes(&mut out, a);
    let rec = match (a.verdict, a.severity) {
        (_, Severity::Critical) => "Act now: the requirement's threshold is broken. Bisect the builds since the last good run.",
        (HistoryVerdict::Regression, Severity::High) => "Investigate immediately: the threshold is near. Correlate with deployment history.",
        (HistoryVerdict::Regression, _) => "Investigate before degradation impacts operations. Correlate with deployment history and review the server's metrics.",
        (HistoryVerdict::Improvement, _) => "Confirm the improvement is intended and update the baseline.",
        (HistoryVerdict::Stable, _) => "No action needed; keep tracking.",
    };
    let _ = writeln!(out, "\nRecommendation: {rec}");
    out
}

/// Each percentile's change, trend and shifts.
fn write_metrics(out: &mut String, a: &Analysis) {
    for (name, m) in &a.metrics {
        let verb = if m.change_pct >= 0.0 {
            "increased"
        } else {
            "decreased"
        };
        let _ = write!(
            out,
            "- {name} {verb} {:.0}% ({:.0}ms -> {:.0}ms); trend {} (Mann-Kendall p={:.3}, Sen slope {:+.1} ms/run)",
            m.change_pct.abs(),
            m.baseline_ms,
            m.latest_ms,
            m.trend,
            m.p_value,
            m.slope_ms_per_run
        );
        if let Some(noise) = m.noise_pct {
            let _ = write!(out, ", run-to-run noise ±{noise:.1}%");
        }
        let _ = writeln!(out);
        for c in &m.change_points {
            let _ = writeln!(
                out,
                "    shift at run {} ({}): {:.0}ms -> {:.0}ms ({:+.0}%)",
                c.run, c.label, c.before_ms, c.after_ms, c.change_pct
            );
        }
    }
}

fn write_severity(out: &mut String, a: &Analysis) {
    let main = &a.metrics[&a.metric];
    let share = main.latest_ms / a.threshold_ms * 100.0;
    let crossing = match a.runs_to_threshold {
        Some(0) => "the threshold is already broken".to_owned(),
        Some(r) => format!("at the fitted rate it would cross the threshold in {r} runs"),
        None => "the trend does not approach the threshold".to_owned(),
    };
    let _ = writeln!(
        out,
        "\nSeverity: {} ({} {:.0}ms is {share:.0}% of the {:.0}ms threshold; {crossing})",
        a.severity.to_string().to_uppercase(),
        a.metric,
        main.latest_ms,
        a.threshold_ms
    );
}

fn write_causes(out: &mut String, a: &Analysis) {
    if !a.likely_causes.is_empty() {
        let _ = writeln!(
            out,
            "\nLikely causes to investigate{}:",
            if a.causes_are_guesses {
                " (ranked by the shape of the change; no server metrics: guesses)"
            } else {
                " (from the server's own metrics)"
            }
        );
        for (i, c) in a.likely_causes.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. {} [{}]: {}",
                i + 1,
                c.cause,
                c.confidence,
                c.evidence
            );
        }
    }
}

/// The comparison as a table; `*` marks a real difference.
pub fn render_comparison(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "base: {} run(s), new: {} run(s); a difference is real when the distributions differ (KS p < {ALPHA}) and the percentile moved {MIN_CHANGE_PCT}% or more", c.base_runs, c.new_runs);
    if c.rows
        .iter()
        .any(|r| r.basis == LatencyBasis::ReportedPercentiles)
    {
        let _ = writeln!(out, "rows marked ~ have no histograms (a tool's reported percentiles, median of the runs): real from {SUMMARY_MIN_CHANGE_PCT}% or more");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<14} {:<18} {:>9} {:>9} {:>26} {:>26} {:>26}",
        "stage", "task", "base n", "new n", "p50 ms", "p95 ms", "p99 ms"
    );
    let cell = |d: &Option<PercentileDelta>| match d {
        Some(d) => format!(
            "{:.1}->{:.1} {:+.0}%{}",
            d.base_ms,
            d.new_ms,
            d.change_pct,
            if d.real { " *" } else { "" }
        ),
        None => "not reported".to_owned(),
    };
    for r in &c.rows {
        let _ = writeln!(
            out,
            "{:<14} {:<18} {:>9} {:>9} {:>26} {:>26} {:>26}",
            r.stage,
            match r.basis {
                LatencyBasis::Histograms => r.task.to_string(),
                LatencyBasis::ReportedPercentiles => format!("{} ~", r.task),
            },
            r.base_requests,
            r.new_requests,
            cell(&r.p50),
            cell(&r.p95),
            cell(&r.p99)
        );
    }
    let _ = writeln!(
        out,
        "\n* real difference.  verdict: {}",
        c.verdict.to_string().to_uppercase()
    );
    out.push_str(&super::slowest::render(
        "slowest requests, base:",
        &c.base_slowest,
    ));
    out.push_str(&super::slowest::render(
        "slowest requests, new:",
        &c.new_slowest,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::history::parse_text_history;
    use crate::analysis::tests::SEED_DOC;
    use crate::scenario::Percentile;

    #[test]
    fn the_seed_documents_five_runs_read_as_the_document_does() {
        let runs = parse_text_history("doc.txt", SEED_DOC).unwrap();
        let a = crate::analysis::analyze(&runs, Percentile::P95, None).unwrap();
        let text = render_analysis(&a);
        assert!(text.starts_with("PERFORMANCE REGRESSION DETECTED"));
        assert!(
            text.contains("p95 increased 67% (450ms -> 750ms)"),
            "{text}"
        );
        assert!(text.contains("Severity: MEDIUM"), "{text}");
    }
}
