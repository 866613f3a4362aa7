//! The report's sections, each appended to the page body from the record
//! (or the comparison, or the history).

use std::fmt::Write as _;

use super::svg::{line_chart, percentile_chart, time_chart, Series};
use super::{esc, fmt_num, fmt_opt, table, verdict_badge};
use crate::analysis::compare::{Comparison, PercentileDelta};
use crate::analysis::{Analysis, Run};
use crate::output::text::render_analysis;
use crate::record::{PointRecord, RunRecord, TaskRecord, Verdict};
use crate::scenario::Percentile;

/// The title and what was run, where, when.
pub(super) fn header(body: &mut String, r: &RunRecord) {
    let _ = write!(
        body,
        "<h1>{} &mdash; {}</h1><p class=\"meta\">{} &middot; target {} &middot; label {} &middot; seed {} &middot; {} to {}{}</p>",
        esc(&r.requirement.id),
        esc(&r.scenario),
        esc(&r.requirement.text),
        esc(&r.target),
        esc(r.label.as_deref().unwrap_or("-")),
        r.seed,
        esc(&r.started_at),
        esc(&r.ended_at),
        if r.interrupted { " &middot; <b>interrupted</b>" } else { "" }
    );
    if r.source.imported {
        let latency = match r.source.latency {
            crate::record::LatencyBasis::Histograms => {
                "every request's latency (exact percentiles)"
            }
            crate::record::LatencyBasis::ReportedPercentiles => {
                "only the percentiles it reported (no histograms; a dash is a figure it does not report)"
            }
        };
        let _ = write!(
            body,
            "<p class=\"meta\">Measured by <b>{}</b>, imported from {}: {latency}.</p><ul class=\"meta\">",
            esc(r.source.tool.name()),
            esc(&r.source.files.join(", "))
        );
        for note in &r.source.notes {
            let _ = write!(body, "<li>{}</li>", esc(note));
        }
        body.push_str("</ul>");
    }
}

/// The verdict and the SLO table.
pub(super) fn verdict(body: &mut String, r: &RunRecord) {
    let badge = match r.verdict {
        Verdict::NotJudged => {
            r#"<span class="unjudged">NOT JUDGED</span> (no SLOs: give the run SLOs to judge it)"#
                .to_owned()
        }
        v => verdict_badge(v.passed()),
    };
    let _ = write!(body, "<h2>Verdict: {badge}</h2>");
    if r.slos.is_empty() {
        return;
    }
    let rows = r
        .slos
        .iter()
        .map(|s| {
            vec![
                r.requirement.id.clone(),
                s.describe(),
                s.spec.stages.join(", "),
                s.observed
                    .map_or_else(|| "not reported".to_owned(), fmt_num),
                fmt_num(s.spec.bound),
                verdict_badge(s.passed),
            ]
        })
        .collect();
    let head = [
        "requirement",
        "SLO",
        "stages",
        "observed",
        "bound",
        "result",
    ];
    body.push_str(&table(&head, rows));
}

/// Where each stage starts, in seconds since the run's start (stages
/// without times, as in some imports, are left out).
fn stage_marks(r: &RunRecord) -> Vec<(f64, String)> {
    let Ok(start) = chrono::DateTime::parse_from_rfc3339(&r.started_at) else {
        return Vec::new();
    };
    r.stages
        .iter()
        .filter_map(|st| {
            let at = chrono::DateTime::parse_from_rfc3339(st.started_at.as_deref()?).ok()?;
            let secs = (at - start).num_milliseconds() as f64 / 1000.0;
            Some((secs.max(0.0), st.name.clone()))
        })
        .collect()
}

/// Users and requests per second, and the error rate, over time.
pub(super) fn load(body: &mut String, r: &RunRecord) {
    let ts = &r.timeseries;
    let marks = stage_marks(r);
    let users = ts.iter().map(|p| (p.t as f64, p.users as f64)).collect();
    let rps = ts
        .iter()
        .map(|p| (p.t as f64, p.all.requests as f64))
        .collect();
    body.push_str("<h2>Load</h2>");
    body.push_str(&time_chart(
        "Users and requests per second",
        "count",
        &[("users".into(), users), ("requests/s".into(), rps)],
        &marks,
        None,
    ));
    let err = ts
        .iter()
        .map(|p| {
            let pct = if p.all.requests > 0 {
                p.all.errors as f64 / p.all.requests as f64 * 100.0
            } else {
                0.0
            };
            (p.t as f64, pct)
        })
        .collect();
    body.push_str(&time_chart(
        "Error rate",
        "% of requests",
        &[("error rate %".into(), err)],
        &marks,
        None,
    ));
}

/// p50, p95 and p99 of a series of points that had requests.
fn percentile_series<'a>(
    points: impl Iterator<Item = (u32, &'a PointRecord)> + Clone,
) -> Vec<Series> {
    Percentile::ALL
        .into_iter()
        .map(|p| {
            let values = points
                .clone()
                .filter(|(_, x)| x.requests > 0)
                .filter_map(|(t, x)| {
                    let v = match p {
                        Percentile::P50 => x.p50_ms,
                        Percentile::P95 => x.p95_ms,
                        Percentile::P99 => x.p99_ms,
                    };
                    Some((f64::from(t), v?))
                })
                .collect();
            (p.to_string(), values)
        })
        .collect()
}

/// Latency over time, all tasks (with the p95 bound) and each task, then
/// each task's percentile spectrum over the steady window.
pub(super) fn latency(body: &mut String, r: &RunRecord) {
    body.push_str("<h2>Latency over time</h2>");
    let marks = stage_marks(r);
    let series = percentile_series(r.timeseries.iter().map(|p| (p.t, &p.all)));
    let bound = r.p95_bound().map(|t| (t, "p95 bound"));
    body.push_str(&time_chart("All tasks (ms)", "ms", &series, &marks, bound));
    for task in r.task_names() {
        let points = r
            .timeseries
            .iter()
            .filter_map(|p| p.tasks.get(&task).map(|x| (p.t, x)));
        let series = percentile_series(points);
        body.push_str(&time_chart(
            &format!("{task} (ms)"),
            "ms",
            &series,
            &marks,
            None,
        ));
    }
    let spectra: Vec<Series> = r
        .task_names()
        .into_iter()
        .filter_map(|task| {
            let rows: Vec<_> = r
                .tasks
                .iter()
                .filter(|t| t.name.is(Some(&task)) && r.steady.stages.contains(&t.stage))
                .collect();
            let parts: Option<Vec<_>> = rows
                .iter()
                .map(|t| t.histogram.as_ref().map(|h| &h.0))
                .collect();
            let h = crate::histogram::merged(parts?);
            (!h.is_empty()).then(|| (task, spectrum(&h)))
        })
        .collect();
    if !spectra.is_empty() {
        body.push_str("<h3>Percentile spectrum (steady window)</h3>");
        body.push_str(&percentile_chart(
            "Latency by percentile, each task (log scales: tails side by side)",
            &spectra,
        ));
    }
}

/// A histogram's latency at each quantile of its spectrum, from the median
/// to the maximum (HdrHistogram's percentile distribution).
pub(super) fn spectrum(h: &hdrhistogram::Histogram<u64>) -> Vec<(f64, f64)> {
    const Q: [f64; 14] = [
        0.5, 0.75, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.997, 0.999, 0.9995, 0.9999, 0.99999, 1.0,
    ];
    Q.iter()
        .map(|&q| {
            let us = if q >= 1.0 {
                h.max()
            } else {
                h.value_at_quantile(q)
            };
            (q, us as f64 / 1000.0)
        })
        .collect()
}

/// One row per task per stage.
pub(super) fn rows(body: &mut String, r: &RunRecord) {
    body.push_str("<h2>Stages and tasks</h2>");
    let with_class = !r.classes.is_empty();
    body.push_str(&rows_table(r, r.tasks.iter(), with_class));
}

/// A table of `rows` (stage, its class when `with_class`, task, counts,
/// percentiles).
pub(super) fn rows_table<'a>(
    r: &RunRecord,
    rows: impl Iterator<Item = &'a TaskRecord>,
    with_class: bool,
) -> String {
    let rows = rows
        .map(|t| {
            let steady = if r.is_steady(&t.stage) {
                " (steady)"
            } else {
                ""
            };
            let mut row = vec![format!("{}{steady}", t.stage)];
            if with_class {
                row.push(t.class.clone().unwrap_or_default());
            }
            row.extend([
                t.name.to_string(),
                t.requests.to_string(),
                t.errors.to_string(),
                fmt_num(t.rps),
                fmt_opt(t.latency.p50_ms),
                fmt_opt(t.latency.p95_ms),
                fmt_opt(t.latency.p99_ms),
                fmt_opt(t.latency.max_ms),
            ]);
            row
        })
        .collect();
    let mut head = vec!["stage"];
    if with_class {
        head.push("class");
    }
    head.extend([
        "task", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
    ]);
    table(&head, rows)
}

/// Errors by class with their samples.
pub(super) fn errors(body: &mut String, r: &RunRecord) {
    if r.errors.is_empty() {
        return;
    }
    body.push_str("<h3>Errors</h3>");
    let rows = r
        .errors
        .iter()
        .map(|(k, v)| {
            let samples = r.error_samples.get(k).map(|s| s.join(" | "));
            vec![k.to_string(), v.to_string(), samples.unwrap_or_default()]
        })
        .collect();
    body.push_str(&table(&["class", "count", "samples"], rows));
}

fn triple(a: Option<f64>, b: Option<f64>, c: Option<f64>) -> String {
    format!("{} / {} / {}", fmt_opt(a), fmt_opt(b), fmt_opt(c))
}

/// The client's percentiles beside the server's, per task.
pub(super) fn client_vs_server(body: &mut String, r: &RunRecord) {
    let Some(server) = &r.server else {
        return;
    };
    body.push_str("<h2>Client vs server (steady window)</h2>");
    let rows = r
        .client_vs_server()
        .into_iter()
        .filter_map(|row| {
            let (route, sr) = row.route?;
            let (c, s) = (&row.client, &sr.latency);
            Some(vec![
                row.task.clone(),
                route.to_owned(),
                triple(c.p50_ms, c.p95_ms, c.p99_ms),
                triple(Some(s.p50_ms), Some(s.p95_ms), Some(s.p99_ms)),
                [
                    (c.p50_ms, s.p50_ms),
                    (c.p95_ms, s.p95_ms),
                    (c.p99_ms, s.p99_ms),
                ]
                .map(|(c, s)| c.map_or_else(|| "-".to_owned(), |c| format!("{:.2}", c - s)))
                .join(" / "),
                format!("{:.1}", sr.db_queries_per_request),
                format!("{:.2}", sr.upstream_ms_per_request),
            ])
        })
        .collect();
    let head = [
        "task",
        "server route",
        "client p50/p95/p99",
        "server p50/p95/p99",
        "client - server",
        "db queries/req",
        "upstream ms/req",
    ];
    body.push_str(&table(&head, rows));
    let _ = write!(
        body,
        "<p>Server RSS {:.0} MiB to {:.0} MiB over the steady window; {} missions.</p>",
        server.rss_bytes_start as f64 / 1048576.0,
        server.rss_bytes_end as f64 / 1048576.0,
        server.missions
    );
}

/// The comparison with a baseline.
pub(super) fn baseline(body: &mut String, c: &Comparison) {
    let _ = write!(
        body,
        "<h2>Against the baseline: {}</h2>",
        esc(&c.verdict.to_string().to_uppercase())
    );
    let cell = |d: &Option<PercentileDelta>| match d {
        Some(d) => format!(
            "{} &rarr; {} ({:+.1}%){}",
            fmt_num(d.base_ms),
            fmt_num(d.new_ms),
            d.change_pct,
            if d.real { " *" } else { "" }
        ),
        None => "not reported".to_owned(),
    };
    body.push_str("<table><thead><tr><th>stage</th><th>task</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>KS p</th></tr></thead><tbody>");
    for row in &c.rows {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&row.stage),
            esc(row.task.as_str()),
            cell(&row.p50),
            cell(&row.p95),
            cell(&row.p99),
            row.ks_p_value
                .map_or_else(|| "no histograms".to_owned(), |p| format!("{p:.2e}"))
        );
    }
    body.push_str("</tbody></table><p>* a real difference: the recorded distributions differ (Kolmogorov-Smirnov p &lt; 0.01) and the percentile moved 5% or more; for records with only a tool's reported percentiles (no histograms), a move of 10% or more.</p>");
}

/// The history's trend with the threshold, and its analysis.
pub(super) fn history(body: &mut String, runs: &[Run], a: &Analysis) {
    let _ = write!(
        body,
        "<h2>History: {} (severity {})</h2>",
        esc(&a.verdict.to_string().to_uppercase()),
        esc(&a.severity.to_string())
    );
    let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
    let series: Vec<Series> = Percentile::ALL
        .into_iter()
        .map(|p| {
            let values = runs
                .iter()
                .enumerate()
                .filter_map(|(i, r)| Some((i as f64, r.get(p)?)));
            (p.to_string(), values.collect())
        })
        .collect();
    body.push_str(&line_chart(
        "Steady percentiles per run (ms)",
        "ms",
        &series,
        Some((a.threshold_ms, &format!("threshold {} ms", a.threshold_ms))),
        Some(&labels),
    ));
    let _ = write!(body, "<pre>{}</pre>", esc(&render_analysis(a)));
}
