//! oha's JSON report (`--output-format json`, or `-j`). In: the JSON oha
//! prints. Out: requests (responses by status plus errors), errors
//! (non-2xx responses and oha's error distribution), p50/p90/p95/p99 from
//! `latencyPercentiles` and the maximum (`summary.slowest`), all seconds
//! in the file.
//!
//! oha's model depends on how it was run: with `-c N` alone each of N
//! workers waits for its answer (closed); with `-q RATE
//! --latency-correction` latency is measured from each request's planned
//! send time (open). The JSON does not say, so the caller tells.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{At, LoadModel, Reported, Tool, ToolReport};
use crate::error::Error;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    summary: Summary,
    latency_percentiles: BTreeMap<String, Option<f64>>,
    #[serde(default)]
    status_code_distribution: BTreeMap<String, u64>,
    #[serde(default)]
    error_distribution: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
struct Summary {
    slowest: Option<f64>,
}

/// The percentile keys oha writes, as quantiles.
const KEYS: [(&str, f64); 9] = [
    ("p10", 0.1),
    ("p25", 0.25),
    ("p50", 0.5),
    ("p75", 0.75),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p99.9", 0.999),
    ("p99.99", 0.9999),
];

/// Reads oha's JSON; `file` names it in errors; `model` is how oha was run.
pub fn parse(file: &str, text: &str, model: LoadModel) -> Result<ToolReport, Error> {
    let raw: Report = serde_json::from_str(text).map_err(|e| {
        At {
            file,
            line: e.line(),
        }
        .error(format!("not oha's JSON report: {e}"))
    })?;
    let mut report = ToolReport::new(Tool::Oha, model);
    let mut statuses = BTreeMap::new();
    for (code, n) in &raw.status_code_distribution {
        let status: u16 = code
            .parse()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| {
                At { file, line: 0 }.error(format!("status {code:?} is not an HTTP status"))
            })?;
        statuses.insert(status, *n);
        if !(200..300).contains(&status) {
            report.error_kinds.insert(format!("status_{status}"), *n);
        }
    }
    for (message, n) in &raw.error_distribution {
        report.error_kinds.insert(message.clone(), *n);
    }
    let transport: u64 = raw.error_distribution.values().sum();
    report.requests = Some(statuses.values().sum::<u64>() + transport);
    report.errors = Some(report.error_kinds.values().sum());
    report.statuses = Some(statuses);
    for (key, q) in KEYS {
        if let Some(Some(seconds)) = raw.latency_percentiles.get(key) {
            report.percentiles.push(Reported {
                q,
                ms: seconds * 1000.0,
            });
        }
    }
    if let Some(slowest) = raw.summary.slowest {
        report.percentiles.push(Reported {
            q: 1.0,
            ms: slowest * 1000.0,
        });
    }
    report.notes.push(match model {
        LoadModel::Open => "oha with -q and --latency-correction measured from each request's planned send time (open model)".into(),
        LoadModel::Closed => "oha measured from when each request was sent (closed model)".into(),
    });
    Ok(report)
}
