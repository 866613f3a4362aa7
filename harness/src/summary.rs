//! The end-of-run text: a summary table per stage and task, the SLO table
//! and the verdict. Writes to any `Write`; measures nothing.

use std::io::{self, Write};

use crate::record::RunRecord;

fn fmt_ms(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn fmt_value(metric: &str, v: f64) -> String {
    match metric {
        "p50" | "p95" | "p99" | "max" => format!("{} ms", fmt_ms(v)),
        "error_rate" => format!("{:.3}%", v * 100.0),
        "rps" => format!("{v:.1} req/s"),
        _ => format!("{v}"),
    }
}

/// Writes the summary and SLO tables.
pub fn write_summary(out: &mut dyn Write, r: &RunRecord) -> io::Result<()> {
    writeln!(
        out,
        "\n{} ({}) against {}{}{}",
        r.scenario,
        r.requirement.id,
        r.target,
        r.label
            .as_ref()
            .map(|l| format!(", label {l}"))
            .unwrap_or_default(),
        if r.interrupted { " - INTERRUPTED" } else { "" }
    )?;
    let stage_w = r
        .stages
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let task_w = r
        .tasks
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "\n{:<stage_w$}  {:<task_w$}  {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "stage", "task", "requests", "errors", "rps", "p50 ms", "p95 ms", "p99 ms", "max ms"
    )?;
    for stage in &r.stages {
        let marker = if stage.steady { "*" } else { "" };
        for t in r.tasks.iter().filter(|t| t.stage == stage.name) {
            writeln!(
                out,
                "{:<stage_w$}  {:<task_w$}  {:>9} {:>7} {:>9.1} {:>9} {:>9} {:>9} {:>9}",
                format!("{}{marker}", stage.name),
                t.name,
                t.requests,
                t.errors,
                t.rps,
                fmt_ms(t.latency.p50_ms),
                fmt_ms(t.latency.p95_ms),
                fmt_ms(t.latency.p99_ms),
                fmt_ms(t.latency.max_ms),
            )?;
        }
        if stage.dropped > 0 {
            writeln!(
                out,
                "{:<stage_w$}  {} arrivals dropped (max_in_flight reached)",
                stage.name, stage.dropped
            )?;
        }
    }
    let s = &r.steady;
    writeln!(
        out,
        "\nsteady (* {}): {} requests, {} errors ({:.3}%), {:.1} req/s, p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        s.stages.join(", "),
        s.requests,
        s.errors,
        s.error_rate * 100.0,
        s.rps,
        fmt_ms(s.latency.p50_ms),
        fmt_ms(s.latency.p95_ms),
        fmt_ms(s.latency.p99_ms),
        fmt_ms(s.latency.max_ms),
    )?;
    if let Some(server) = &r.server {
        write_client_vs_server(out, r, server)?;
    }
    if !r.errors.is_empty() {
        writeln!(out, "\nerrors by class:")?;
        for (class, n) in &r.errors {
            writeln!(out, "  {class}: {n}")?;
            for sample in r.error_samples.get(class).into_iter().flatten() {
                writeln!(out, "    e.g. {sample}")?;
            }
        }
    }
    if !r.slos.is_empty() {
        let id_w = r.requirement.id.len().max(11);
        let slo_w = r
            .slos
            .iter()
            .map(|s| s.describe().len())
            .max()
            .unwrap_or(3)
            .max(3);
        writeln!(
            out,
            "\n{:<id_w$}  {:<slo_w$}  {:>14}  {:>14}  result",
            "requirement", "SLO", "observed", "bound"
        )?;
        for slo in &r.slos {
            writeln!(
                out,
                "{:<id_w$}  {:<slo_w$}  {:>14}  {:>14}  {}",
                r.requirement.id,
                slo.describe(),
                fmt_value(&slo.metric, slo.observed),
                fmt_value(&slo.metric, slo.bound),
                if slo.passed { "PASS" } else { "FAIL" }
            )?;
        }
    }
    writeln!(out, "\nverdict: {}", r.verdict.to_uppercase())?;
    Ok(())
}

/// Client and server percentiles per task over the steady window, and
/// their difference: what the network, the client and queueing add.
fn write_client_vs_server(
    out: &mut dyn Write,
    r: &RunRecord,
    server: &crate::server::ServerRecord,
) -> io::Result<()> {
    let tasks = r.task_names();
    let task_w = tasks.iter().map(|t| t.len()).max().unwrap_or(4).max(4);
    writeln!(
        out,
        "\nclient vs server, steady window (ms)\n{:<task_w$}  {:<16} {:>24}  {:>24}  {:>24}",
        "task", "server route", "client p50/p95/p99", "server p50/p95/p99", "client - server"
    )?;
    for task in &tasks {
        let Some(template) = r.task_templates.get(task) else {
            continue;
        };
        let Some((route, sr)) = crate::server::route_for(server, &template.method, &template.path)
        else {
            writeln!(out, "{task:<task_w$}  (no matching server route)")?;
            continue;
        };
        let c = r.steady_task_percentiles(task);
        let s = &sr.latency;
        let triple =
            |a: f64, b: f64, c: f64| format!("{} / {} / {}", fmt_ms(a), fmt_ms(b), fmt_ms(c));
        writeln!(
            out,
            "{task:<task_w$}  {route:<16} {:>24}  {:>24}  {:>24}",
            triple(c.p50_ms, c.p95_ms, c.p99_ms),
            triple(s.p50_ms, s.p95_ms, s.p99_ms),
            triple(
                c.p50_ms - s.p50_ms,
                c.p95_ms - s.p95_ms,
                c.p99_ms - s.p99_ms
            ),
        )?;
    }
    Ok(())
}
