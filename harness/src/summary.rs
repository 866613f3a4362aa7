//! The end-of-run text: a summary table per stage and task, the SLO table
//! and the verdict. Writes to any `Write`; measures nothing.

use std::io::{self, Write};

use crate::record::RunRecord;

fn fmt_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
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
            .map(|s| slo_text(s).len())
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
                slo_text(slo),
                fmt_value(&slo.metric, slo.observed),
                fmt_value(&slo.metric, slo.bound),
                if slo.passed { "PASS" } else { "FAIL" }
            )?;
        }
    }
    writeln!(out, "\nverdict: {}", r.verdict.to_uppercase())?;
    Ok(())
}

fn slo_text(slo: &crate::record::SloRecord) -> String {
    let mut s = format!("{} {} {}", slo.metric, slo.op, slo.bound);
    if let Some(t) = &slo.task {
        s.push_str(&format!(" ({t})"));
    }
    s
}
