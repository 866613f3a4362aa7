//! The end-of-run text. In: a record (and, for `judge`, its judgement).
//! Out: the per-stage and per-task table, client vs server, errors, the
//! SLO table and the verdict, written to any `Write`. Measures nothing.

use std::io::{self, Write};

use crate::record::{RunRecord, SloRecord, Verdict};
use crate::scenario::Metric;

/// Milliseconds with as many decimals as they deserve.
pub fn fmt_ms(v: f64) -> String {
    super::decimals(v, 1000.0, 10.0)
}

/// A figure a source may not report: `-` when absent.
pub fn fmt_opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), fmt_ms)
}

fn fmt_value(metric: Metric, v: f64) -> String {
    match metric {
        Metric::P50 | Metric::P95 | Metric::P99 | Metric::Max => format!("{} ms", fmt_ms(v)),
        Metric::ErrorRate => format!("{:.3}%", v * 100.0),
        Metric::Rps => format!("{v:.1} req/s"),
        Metric::Errors => format!("{v}"),
    }
}

/// The width of the widest of `names`, at least `min`.
fn width<'a>(names: impl Iterator<Item = &'a str>, min: usize) -> usize {
    names.map(str::len).max().unwrap_or(min).max(min)
}

/// Writes the summary, the SLO table and the verdict.
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
    write_rows(out, r)?;
    let s = &r.steady;
    writeln!(
        out,
        "\nsteady (* {}): {} requests, {} errors ({:.3}%), {:.1} req/s, p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        s.stages.join(", "),
        s.requests,
        s.errors,
        s.error_rate * 100.0,
        s.rps,
        fmt_opt_ms(s.latency.p50_ms),
        fmt_opt_ms(s.latency.p95_ms),
        fmt_opt_ms(s.latency.p99_ms),
        fmt_opt_ms(s.latency.max_ms),
    )?;
    if !r.classes.is_empty() {
        write_classes(out, r)?;
    }
    if r.server.is_some() {
        write_client_vs_server(out, r)?;
    }
    super::connections::write_connections(out, r)?;
    out.write_all(
        super::slowest::render(
            "slowest requests (steady window; trace ids as sent in traceparent):",
            &r.slowest,
        )
        .as_bytes(),
    )?;
    if !r.errors.is_empty() {
        writeln!(out, "\nerrors by class:")?;
        for (class, n) in &r.errors {
            writeln!(out, "  {class}: {n}")?;
            for sample in r.error_samples.get(class).into_iter().flatten() {
                writeln!(out, "    e.g. {sample}")?;
            }
        }
    }
    write_slos(out, &r.requirement.id, &r.slos)?;
    write_verdict(out, r.verdict)
}

/// One line per task per stage (with its class, when the scenario has
/// classes), the stage's aggregate last.
pub fn write_rows(out: &mut dyn Write, r: &RunRecord) -> io::Result<()> {
    let stage_w = width(r.stages.iter().map(|s| s.name.as_str()), 5) + 1;
    let task_w = width(r.tasks.iter().map(|t| t.name.as_str()), 4);
    let class_w = match r.classes.is_empty() {
        true => 0,
        false => width(r.classes.iter().map(|c| c.name.as_str()), 5) + 2,
    };
    let class_cell = |c: &str| match class_w {
        0 => String::new(),
        w => format!("{c:<w$}", w = w - 2) + "  ",
    };
    writeln!(
        out,
        "\n{:<stage_w$}  {}{:<task_w$}  {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "stage",
        class_cell("class"),
        "task",
        "requests",
        "errors",
        "rps",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms"
    )?;
    for stage in &r.stages {
        let marker = if stage.steady { "*" } else { "" };
        for t in r.tasks.iter().filter(|t| t.stage == stage.name) {
            writeln!(
                out,
                "{:<stage_w$}  {}{:<task_w$}  {:>9} {:>7} {:>9.1} {:>9} {:>9} {:>9} {:>9}",
                format!("{}{marker}", stage.name),
                class_cell(t.class.as_deref().unwrap_or("")),
                t.name,
                t.requests,
                t.errors,
                t.rps,
                fmt_opt_ms(t.latency.p50_ms),
                fmt_opt_ms(t.latency.p95_ms),
                fmt_opt_ms(t.latency.p99_ms),
                fmt_opt_ms(t.latency.max_ms),
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
    Ok(())
}

/// One line per user class: its share and its steady window.
fn write_classes(out: &mut dyn Write, r: &RunRecord) -> io::Result<()> {
    let w = width(r.classes.iter().map(|c| c.name.as_str()), 5);
    writeln!(
        out,
        "\nby class, steady window\n{:<w$}  {:>9}  {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "class", "share", "requests", "errors", "rps", "p50 ms", "p95 ms", "p99 ms"
    )?;
    for c in &r.classes {
        let share = match (c.weight, c.count) {
            (_, Some(n)) => format!("{n} users"),
            (Some(w), None) => format!("weight {w}"),
            (None, None) => String::new(),
        };
        let s = &c.steady;
        writeln!(
            out,
            "{:<w$}  {:>9}  {:>9} {:>7} {:>9.1} {:>9} {:>9} {:>9}",
            c.name,
            share,
            s.requests,
            s.errors,
            s.rps,
            fmt_opt_ms(s.latency.p50_ms),
            fmt_opt_ms(s.latency.p95_ms),
            fmt_opt_ms(s.latency.p99_ms),
        )?;
        if let Some(t) = &c.target {
            writeln!(out, "{:<w$}  from {t}", "")?;
        }
    }
    Ok(())
}

/// The SLO table, one line per SLO with its result.
pub fn write_slos(out: &mut dyn Write, requirement: &str, slos: &[SloRecord]) -> io::Result<()> {
    if slos.is_empty() {
        return Ok(());
    }
    let id_w = requirement.len().max(11);
    let described: Vec<String> = slos.iter().map(SloRecord::describe).collect();
    let slo_w = width(described.iter().map(String::as_str), 3);
    writeln!(
        out,
        "\n{:<id_w$}  {:<slo_w$}  {:>14}  {:>14}  result",
        "requirement", "SLO", "observed", "bound"
    )?;
    for (slo, text) in slos.iter().zip(&described) {
        writeln!(
            out,
            "{:<id_w$}  {:<slo_w$}  {:>14}  {:>14}  {}",
            requirement,
            text,
            slo.observed.map_or_else(
                || "not reported".to_owned(),
                |o| fmt_value(slo.spec.metric, o)
            ),
            fmt_value(slo.spec.metric, slo.spec.bound),
            if slo.passed { "PASS" } else { "FAIL" }
        )?;
    }
    Ok(())
}

pub fn write_verdict(out: &mut dyn Write, verdict: Verdict) -> io::Result<()> {
    writeln!(out, "\nverdict: {}", verdict.headline())
}

/// Client and server percentiles per task over the steady window, and
/// their difference: what the network, the client and queueing add.
fn write_client_vs_server(out: &mut dyn Write, r: &RunRecord) -> io::Result<()> {
    let rows = r.client_vs_server();
    let task_w = width(rows.iter().map(|row| row.task.as_str()), 4);
    writeln!(
        out,
        "\nclient vs server, steady window (ms)\n{:<task_w$}  {:<16} {:>24}  {:>24}  {:>24}",
        "task", "server route", "client p50/p95/p99", "server p50/p95/p99", "client - server"
    )?;
    let triple = |a: Option<f64>, b: Option<f64>, c: Option<f64>| {
        format!("{} / {} / {}", fmt_opt_ms(a), fmt_opt_ms(b), fmt_opt_ms(c))
    };
    let less = |a: Option<f64>, b: f64| a.map(|a| a - b);
    for row in rows {
        let task = &row.task;
        let Some((route, sr)) = row.route else {
            writeln!(out, "{task:<task_w$}  (no matching server route)")?;
            continue;
        };
        let (c, s) = (&row.client, &sr.latency);
        writeln!(
            out,
            "{task:<task_w$}  {route:<16} {:>24}  {:>24}  {:>24}",
            triple(c.p50_ms, c.p95_ms, c.p99_ms),
            triple(Some(s.p50_ms), Some(s.p95_ms), Some(s.p99_ms)),
            triple(
                less(c.p50_ms, s.p50_ms),
                less(c.p95_ms, s.p95_ms),
                less(c.p99_ms, s.p99_ms)
            ),
        )?;
    }
    Ok(())
}
