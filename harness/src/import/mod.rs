//! `harness import`: other tools' results as run records, so `history`,
//! `analyze`, `compare`, `report` and `judge` work on a team's existing
//! runs. In: the tool, its files, a label pattern, the scenario whose
//! requirement and SLOs judge them (the built-in REQ-PERF-401 unless
//! given). Out: one record per run (`schema_version` 2, `source` naming the
//! tool and files), written to a folder, oldest first.
//!
//! One file is one run, except for Locust, whose runs are file prefixes:
//! `PREFIX_stats.csv` (totals, per-name rows, percentiles) and
//! `PREFIX_stats_history.csv` (the time series) are read together when
//! both are there, and either alone is a run. Runs are ordered by their own
//! start time, else their file's modification time.
//!
//! - [`record`]: one tool report to one record.

pub mod record;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::adapters::{self, LoadModel, ToolReport};
use crate::error::Error;
use crate::record::RunRecord;
use crate::scenario::{Scenario, ScenarioRef};
use crate::tools::Tool;

/// What `harness import` was asked.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub from: Tool,
    pub files: Vec<PathBuf>,
    /// A label, or a pattern with `{n}` or `{run}` (the run's place, oldest
    /// first, from 1) and `{file}` (its file name without extension).
    pub label: Option<String>,
    pub out: PathBuf,
    /// The scenario whose requirement and SLOs judge the runs (the
    /// built-in REQ-PERF-401 when `None`).
    pub slos_from: Option<ScenarioRef>,
    /// How the tool loaded, when its files do not say (oha, k6, Gatling,
    /// vegeta, JMeter, Artillery); `None`: closed, except vegeta (open: it
    /// attacks at a rate), Artillery (open: it launches users at its
    /// phases' rate) and k6 runs that dropped iterations (open).
    pub model: Option<LoadModel>,
}

/// One run brought in.
#[derive(Debug)]
pub struct Imported {
    pub path: PathBuf,
    pub record: RunRecord,
}

/// One run's files, read through the tool's adapter.
struct Run {
    report: ToolReport,
    files: Vec<PathBuf>,
    /// Its name for `{file}`.
    stem: String,
    started_at: DateTime<Utc>,
    notes: Vec<String>,
}

/// Reads every run, labels and judges it, and writes its record to `out`.
pub fn import(opts: &ImportOptions) -> Result<Vec<Imported>, Error> {
    if opts.from == Tool::Harness {
        return Err(Error::Usage(
            "--from harness: the harness's own records need no import; give them to history, analyze or compare as they are".into(),
        ));
    }
    if opts.files.is_empty() {
        return Err(Error::Usage(
            "import: give at least one results file".into(),
        ));
    }
    let scenario = opts.slos_from.clone().unwrap_or_default().load()?;
    let mut runs = match opts.from {
        Tool::Locust => locust_runs(&opts.files)?,
        tool => opts
            .files
            .iter()
            .map(|f| one_file_run(tool, f, opts.model))
            .collect::<Result<Vec<_>, _>>()?,
    };
    runs.sort_by_key(|r| r.started_at);
    let labels = labels(opts.label.as_deref(), &runs)?;
    std::fs::create_dir_all(&opts.out).map_err(|source| Error::CreateDir {
        path: opts.out.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for (n, (run, label)) in runs.into_iter().zip(labels).enumerate() {
        let (slos, mut notes) = slos_for(&scenario, &run.report);
        notes.extend(run.notes);
        let meta = record::Meta {
            label: Some(label),
            files: run.files.iter().map(|f| f.display().to_string()).collect(),
            started_at: run.started_at,
            requirement: scenario.requirement.clone(),
            slos,
            notes,
        };
        let rec = record::build(&run.report, meta);
        let path = opts.out.join(format!(
            "{}-{}-{}.json",
            run.started_at.format("%Y%m%dT%H%M%SZ"),
            opts.from,
            n + 1
        ));
        rec.write(&path)?;
        out.push(Imported { path, record: rec });
    }
    Ok(out)
}

/// The scenario's SLOs on the one imported stage; an SLO on a request
/// name the results do not have is left out, and said so.
fn slos_for(
    scenario: &Scenario,
    report: &ToolReport,
) -> (Vec<crate::record::SloSpec>, Vec<String>) {
    let mut notes = Vec::new();
    // The names that become rows: counted per name, or named per request.
    let has = |task: &str| {
        report
            .names
            .iter()
            .any(|n| n.name == task && n.requests.is_some())
            || report
                .samples
                .iter()
                .any(|s| s.name.as_deref() == Some(task))
    };
    let slos = scenario
        .slos
        .iter()
        .filter(|s| match &s.task {
            Some(t) if !has(t) => {
                notes.push(format!(
                    "SLO {} names {t:?}, a request name these results have no counted row for: not judged",
                    s.id
                ));
                false
            }
            _ => true,
        })
        .map(|s| {
            let mut s = s.clone();
            s.stages = vec![record::STAGE.to_owned()];
            s
        })
        .collect();
    (slos, notes)
}

/// A file's text, or an error that says it is not text.
fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| Error::ToolOutput {
        file: path.display().to_string(),
        line: 0,
        message: format!(
            "not text ({e}): Gatling 3.11+ and vegeta's own result files are binary; see docs/import.md"
        ),
    })
}

/// A file's modification time, for runs whose results do not say when.
fn modified(path: &Path) -> Result<DateTime<Utc>, Error> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let t = meta.modified().map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(t.into())
}

fn stem_of(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "run".to_owned(), |s| s.to_string_lossy().into_owned())
}

/// A run whose start is the report's own, else its file's modification time.
fn run_of(report: ToolReport, files: Vec<PathBuf>, stem: String) -> Result<Run, Error> {
    let mut notes = Vec::new();
    let started_at = match report.started_at {
        Some(t) => t,
        None => {
            let file = files.last().expect("a run has a file");
            notes.push(format!(
                "{} does not say when the run started: its file's modification time stands for it",
                report.tool
            ));
            modified(file)?
        }
    };
    Ok(Run {
        report,
        files,
        stem,
        started_at,
        notes,
    })
}

fn one_file_run(tool: Tool, path: &Path, model: Option<LoadModel>) -> Result<Run, Error> {
    let text = read_text(path)?;
    let file = path.display().to_string();
    let closed = model.unwrap_or(LoadModel::Closed);
    let mut report = match tool {
        Tool::Wrk => adapters::wrk::parse(&file, &text)?,
        Tool::Oha => adapters::oha::parse(&file, &text, closed)?,
        Tool::Hey => adapters::hey::parse(&file, &text)?,
        Tool::K6 => adapters::k6::parse(&file, &text, model)?,
        Tool::Vegeta => adapters::vegeta::parse(&file, &text)?,
        Tool::Jmeter => adapters::jmeter::parse(&file, &text)?,
        Tool::Gatling => adapters::gatling::parse(&file, &text, closed)?,
        Tool::Artillery => adapters::artillery::parse(&file, &text, model)?,
        Tool::Autocannon => adapters::autocannon::parse(&file, &text, None)?,
        Tool::Harness | Tool::Locust => unreachable!("handled by the caller"),
    };
    if let Some(m) = model.filter(|_| matches!(tool, Tool::Vegeta | Tool::Jmeter)) {
        report.model = m;
    }
    run_of(report, vec![path.to_owned()], stem_of(path))
}

const STATS: &str = "_stats.csv";
const HISTORY: &str = "_stats_history.csv";

/// Locust runs by file prefix, each from its `_stats.csv`, its
/// `_stats_history.csv`, or both.
fn locust_runs(files: &[PathBuf]) -> Result<Vec<Run>, Error> {
    let mut prefixes: Vec<String> = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let prefix = name
            .strip_suffix(HISTORY)
            .or_else(|| name.strip_suffix(STATS))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{name}: not one of Locust's --csv files (PREFIX{STATS} or PREFIX{HISTORY})"
                ))
            })?;
        if !prefixes.iter().any(|p| p == prefix) {
            prefixes.push(prefix.to_owned());
        }
    }
    prefixes
        .into_iter()
        .map(|prefix| {
            let (stats, history) = (
                PathBuf::from(format!("{prefix}{STATS}")),
                PathBuf::from(format!("{prefix}{HISTORY}")),
            );
            let mut files = Vec::new();
            let mut report = None;
            if stats.exists() {
                let text = read_text(&stats)?;
                report = Some(adapters::locust::parse_stats(
                    &stats.display().to_string(),
                    &text,
                )?);
                files.push(stats.clone());
            }
            if history.exists() {
                let text = read_text(&history)?;
                let h =
                    adapters::locust::parse_history_report(&history.display().to_string(), &text)?;
                report = Some(match report {
                    // Totals and percentiles from _stats.csv, time from the history.
                    Some(mut r) => {
                        r.intervals = h.intervals;
                        r.started_at = h.started_at;
                        r.duration_s = h.duration_s;
                        r.notes.extend(h.notes);
                        r
                    }
                    None => h,
                });
                files.push(history);
            }
            let report = report.ok_or_else(|| Error::Read {
                path: stats.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            })?;
            let stem = stem_of(Path::new(&prefix));
            run_of(report, files, stem)
        })
        .collect()
}

/// Each run's label: the pattern with `{n}` and `{file}` filled in, or
/// the file's name when no label is given.
fn labels(pattern: Option<&str>, runs: &[Run]) -> Result<Vec<String>, Error> {
    let Some(pattern) = pattern else {
        return Ok(runs.iter().map(|r| r.stem.clone()).collect());
    };
    let placed = ["{n}", "{run}", "{file}"]
        .iter()
        .any(|p| pattern.contains(p));
    if runs.len() > 1 && !placed {
        return Err(Error::Usage(format!(
            "--label {pattern:?}: {} runs would share one label; put {{n}} (their order) or {{file}} in it",
            runs.len()
        )));
    }
    Ok(runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = (i + 1).to_string();
            pattern
                .replace("{n}", &n)
                .replace("{run}", &n)
                .replace("{file}", &r.stem)
        })
        .collect())
}
