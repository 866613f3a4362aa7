//! What every command that writes a record shares (`run`, `demo`,
//! `capacity`, the regression story), and writing it. In: the flags, read
//! once by `cli` into [`RecordOptions`]. Out: the record and its HTML report
//! on disk ([`write_record`]) and where they went ([`Written`]).

use std::path::{Path, PathBuf};

use crate::error::{write_file, Error};
use crate::output::{report, Format};
use crate::record::RunRecord;

/// Where the HTML report goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ReportAt {
    /// No report.
    #[default]
    Nowhere,
    /// Beside the record, with `.html` (`--report` without a path).
    BesideRecord,
    /// At this path (`--report FILE`).
    At(PathBuf),
}

impl ReportAt {
    /// `--report` as clap reads it: absent, without a path, or with one.
    pub fn from_flag(flag: Option<Option<PathBuf>>) -> Self {
        match flag {
            None => ReportAt::Nowhere,
            Some(None) => ReportAt::BesideRecord,
            Some(Some(path)) => ReportAt::At(path),
        }
    }

    /// A report in any case: beside the record unless a path was given
    /// (`demo` and the regression story always write one).
    pub fn always(self) -> Self {
        match self {
            ReportAt::Nowhere => ReportAt::BesideRecord,
            other => other,
        }
    }

    /// Its path for a record written to `record`; `None`: no report.
    pub fn path(&self, record: &Path) -> Option<PathBuf> {
        match self {
            ReportAt::Nowhere => None,
            ReportAt::BesideRecord => Some(record.with_extension("html")),
            ReportAt::At(path) => Some(path.clone()),
        }
    }
}

/// What every command that writes a record takes, from the same flags.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordOptions {
    /// Seed of every random choice.
    pub seed: u64,
    /// Where the record goes [default: `results/<UTC stamp>-<name>.json`;
    /// the regression story: a folder].
    pub out: Option<PathBuf>,
    /// Stored in the record (build, commit, machine).
    pub label: Option<String>,
    /// No progress output.
    pub quiet: bool,
    /// Leave the target's `/__admin/stats` unread even if it answers.
    pub no_server_stats: bool,
    pub report: ReportAt,
    /// How the command prints what it did.
    pub format: Format,
    /// Serve live metrics, the live state and a dashboard here (`--metrics-listen`).
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl RecordOptions {
    /// Seed `seed`, everything else as the flags' defaults say.
    pub fn new(seed: u64) -> Self {
        RecordOptions {
            seed,
            out: None,
            label: None,
            quiet: false,
            no_server_stats: false,
            report: ReportAt::Nowhere,
            format: Format::Text,
            metrics_listen: None,
        }
    }
}

/// Where a record and its report went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub report: Option<PathBuf>,
}

/// Now, as default file names carry it: `20261126T230512Z` (UTC).
pub fn stamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// `results/20261126T230512Z-req-perf-401.json`.
pub fn default_record_path(name: &str) -> PathBuf {
    let stamp = stamp();
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    Path::new("results").join(format!("{stamp}-{safe}.json"))
}

/// Writes `record` where `opts` says (by default under `results/`, named
/// after `name`), and its HTML report where asked; the one way every
/// command writes its record.
pub fn write_record(
    record: &RunRecord,
    opts: &RecordOptions,
    name: &str,
) -> Result<Written, Error> {
    let path = opts
        .out
        .clone()
        .unwrap_or_else(|| default_record_path(name));
    record.write(&path)?;
    let report = opts.report.path(&path);
    if let Some(page) = &report {
        write_file(page, report::html(record, None, None))?;
    }
    Ok(Written { path, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_flag_reads_as_where_the_page_goes() {
        let record = Path::new("results/run.json");
        assert_eq!(ReportAt::from_flag(None).path(record), None);
        assert_eq!(
            ReportAt::from_flag(Some(None)).path(record),
            Some(PathBuf::from("results/run.html"))
        );
        let at = ReportAt::from_flag(Some(Some("page.html".into())));
        assert_eq!(at.path(record), Some(PathBuf::from("page.html")));
        assert_eq!(ReportAt::Nowhere.always(), ReportAt::BesideRecord);
        assert_eq!(at.clone().always(), at);
    }
}
