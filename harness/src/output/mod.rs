//! Everything the harness prints or renders, and nothing that measures.
//! In: records, judgements, analyses, comparisons, the live view. Out: text
//! or JSON on any `Write`, progress on stderr, HTML and JUnit files.
//!
//! - [`summary`]: the end-of-run tables and verdict.
//! - [`progress`]: the live line (terminal) or periodic lines (pipe).
//! - [`text`]: `history`, `analyze` and `compare` as text.
//! - [`report`]: HTML (inline SVG) and JUnit XML, for runs and scorecards.
//! - [`scorecard`]: `harness score` as text.

pub mod progress;
pub mod report;
pub mod scorecard;
pub mod summary;
pub mod text;

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::analysis::compare::Comparison;
use crate::analysis::Analysis;
use crate::record::verdict::Judgement;
use crate::record::RunRecord;

/// `v` with 0 decimals from `whole` up, 1 from `tenths` up, else 2.
pub(crate) fn decimals(v: f64, whole: f64, tenths: f64) -> String {
    match v.abs() {
        a if a >= whole => format!("{v:.0}"),
        a if a >= tenths => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn json(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// `harness run` and `demo`: the summary, then where the files went.
pub fn run(
    out: &mut dyn Write,
    record: &RunRecord,
    path: &Path,
    report: Option<&Path>,
) -> io::Result<()> {
    summary::write_summary(out, record)?;
    writeln!(out, "record: {}", path.display())?;
    if let Some(report) = report {
        writeln!(out, "report: {}", report.display())?;
    }
    out.flush()
}

/// `harness report`: where the page went.
pub fn report_written(out: &mut dyn Write, path: &Path) -> io::Result<()> {
    writeln!(out, "report: {}", path.display())
}

/// `harness history`.
pub fn history(out: &mut dyn Write, records: &[RunRecord], dir: &Path) -> io::Result<()> {
    out.write_all(text::render_history(records, dir).as_bytes())
}

/// `harness analyze`.
pub fn analysis(out: &mut dyn Write, a: &Analysis, format: Format) -> io::Result<()> {
    match format {
        Format::Json => json(out, a),
        Format::Text => out.write_all(text::render_analysis(a).as_bytes()),
    }
}

/// `harness compare`.
pub fn comparison(out: &mut dyn Write, c: &Comparison, format: Format) -> io::Result<()> {
    match format {
        Format::Json => json(out, c),
        Format::Text => out.write_all(text::render_comparison(c).as_bytes()),
    }
}

/// What `harness judge --format json` prints.
#[derive(Debug, Serialize)]
struct JudgeJson<'a> {
    record: &'a Path,
    requirement: &'a str,
    verdict: crate::record::Verdict,
    recorded_verdict: crate::record::Verdict,
    slos: &'a [crate::record::SloRecord],
}

/// `harness judge`: the SLO table and the verdict, and whether it agrees
/// with the verdict the record was written with.
pub fn judgement(
    out: &mut dyn Write,
    path: &Path,
    record: &RunRecord,
    j: &Judgement,
    format: Format,
) -> io::Result<()> {
    if format == Format::Json {
        let shown = JudgeJson {
            record: path,
            requirement: &record.requirement.id,
            verdict: j.verdict,
            recorded_verdict: record.verdict,
            slos: &j.slos,
        };
        return json(out, &shown);
    }
    writeln!(
        out,
        "{} ({}) from {}, recorded {}",
        record.scenario,
        record.requirement.id,
        path.display(),
        record.started_at
    )?;
    summary::write_slos(out, &record.requirement.id, &j.slos)?;
    summary::write_verdict(out, j.verdict)?;
    if j.verdict != record.verdict {
        writeln!(
            out,
            "(the record says {}: it was judged differently when written)",
            record.verdict.to_string().to_uppercase()
        )?;
    }
    Ok(())
}
