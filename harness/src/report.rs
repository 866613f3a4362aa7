//! Reports people read: one self-contained HTML file (inline SVG charts, no
//! network) and JUnit XML (one test case per SLO). Both are rendered from
//! records; nothing here measures.

use std::fmt::Write as _;

use crate::analysis::{Analysis, Run};
use crate::compare::Comparison;
use crate::record::RunRecord;

const COLORS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A line chart as inline SVG: each series is (name, points); an optional
/// horizontal line (value, label), e.g. a threshold.
pub fn line_chart(
    title: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
    hline: Option<(f64, &str)>,
    x_labels: Option<&[String]>,
) -> String {
    let (w, h) = (760.0, 260.0);
    let (l, r, t, b) = (60.0, 160.0, 30.0, 40.0);
    let pts: Vec<(f64, f64)> = series.iter().flat_map(|s| s.1.iter().copied()).collect();
    let xmax = pts.iter().map(|p| p.0).fold(1.0f64, f64::max);
    let xmin = pts.iter().map(|p| p.0).fold(xmax, f64::min).min(0.0);
    let mut ymax = pts.iter().map(|p| p.1).fold(0.0f64, f64::max);
    if let Some((v, _)) = hline {
        ymax = ymax.max(v);
    }
    let ymax = if ymax <= 0.0 { 1.0 } else { ymax * 1.1 };
    let sx = |x: f64| l + (x - xmin) / (xmax - xmin).max(1e-9) * (w - l - r);
    let sy = |y: f64| h - b - y / ymax * (h - t - b);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(
        svg,
        r#"<text x="{l}" y="18" font-size="14" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let _ = write!(
        svg,
        r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="#ccc"/>"##,
        w - l - r,
        h - t - b
    );
    for i in 0..=4 {
        let y = ymax * i as f64 / 4.0;
        let py = sy(y);
        let _ = write!(
            svg,
            r##"<line x1="{l}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
            w - r,
            l - 4.0,
            py + 3.0,
            fmt_num(y)
        );
    }
    match x_labels {
        Some(labels) => {
            let every = (labels.len() / 10).max(1);
            for (i, lab) in labels.iter().enumerate().step_by(every) {
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
                    sx(i as f64),
                    h - b + 14.0,
                    esc(lab)
                );
            }
        }
        None => {
            for i in 0..=5 {
                let x = xmin + (xmax - xmin) * i as f64 / 5.0;
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
                    sx(x),
                    h - b + 14.0,
                    fmt_num(x)
                );
            }
        }
    }
    let _ = write!(
        svg,
        r#"<text x="12" y="{}" font-size="10" transform="rotate(-90 12 {})">{}</text>"#,
        h / 2.0,
        h / 2.0,
        esc(y_label)
    );
    for (i, (name, points)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        if !points.is_empty() {
            let path: Vec<String> = points
                .iter()
                .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
                .collect();
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
                path.join(" ")
            );
            if points.len() <= 40 {
                for (x, y) in points {
                    let _ = write!(
                        svg,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{color}"/>"#,
                        sx(*x),
                        sy(*y)
                    );
                }
            }
        }
        let ly = t + 14.0 + i as f64 * 16.0;
        let _ = write!(
            svg,
            r#"<rect x="{}" y="{}" width="10" height="10" fill="{color}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
            w - r + 10.0,
            ly - 9.0,
            w - r + 24.0,
            ly,
            esc(name)
        );
    }
    if let Some((v, label)) = hline {
        let py = sy(v);
        let _ = write!(
            svg,
            r##"<line x1="{l}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#d62728" stroke-dasharray="6 4"/><text x="{}" y="{:.1}" font-size="10" fill="#d62728" text-anchor="end">{}</text>"##,
            w - r,
            w - r - 4.0,
            py - 4.0,
            esc(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
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

/// The whole report as one HTML document.
pub fn html(
    record: &RunRecord,
    baseline: Option<&Comparison>,
    history: Option<(&[Run], &Analysis)>,
) -> String {
    let r = record;
    let mut body = String::new();
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
    let _ = write!(
        body,
        "<h2>Verdict: {}</h2>",
        verdict_badge(r.verdict == "pass")
    );
    body.push_str(&table(
        &[
            "requirement",
            "SLO",
            "stages",
            "observed",
            "bound",
            "result",
        ],
        r.slos
            .iter()
            .map(|s| {
                vec![
                    r.requirement.id.clone(),
                    s.describe(),
                    s.stages.join(", "),
                    fmt_num(s.observed),
                    fmt_num(s.bound),
                    verdict_badge(s.passed),
                ]
            })
            .collect(),
    ));

    let ts = &r.timeseries;
    let users: Vec<(f64, f64)> = ts.iter().map(|p| (p.t as f64, p.users as f64)).collect();
    let rps: Vec<(f64, f64)> = ts.iter().map(|p| (p.t as f64, p.requests as f64)).collect();
    body.push_str("<h2>Load</h2>");
    body.push_str(&line_chart(
        "Users and requests per second",
        "count",
        &[("users".into(), users), ("requests/s".into(), rps)],
        None,
        None,
    ));
    let err: Vec<(f64, f64)> = ts
        .iter()
        .map(|p| {
            (
                p.t as f64,
                if p.requests > 0 {
                    p.errors as f64 / p.requests as f64 * 100.0
                } else {
                    0.0
                },
            )
        })
        .collect();
    body.push_str(&line_chart(
        "Error rate",
        "% of requests",
        &[("error rate %".into(), err)],
        None,
        None,
    ));
    body.push_str("<h2>Latency over time</h2>");
    let all: Vec<(String, Vec<(f64, f64)>)> = [("p50", 0), ("p95", 1), ("p99", 2)]
        .iter()
        .map(|(n, i)| {
            (
                n.to_string(),
                ts.iter()
                    .filter(|p| p.requests > 0)
                    .map(|p| (p.t as f64, [p.p50_ms, p.p95_ms, p.p99_ms][*i]))
                    .collect(),
            )
        })
        .collect();
    let threshold = r.slos.iter().find(|s| s.metric == "p95").map(|s| s.bound);
    body.push_str(&line_chart(
        "All tasks (ms)",
        "ms",
        &all,
        threshold.map(|t| (t, "p95 bound")),
        None,
    ));
    for task in r.task_names() {
        let s: Vec<(String, Vec<(f64, f64)>)> = ["p50", "p95", "p99"]
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.to_string(),
                    ts.iter()
                        .filter_map(|p| {
                            p.tasks
                                .get(&task)
                                .filter(|x| x.requests > 0)
                                .map(|x| (p.t as f64, [x.p50_ms, x.p95_ms, x.p99_ms][i]))
                        })
                        .collect(),
                )
            })
            .collect();
        body.push_str(&line_chart(&format!("{task} (ms)"), "ms", &s, None, None));
    }

    body.push_str("<h2>Stages and tasks</h2>");
    body.push_str(&table(
        &[
            "stage", "task", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
        ],
        r.tasks
            .iter()
            .map(|t| {
                let steady = r.stages.iter().any(|s| s.name == t.stage && s.steady);
                vec![
                    format!("{}{}", t.stage, if steady { " (steady)" } else { "" }),
                    t.name.clone(),
                    t.requests.to_string(),
                    t.errors.to_string(),
                    fmt_num(t.rps),
                    fmt_num(t.latency.p50_ms),
                    fmt_num(t.latency.p95_ms),
                    fmt_num(t.latency.p99_ms),
                    fmt_num(t.latency.max_ms),
                ]
            })
            .collect(),
    ));
    if !r.errors.is_empty() {
        body.push_str("<h3>Errors</h3>");
        body.push_str(&table(
            &["class", "count", "samples"],
            r.errors
                .iter()
                .map(|(k, v)| {
                    vec![
                        k.clone(),
                        v.to_string(),
                        r.error_samples
                            .get(k)
                            .map(|s| s.join(" | "))
                            .unwrap_or_default(),
                    ]
                })
                .collect(),
        ));
    }

    if let Some(server) = &r.server {
        body.push_str("<h2>Client vs server (steady window)</h2>");
        let mut rows = Vec::new();
        for task in r.task_names() {
            let Some(tpl) = r.task_templates.get(&task) else {
                continue;
            };
            let Some((route, sr)) = crate::server::route_for(server, &tpl.method, &tpl.path) else {
                continue;
            };
            let c = r.steady_task_percentiles(&task);
            rows.push(vec![
                task.clone(),
                route.to_owned(),
                format!(
                    "{} / {} / {}",
                    fmt_num(c.p50_ms),
                    fmt_num(c.p95_ms),
                    fmt_num(c.p99_ms)
                ),
                format!(
                    "{} / {} / {}",
                    fmt_num(sr.latency.p50_ms),
                    fmt_num(sr.latency.p95_ms),
                    fmt_num(sr.latency.p99_ms)
                ),
                format!(
                    "{:.2} / {:.2} / {:.2}",
                    c.p50_ms - sr.latency.p50_ms,
                    c.p95_ms - sr.latency.p95_ms,
                    c.p99_ms - sr.latency.p99_ms
                ),
                format!("{:.1}", sr.db_queries_per_request),
                format!("{:.2}", sr.upstream_ms_per_request),
            ]);
        }
        body.push_str(&table(
            &[
                "task",
                "server route",
                "client p50/p95/p99",
                "server p50/p95/p99",
                "client - server",
                "db queries/req",
                "upstream ms/req",
            ],
            rows,
        ));
        let _ = write!(
            body,
            "<p>Server RSS {:.0} MiB to {:.0} MiB over the steady window; {} missions.</p>",
            server.rss_bytes_start as f64 / 1048576.0,
            server.rss_bytes_end as f64 / 1048576.0,
            server.missions
        );
    }

    if let Some(c) = baseline {
        let _ = write!(
            body,
            "<h2>Against the baseline: {}</h2>",
            esc(&c.verdict.to_uppercase())
        );
        let cell = |d: &crate::compare::PercentileDelta| {
            format!(
                "{} &rarr; {} ({:+.1}%){}",
                fmt_num(d.base_ms),
                fmt_num(d.new_ms),
                d.change_pct,
                if d.real { " *" } else { "" }
            )
        };
        let mut s = String::from("<table><thead><tr><th>stage</th><th>task</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>KS p</th></tr></thead><tbody>");
        for row in &c.rows {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2e}</td></tr>",
                esc(&row.stage),
                esc(&row.task),
                cell(&row.p50),
                cell(&row.p95),
                cell(&row.p99),
                row.ks_p_value
            );
        }
        s.push_str("</tbody></table><p>* a real difference: the recorded distributions differ (Kolmogorov-Smirnov p &lt; 0.01) and the percentile moved 5% or more.</p>");
        body.push_str(&s);
    }

    if let Some((runs, a)) = history {
        let _ = write!(
            body,
            "<h2>History: {} (severity {})</h2>",
            esc(&a.verdict.to_uppercase()),
            esc(&a.severity)
        );
        let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
        let s: Vec<(String, Vec<(f64, f64)>)> = ["p50", "p95", "p99"]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    runs.iter()
                        .enumerate()
                        .map(|(i, r)| {
                            (
                                i as f64,
                                match *n {
                                    "p50" => r.p50,
                                    "p95" => r.p95,
                                    _ => r.p99,
                                },
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        body.push_str(&line_chart(
            "Steady percentiles per run (ms)",
            "ms",
            &s,
            Some((a.threshold_ms, &format!("threshold {} ms", a.threshold_ms))),
            Some(&labels),
        ));
        let _ = write!(body, "<pre>{}</pre>", esc(&crate::analysis::render_text(a)));
    }

    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} {}</title><style>{}</style></head><body>{}<footer>harness {} &middot; record schema_version {}</footer></body></html>\n",
        esc(&r.requirement.id),
        esc(&r.scenario),
        "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:right}th{background:#f4f4f4}td:first-child,td:nth-child(2){text-align:left}.pass{color:#fff;background:#2ca02c;padding:1px 6px;border-radius:3px}.fail{color:#fff;background:#d62728;padding:1px 6px;border-radius:3px}.meta{color:#555}svg{display:block;margin:8px 0}pre{background:#f8f8f8;padding:8px;white-space:pre-wrap}footer{color:#888;font-size:12px;margin-top:24px}",
        body,
        env!("CARGO_PKG_VERSION"),
        r.schema_version
    )
}

/// JUnit XML: one test suite (the requirement), one test case per SLO.
pub fn junit(r: &RunRecord) -> String {
    let failures = r.slos.iter().filter(|s| !s.passed).count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"harness\" tests=\"{}\" failures=\"{failures}\">",
        r.slos.len()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" timestamp=\"{}\">",
        esc(&format!("{} {}", r.requirement.id, r.scenario)),
        r.slos.len(),
        esc(&r.started_at)
    );
    for s in &r.slos {
        let name = s.describe();
        let _ = write!(
            x,
            "    <testcase classname=\"{}\" name=\"{}\"",
            esc(&r.requirement.id),
            esc(&name)
        );
        if s.passed {
            x.push_str("/>\n");
        } else {
            let _ = writeln!(x, ">\n      <failure message=\"{}\" type=\"SLO\">observed {} over stages {}</failure>\n    </testcase>", esc(&format!("observed {} {} {} is false", s.observed, s.op, s.bound)), s.observed, esc(&s.stages.join(", ")));
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
