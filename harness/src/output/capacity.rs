//! `harness capacity` as text or JSON. In: the search's record and its
//! `capacity` section. Out: the step table, the capacity, why the search
//! stopped, the knee and the USL fit in words (or the section as JSON).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::{decimals, files, json, Format, WrittenJson};
use crate::record::capacity::{CapacityRecord, StopReason};
use crate::record::{Model, RunRecord};

/// What `harness capacity --format json` prints: where the files went,
/// the verdict, and the capacity section.
#[derive(Debug, Serialize)]
struct CapacityJson<'a> {
    #[serde(flatten)]
    written: WrittenJson<'a>,
    #[serde(flatten)]
    capacity: &'a CapacityRecord,
}

/// The search's result, then where the files went.
pub fn print_capacity(
    out: &mut dyn Write,
    record: &RunRecord,
    path: &Path,
    report: Option<&Path>,
    format: Format,
) -> io::Result<()> {
    let Some(c) = &record.capacity else {
        return Ok(());
    };
    if format == Format::Json {
        let shown = CapacityJson {
            written: WrittenJson::of(record, path, report),
            capacity: c,
        };
        return json(out, &shown);
    }
    writeln!(
        out,
        "capacity search: {} ({}) against {}, {} model, {} s holds",
        record.scenario,
        record.requirement.id,
        record.target,
        match c.model {
            Model::Open => "open",
            Model::Closed => "closed",
        },
        num(c.hold_s)
    )?;
    out.write_all(render(c).as_bytes())?;
    files(out, path, report)
}

fn num(v: f64) -> String {
    decimals(v, 100.0, 1.0)
}

/// The step table and the findings, as `capacity` and `judge` print them.
pub fn render(c: &CapacityRecord) -> String {
    let unit = c.unit();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<9} {:>10} {:>12} {:>10} {:>10} {:>8} {:>7} {:>7}  result",
        "step", unit, "achieved/s", "p95 ms", "mean ms", "in prog", "errors", "dropped"
    );
    for st in &c.steps {
        let result = match (st.slos_passed, st.saturated.is_some()) {
            (true, false) => "pass".to_owned(),
            _ => st.detail.clone(),
        };
        let _ = writeln!(
            s,
            "{:<9} {:>10} {:>12} {:>10} {:>10} {:>8} {:>7} {:>7}  {result}",
            st.stage,
            num(st.load),
            num(st.achieved_rps),
            num(st.p95_ms),
            num(st.mean_ms),
            num(st.concurrency),
            st.errors,
            st.dropped
        );
    }
    let _ = match (c.capacity, c.capacity_rps) {
        (Some(cap), Some(rps)) => writeln!(
            s,
            "capacity: {}{} {unit} ({} req/s achieved)",
            if c.at_least { "at least " } else { "" },
            num(cap),
            num(rps)
        ),
        _ => writeln!(s, "capacity: none (the first step did not pass)"),
    };
    let why = match c.stopped {
        StopReason::SloFailed => "an SLO failed",
        StopReason::Saturated => "the target saturated",
        StopReason::MaxReached => "--max reached",
        StopReason::MaxSteps => "--max-steps reached",
        StopReason::Interrupted => "interrupted",
    };
    let at = c
        .stopped_at
        .as_deref()
        .map_or(String::new(), |a| format!(" at {a}"));
    let _ = writeln!(s, "stopped{at}: {why}: {}", c.stop_detail);
    let _ = match &c.knee {
        Some(k) => writeln!(
            s,
            "knee: {} at {} {unit} (p95 {} -> {} ms)",
            k.stage,
            num(k.load),
            num(k.p95_before_ms),
            num(k.p95_ms)
        ),
        None => writeln!(s, "knee: none (p95 grew no faster than the load)"),
    };
    s.push_str(&usl_line(c));
    if let Some(r) = c.require {
        let _ = writeln!(
            s,
            "required: {} {unit}: {}",
            num(r),
            if c.met { "met" } else { "NOT met" }
        );
    }
    s
}

/// The Universal Scalability Law fit in one or two lines.
fn usl_line(c: &CapacityRecord) -> String {
    let Some(u) = &c.usl else {
        return "USL: not fitted (fewer than 3 steps with throughput)\n".to_owned();
    };
    let mut s = format!(
        "USL (Gunther): lambda {} req/s, contention sigma {:.4}, coherency kappa {:.6}, R2 {:.3}",
        num(u.lambda),
        u.sigma,
        u.kappa,
        u.r_squared
    );
    match (u.peak_concurrency, u.peak_throughput) {
        (Some(n), Some(x)) => {
            let _ = write!(
                s,
                "; predicted peak {} req/s at {} in progress",
                num(x),
                num(n)
            );
        }
        (None, Some(x)) => {
            let _ = write!(s, "; ceiling {} req/s (contention only, no peak)", num(x));
        }
        _ => s.push_str("; no ceiling in sight (linear so far)"),
    }
    s.push('\n');
    if let Some(poor) = &u.poor {
        let _ = writeln!(s, "USL fit is poor: {poor}; do not plan with it");
    }
    s
}
