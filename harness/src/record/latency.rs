//! Where a record's figures came from, and latency figures that may be
//! absent. In: rows of a record. Out: the [`SourceRecord`] a record
//! carries (the harness itself, or another tool's results brought in by
//! `harness import`), and [`Latency`]: percentiles read from histograms
//! when the rows have them, else as the source reported them: a figure the
//! source did not report is absent, never zero.

use serde::{Deserialize, Serialize};

use crate::histogram::{merged, Percentiles};
use crate::record::TaskRecord;
use crate::tools::Tool;

/// How a record knows its latencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyBasis {
    /// Every response's latency, in HdrHistograms: exact percentiles,
    /// merged exactly across rows and records.
    Histograms,
    /// Only the percentiles the source printed: no histograms, no merge
    /// across rows, and only the figures it reported.
    ReportedPercentiles,
}

/// What measured a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub tool: Tool,
    /// Whether `harness import` made the record from the tool's files.
    pub imported: bool,
    /// The files it was made from (imported records).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    pub latency: LatencyBasis,
    /// What a reader should know about the figures (the tool's rounding,
    /// what it leaves out, which figures it does not report).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Default for SourceRecord {
    /// The harness's own measurement (every v1 record).
    fn default() -> Self {
        SourceRecord {
            tool: Tool::Harness,
            imported: false,
            files: Vec::new(),
            latency: LatencyBasis::Histograms,
            notes: Vec::new(),
        }
    }
}

/// A row's latency figures, in ms; each absent when the source did not
/// report it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_ms: Option<f64>,
}

impl From<Percentiles> for Latency {
    fn from(p: Percentiles) -> Self {
        Latency {
            p50_ms: Some(p.p50_ms),
            p95_ms: Some(p.p95_ms),
            p99_ms: Some(p.p99_ms),
            max_ms: Some(p.max_ms),
            mean_ms: Some(p.mean_ms),
        }
    }
}

impl Latency {
    /// The figures of `requests` requests, `errors` of them failed, from
    /// their histogram; none when no request succeeded: a row whose
    /// requests all failed has no latency to show (`-`), never 0 ms nor the
    /// time its failures took (a fast 404 would make any latency SLO hold).
    pub fn of(h: &hdrhistogram::Histogram<u64>, requests: u64, errors: u64) -> Self {
        match h.is_empty() || errors >= requests {
            true => Latency::default(),
            false => Percentiles::of(h).into(),
        }
    }

    /// The figure for a metric (p50, p95, p99, max).
    pub fn get(&self, metric: crate::scenario::Metric) -> Option<f64> {
        use crate::scenario::Metric;
        match metric {
            Metric::P50 => self.p50_ms,
            Metric::P95 => self.p95_ms,
            Metric::P99 => self.p99_ms,
            Metric::Max => self.max_ms,
            _ => None,
        }
    }
}

/// The latency of rows together: their histograms merged when every row
/// has one; the one row's reported figures when it has none; nothing when
/// several rows have only reported figures (percentiles do not add up),
/// there are no rows, or none of their requests succeeded.
pub fn latency_of(rows: &[&TaskRecord]) -> Latency {
    let requests: u64 = rows.iter().map(|r| r.requests).sum();
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    if rows.is_empty() || errors >= requests {
        return Latency::default();
    }
    if rows.iter().all(|r| r.histogram.is_some()) {
        let h = merged(
            rows.iter()
                .filter_map(|r| r.histogram.as_ref())
                .map(|h| &h.0),
        );
        return Latency::of(&h, requests, errors);
    }
    match rows {
        [one] => one.latency,
        _ => Latency::default(),
    }
}
