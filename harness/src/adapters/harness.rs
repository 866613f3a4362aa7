//! The harness's own run record, read as any other tool's output. In: a
//! record (`schema_version` 1). Out: the whole run's requests and errors
//! (every stage), its error classes, and p50/p90/p95/p99/max read from its
//! merged HdrHistograms (3 significant digits: within 0.1%).
//!
//! The model is open when any stage has an arrival rate: latency is then
//! measured from each request's intended start (no coordinated omission).

use super::{LoadModel, Reported, Tool, ToolReport};
use crate::error::Error;
use crate::histogram::{merged, ms};
use crate::record::{Model, RunRecord, TaskName};

/// The quantiles read from the record's histograms.
pub const QUANTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// Reads a run record from `path`.
pub fn read(path: &std::path::Path) -> Result<ToolReport, Error> {
    Ok(from_record(&RunRecord::read(path)?))
}

/// A record as a tool report.
pub fn from_record(r: &RunRecord) -> ToolReport {
    let open = r.stages.iter().any(|s| s.model == Model::Open);
    let model = if open {
        LoadModel::Open
    } else {
        LoadModel::Closed
    };
    let mut report = ToolReport::new(Tool::Harness, model);
    let rows: Vec<_> = r.tasks.iter().filter(|t| t.name == TaskName::All).collect();
    report.requests = Some(rows.iter().map(|t| t.requests).sum());
    report.errors = Some(rows.iter().map(|t| t.errors).sum());
    report.error_kinds = r
        .errors
        .iter()
        .map(|(class, n)| (class.to_string(), *n))
        .collect();
    let h = merged(
        rows.iter()
            .filter_map(|t| t.histogram.as_ref())
            .map(|h| &h.0),
    );
    if rows.iter().any(|t| t.histogram.is_none()) {
        // An imported record: the figures its source reported, if one row.
        if let [one] = rows.as_slice() {
            let l = one.latency;
            report.percentiles = [
                (0.5, l.p50_ms),
                (0.95, l.p95_ms),
                (0.99, l.p99_ms),
                (1.0, l.max_ms),
            ]
            .into_iter()
            .filter_map(|(q, ms)| Some(Reported { q, ms: ms? }))
            .collect();
        }
    } else if !h.is_empty() {
        report.percentiles = QUANTILES
            .iter()
            .map(|&q| Reported {
                q,
                ms: ms(h.value_at_quantile(q)),
            })
            .chain([Reported {
                q: 1.0,
                ms: ms(h.max()),
            }])
            .collect();
    }
    report.notes.push(match model {
        LoadModel::Open => {
            "the harness measured from each request's intended start (open model)".into()
        }
        LoadModel::Closed => {
            "the harness measured from when each request was sent (closed model)".into()
        }
    });
    report
}
