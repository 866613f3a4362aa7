//! Other tools' results, in one shape. In: what a load tool printed or
//! wrote (wrk's `--latency` text, oha's JSON, hey's CSV, Locust's CSV
//! files, the harness's own run record). Out: a [`ToolReport`]: requests,
//! errors, statuses, the percentiles the tool reports (and only those),
//! per-request latencies when the tool gives them, and its load model.
//!
//! One module per tool. Malformed or truncated output is an error naming
//! the file and line ([`Error::ToolOutput`]), never a panic.

pub mod harness;
pub mod hey;
pub mod locust;
pub mod oha;
pub mod wrk;

use std::collections::BTreeMap;
use std::fmt;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The tools an adapter reads.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    Harness,
    Wrk,
    Oha,
    Hey,
    Locust,
}

impl Tool {
    pub const ALL: [Tool; 5] = [Tool::Harness, Tool::Wrk, Tool::Oha, Tool::Hey, Tool::Locust];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Harness => "harness",
            Tool::Wrk => "wrk",
            Tool::Oha => "oha",
            Tool::Hey => "hey",
            Tool::Locust => "locust",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the tool measures latency from when each request was meant to
/// be sent (open model: a stalled target shows as latency) or from when it
/// was sent (closed model: a stalled target shows as fewer requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
        }
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
        self.percentiles
            .iter()
            .find(|p| (p.q - q).abs() < 1e-9)
            .map(|p| p.ms)
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

/// Latencies (ms) in a histogram of the records' shape (µs).
pub fn histogram_of(latencies_ms: &[f64]) -> Histogram<u64> {
    let mut h = crate::histogram::new_histogram();
    for ms in latencies_ms {
        h.saturating_record((ms * 1000.0).round().max(1.0) as u64);
    }
    h
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
