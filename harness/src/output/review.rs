//! `harness review` as text or JSON. In: a [`Review`]. Out: each checklist
//! item with its verdict and evidence, then the often-missed factors, then
//! the verdict (or the review as JSON, `schema_version` 1).

use std::io::{self, Write};

use super::{json, Format};
use crate::review::{Finding, Review, Status};

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
    }
}

fn section(out: &mut dyn Write, title: &str, findings: &[Finding]) -> io::Result<()> {
    writeln!(out, "{title}")?;
    for f in findings {
        writeln!(out, "  [{}] {}", mark(f.status), f.title)?;
        for e in &f.evidence {
            writeln!(out, "         {e}")?;
        }
    }
    Ok(())
}

/// The review, then its verdict.
pub fn print_review(out: &mut dyn Write, r: &Review, format: Format) -> io::Result<()> {
    if format == Format::Json {
        return json(out, r);
    }
    let against = r
        .target
        .as_deref()
        .map_or(String::new(), |t| format!(" against {t}"));
    writeln!(out, "review of {} ({}){against}", r.scenario, r.file)?;
    section(out, "governance checklist:", &r.checklist)?;
    section(out, "often missed:", &r.often_missed)?;
    let count = |s: Status| {
        r.checklist
            .iter()
            .chain(&r.often_missed)
            .filter(|f| f.status == s)
            .count()
    };
    writeln!(
        out,
        "verdict: {} ({} pass, {} warn, {} fail)",
        mark(r.verdict),
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail)
    )?;
    out.flush()
}

/// `harness scenarios`: the built-in scenarios, one per line.
pub fn print_scenarios(out: &mut dyn Write) -> io::Result<()> {
    for (name, about, _) in crate::scenario::BUILTINS {
        writeln!(out, "{name:<20} {about}")?;
    }
    out.flush()
}
