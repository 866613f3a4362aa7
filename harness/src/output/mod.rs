//! Everything the harness prints or renders, and nothing that measures.
//! In: records, judgements, analyses, comparisons, the live view. Out: text
//! or JSON on any `Write`, progress on stderr, HTML and JUnit files.
//!
//! - [`summary`]: the end-of-run tables and verdict; [`connections`]: how
//!   the run connected and where each task's time went.
//! - [`progress`]: the live line (terminal) or periodic lines (pipe).
//! - [`text`]: `history`, `analyze` and `compare` as text.
//! - [`report`]: HTML (inline SVG) and JUnit XML, for runs and scorecards.
//! - [`scorecard`]: `harness score` as text.
//! - [`capacity`]: `harness capacity` as text or JSON.
//! - [`review`]: `harness review` and `harness scenarios`.

pub mod capacity;
pub mod connections;
pub mod progress;
pub mod report;
pub mod review;
pub mod scorecard;
pub mod slowest;
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

pub use capacity::print_capacity;
pub use summary::fmt_opt_ms;

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// `value` as pretty JSON and a newline.
pub fn json(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// What every command that wrote a record says first in JSON: where the
/// record and its report went, what ran against what, and the verdict.
#[derive(Debug, Serialize)]
struct WrittenJson<'a> {
    record: &'a Path,
    report: Option<&'a Path>,
    scenario: &'a str,
    requirement: &'a str,
    target: &'a str,
    verdict: crate::record::Verdict,
}

impl<'a> WrittenJson<'a> {
    fn of(r: &'a RunRecord, record: &'a Path, report: Option<&'a Path>) -> Self {
        WrittenJson {
            record,
            report,
            scenario: &r.scenario,
            requirement: &r.requirement.id,
            target: &r.target,
            verdict: r.verdict,
        }
    }
}

/// What `harness run --format json` (and `demo`) prints: the above, each
/// SLO, and the steady window's figures (its histogram left out).
#[derive(Debug, Serialize)]
struct RunJson<'a> {
    #[serde(flatten)]
    written: WrittenJson<'a>,
    slos: &'a [crate::record::SloRecord],
    steady: SteadyJson<'a>,
}

#[derive(Debug, Serialize)]
struct SteadyJson<'a> {
    stages: &'a [String],
    requests: u64,
    errors: u64,
    error_rate: f64,
    rps: f64,
    #[serde(flatten)]
    latency: crate::record::Latency,
}

/// Where the files went, as the text output ends.
fn files(out: &mut dyn Write, path: &Path, report: Option<&Path>) -> io::Result<()> {
    writeln!(out, "record: {}", path.display())?;
    if let Some(report) = report {
        writeln!(out, "report: {}", report.display())?;
    }
    out.flush()
}

/// `harness run` and `demo`: the summary, then where the files went (or
/// all of it as JSON).
pub fn print_run(
    out: &mut dyn Write,
    record: &RunRecord,
    path: &Path,
    report: Option<&Path>,
    format: Format,
) -> io::Result<()> {
    if format == Format::Json {
        let s = &record.steady;
        let shown = RunJson {
            written: WrittenJson::of(record, path, report),
            slos: &record.slos,
            steady: SteadyJson {
                stages: &s.stages,
                requests: s.requests,
                errors: s.errors,
                error_rate: s.error_rate,
                rps: s.rps,
                latency: s.latency,
            },
        };
        return json(out, &shown);
    }
    summary::write_summary(out, record)?;
    files(out, path, report)
}

/// What `harness import --format json` prints per record.
#[derive(Debug, Serialize)]
struct ImportedJson<'a> {
    record: &'a Path,
    label: Option<&'a str>,
    started_at: &'a str,
    requests: u64,
    errors: u64,
    latency: crate::record::LatencyBasis,
    p50_ms: Option<f64>,
    p95_ms: Option<f64>,
    p99_ms: Option<f64>,
    verdict: crate::record::Verdict,
}

/// `harness import`: one line per record written, oldest first.
pub fn print_imported(
    out: &mut dyn Write,
    done: &[crate::import::Imported],
    format: Format,
) -> io::Result<()> {
    let rows: Vec<ImportedJson> = done
        .iter()
        .map(|i| {
            let r = &i.record;
            ImportedJson {
                record: &i.path,
                label: r.label.as_deref(),
                started_at: &r.started_at,
                requests: r.steady.requests,
                errors: r.steady.errors,
                latency: r.source.latency,
                p50_ms: r.steady.latency.p50_ms,
                p95_ms: r.steady.latency.p95_ms,
                p99_ms: r.steady.latency.p99_ms,
                verdict: r.verdict,
            }
        })
        .collect();
    if format == Format::Json {
        return json(out, &rows);
    }
    for r in &rows {
        writeln!(
            out,
            "{}  {:<16} {} requests, {} errors, p50/p95/p99 {} / {} / {} ms ({}), {}  -> {}",
            r.started_at.chars().take(19).collect::<String>(),
            r.label.unwrap_or("-"),
            r.requests,
            r.errors,
            fmt_opt_ms(r.p50_ms),
            fmt_opt_ms(r.p95_ms),
            fmt_opt_ms(r.p99_ms),
            match r.latency {
                crate::record::LatencyBasis::Histograms => "every request",
                crate::record::LatencyBasis::ReportedPercentiles => "as the tool reported",
            },
            r.verdict.headline(),
            r.record.display()
        )?;
    }
    let mut notes: Vec<&str> = Vec::new();
    for note in done.iter().flat_map(|i| &i.record.source.notes) {
        if !notes.contains(&note.as_str()) {
            notes.push(note);
        }
    }
    for note in notes {
        writeln!(out, "note: {note}")?;
    }
    writeln!(out, "{} run(s) imported", done.len())
}

/// `harness merge`: what the merged record holds and its verdict.
pub fn print_merged(
    out: &mut dyn Write,
    r: &RunRecord,
    shards: usize,
    path: &Path,
) -> io::Result<()> {
    writeln!(
        out,
        "merged {shards} shards of {} (seed {}): {} requests, {} errors, steady p50/p95/p99 {} / {} / {} ms, verdict {}",
        r.scenario,
        r.seed,
        r.requests(),
        r.errors.values().sum::<u64>(),
        fmt_opt_ms(r.steady.latency.p50_ms),
        fmt_opt_ms(r.steady.latency.p95_ms),
        fmt_opt_ms(r.steady.latency.p99_ms),
        r.verdict.headline()
    )?;
    writeln!(out, "record: {}", path.display())
}

/// `harness report`: where the page went.
pub fn print_report_written(out: &mut dyn Write, path: &Path) -> io::Result<()> {
    writeln!(out, "report: {}", path.display())
}

/// `harness history`.
pub fn print_history(out: &mut dyn Write, records: &[RunRecord], dir: &Path) -> io::Result<()> {
    out.write_all(text::render_history(records, dir).as_bytes())
}

/// `harness analyze`.
pub fn print_analysis(out: &mut dyn Write, a: &Analysis, format: Format) -> io::Result<()> {
    match format {
        Format::Json => json(out, a),
        Format::Text => out.write_all(text::render_analysis(a).as_bytes()),
    }
}

/// `harness compare`.
pub fn print_comparison(out: &mut dyn Write, c: &Comparison, format: Format) -> io::Result<()> {
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
    #[serde(skip_serializing_if = "Option::is_none")]
    capacity: Option<&'a crate::record::capacity::CapacityRecord>,
}

/// `harness judge`: the SLO table and the verdict, and whether it agrees
/// with the verdict the record was written with.
pub fn print_judgement(
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
            capacity: j.capacity.as_ref(),
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
    if let Some(c) = &j.capacity {
        out.write_all(capacity::render(c).as_bytes())?;
    }
    summary::write_verdict(out, j.verdict)?;
    if j.verdict != record.verdict {
        writeln!(
            out,
            "(the record says {}: it was judged differently when written)",
            record.verdict.headline()
        )?;
    }
    Ok(())
}
