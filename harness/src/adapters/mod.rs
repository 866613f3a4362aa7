//! Other tools' results, in one shape. In: what a load tool printed or
//! wrote (wrk's `--latency` text, oha's JSON, hey's CSV, Locust's CSV
//! files, k6's summary JSON or per-request CSV/JSON, vegeta's report or
//! results, JMeter's CSV results, Gatling's simulation.log, Artillery's
//! JSON report, autocannon's JSON, the harness's own run record). Out:
//! a [`ToolReport`]: requests, errors, statuses, the percentiles the tool
//! reports (and only those), every request when the tool writes one line
//! per request, per-name figures, its time series, when the run started and
//! how long it lasted when it says, and its load model.
//!
//! One module per tool. Malformed or truncated output is an error naming
//! the file and line ([`Error::ToolOutput`]), never a panic.

pub mod artillery;
pub mod autocannon;
pub mod gatling;
pub mod harness;
pub mod hey;
pub mod jmeter;
pub mod k6;
pub mod k6_samples;
pub mod locust;
pub mod oha;
pub mod vegeta;
pub mod wrk;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::error::Error;
pub use crate::tools::Tool;

/// Whether the tool measures latency from when each request was meant to
/// be sent (open model: a stalled target shows as latency) or from when it
/// was sent (closed model: a stalled target shows as fewer requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LoadModel {
    Open,
    Closed,
}

/// One percentile as the tool printed it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reported {
    /// The quantile, 0 to 1 (1: the maximum).
    pub q: f64,
    pub ms: f64,
}

/// A tool's results in the shape every scorer and importer reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolReport {
    pub tool: Tool,
    /// Requests the tool counted, answered or not, when it says.
    pub requests: Option<u64>,
    /// Requests that failed by the tool's own count (unexpected statuses
    /// and transport failures), when it says.
    pub errors: Option<u64>,
    /// Failures by kind, as the tool names them (`status_503`, `read`,
    /// `timeout`, ...).
    pub error_kinds: BTreeMap<String, u64>,
    /// Responses by status code, when the tool reports them.
    pub statuses: Option<BTreeMap<u16, u64>>,
    /// The percentiles the tool printed, lowest first.
    pub percentiles: Vec<Reported>,
    /// Every response's latency in ms, sorted, when the tool writes one
    /// line per request: percentiles are then computed exactly.
    pub latencies_ms: Option<Vec<f64>>,
    pub model: LoadModel,
    /// What a reader of the numbers should know (resolution, rounding, ...).
    pub notes: Vec<String>,
    /// When the run began, when the output says (else `None`).
    pub started_at: Option<DateTime<Utc>>,
    /// How long the run lasted, when the output says.
    pub duration_s: Option<f64>,
    /// The mean latency, when the tool prints it and has no per-request lines.
    pub mean_ms: Option<f64>,
    /// Figures per request name, when the tool breaks them down.
    pub names: Vec<NamedReport>,
    /// Every request, when the tool writes one line per request: name,
    /// start (seconds from the first), latency and outcome.
    pub samples: Vec<Sample>,
    /// The tool's own time series, one row per interval (Locust's history).
    pub intervals: Vec<Interval>,
}

/// One request name's figures, as the tool printed them.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedReport {
    pub name: String,
    pub requests: Option<u64>,
    pub errors: Option<u64>,
    pub percentiles: Vec<Reported>,
    pub mean_ms: Option<f64>,
}

/// One request of a per-request output.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The request's name (JMeter's label, Gatling's request name), if any.
    pub name: Option<String>,
    /// Seconds from the run's first request to this one's start, if known.
    pub offset_s: Option<f64>,
    pub latency_ms: f64,
    /// Whether the tool counted it a success.
    pub ok: bool,
}

/// One interval of a tool's own time series.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Seconds from the run's start to the interval's end.
    pub t_s: f64,
    pub users: u64,
    /// Requests and errors completed in the interval.
    pub requests: u64,
    pub errors: u64,
    /// The interval's percentiles, as the tool printed them.
    pub percentiles: Vec<Reported>,
}

impl ToolReport {
    /// A report with nothing in it yet.
    pub fn new(tool: Tool, model: LoadModel) -> Self {
        ToolReport {
            tool,
            requests: None,
            errors: None,
            error_kinds: BTreeMap::new(),
            statuses: None,
            percentiles: Vec::new(),
            latencies_ms: None,
            model,
            notes: Vec::new(),
            started_at: None,
            duration_s: None,
            mean_ms: None,
            names: Vec::new(),
            samples: Vec::new(),
            intervals: Vec::new(),
        }
    }

    /// Sets the per-request data: every sample, their latencies sorted
    /// (the exact percentiles), the request count, and the run's length
    /// (from the first start to the last answer) when the samples have
    /// start times.
    pub fn set_samples(&mut self, samples: Vec<Sample>) {
        let mut all: Vec<f64> = samples.iter().map(|s| s.latency_ms).collect();
        all.sort_by(f64::total_cmp);
        self.latencies_ms = Some(all);
        self.requests = Some(samples.len() as u64);
        self.duration_s = samples
            .iter()
            .filter_map(|s| Some(s.offset_s? + s.latency_ms / 1000.0))
            .reduce(f64::max);
        self.samples = samples;
    }

    /// Sets the failures by kind, and the error count as their sum.
    pub fn set_error_kinds(&mut self, kinds: BTreeMap<String, u64>) {
        self.errors = Some(kinds.values().sum());
        self.error_kinds = kinds;
    }

    /// The tool's value at quantile `q` (1: the maximum), in ms: from its
    /// per-request latencies when it has them, else as it printed it;
    /// `None` when it reports no such figure.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if let Some(all) = self.latencies_ms.as_ref().filter(|v| !v.is_empty()) {
            // Nearest rank, as HdrHistogram reads a quantile: the smallest
            // value with at least q of the values at or below it.
            let rank = (q.clamp(0.0, 1.0) * all.len() as f64).ceil() as usize;
            return Some(all[rank.clamp(1, all.len()) - 1]);
        }
        reported_at(&self.percentiles, q)
    }
}

/// Where in a tool's output a reader is, for errors that name the spot.
#[derive(Debug, Clone)]
pub struct At<'a> {
    pub file: &'a str,
    pub line: usize,
}

impl At<'_> {
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::ToolOutput {
            file: self.file.to_owned(),
            line: self.line,
            message: message.into(),
        }
    }
}

/// `1.5ms`, `300.27us`, `1.01s`, `2m` (wrk's and Locust-free units) in ms.
pub fn duration_ms(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = text.split_at(split);
    let v: f64 = num.parse().ok()?;
    let scale = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    (v.is_finite() && v >= 0.0).then_some(v * scale)
}

/// Each CSV record of `reader` with the line it starts on; a malformed one
/// is an error naming `file` and its line.
pub fn csv_records<'r, R: std::io::Read + 'r>(
    file: &'r str,
    reader: &'r mut csv::Reader<R>,
) -> impl Iterator<Item = Result<(At<'r>, csv::StringRecord), Error>> + 'r {
    reader.records().map(move |record| {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            At { file, line }.error(format!("malformed CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        Ok((At { file, line }, record))
    })
}

/// A whole JSON document, or an error naming `file` and the line at fault.
pub fn json_document(file: &str, text: &str) -> Result<serde_json::Value, Error> {
    serde_json::from_str(text).map_err(|e| {
        At {
            file,
            line: e.line(),
        }
        .error(format!("not JSON: {e}"))
    })
}

/// The reported value at quantile `q` in `list`, if the tool printed it.
pub fn reported_at(list: &[Reported], q: f64) -> Option<f64> {
    list.iter().find(|p| (p.q - q).abs() < 1e-9).map(|p| p.ms)
}

/// An HTTP status code (100 to 599) written as text, or `None`.
pub fn http_status(text: &str) -> Option<u16> {
    text.parse().ok().filter(|s| (100..=599).contains(s))
}

/// A finite, non-negative number, or `None`.
pub fn non_negative(v: f64) -> Option<f64> {
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Records a tool's latency (ms) in a histogram of the records' shape
/// (whole µs, at least 1).
pub fn record_ms(h: &mut Histogram<u64>, ms: f64) {
    h.saturating_record((ms * 1000.0).round().max(1.0) as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit_tools_print() {
        assert_eq!(duration_ms("300.27us"), Some(0.30027));
        assert_eq!(duration_ms("1.5ms"), Some(1.5));
        assert_eq!(duration_ms("1.01s"), Some(1010.0));
        assert_eq!(duration_ms("2m"), Some(120_000.0));
        assert_eq!(duration_ms("12"), None);
        assert_eq!(duration_ms("1.0parsecs"), None);
        assert_eq!(duration_ms("-1ms"), None);
    }
}
