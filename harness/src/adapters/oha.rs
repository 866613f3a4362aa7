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
    total: Option<f64>,
    average: Option<f64>,
}

/// How oha names a request it cancelled at the end of a `-z` run.
const DEADLINE: &str = "aborted due to deadline";

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
        let status = super::http_status(code).ok_or_else(|| {
            At { file, line: 0 }.error(format!("status {code:?} is not an HTTP status"))
        })?;
        statuses.insert(status, *n);
        if !(200..300).contains(&status) {
            report.error_kinds.insert(format!("status_{status}"), *n);
        }
    }
    // Requests oha itself cancelled when its time was up are neither
    // answered nor failed: oha leaves them out of its success rate, and so
    // does this report (a note says how many).
    let mut transport = 0;
    for (message, n) in &raw.error_distribution {
        if message == DEADLINE {
            report.notes.push(format!(
                "{n} requests in flight when oha's time was up were cancelled and are not counted"
            ));
            continue;
        }
        report.error_kinds.insert(message.clone(), *n);
        transport += n;
    }
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
    report.duration_s = raw.summary.total.and_then(super::non_negative);
    report.mean_ms = raw
        .summary
        .average
        .and_then(super::non_negative)
        .map(|s| s * 1000.0);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_run_with_faults() {
        let text = include_str!("../../tests/fixtures/oha-faults.json");
        let r = parse("o.json", text, LoadModel::Closed).unwrap();
        assert_eq!(r.requests, Some(4096 + 242 + 41));
        assert_eq!(r.errors, Some(242 + 41));
        assert_eq!(r.error_kinds["status_503"], 242);
        assert_eq!(
            r.error_kinds["connection closed before message completed"],
            41
        );
        assert!(!r.error_kinds.contains_key(DEADLINE));
        assert!(r
            .notes
            .iter()
            .any(|n| n.starts_with("8 requests in flight")));
        assert_eq!(r.quantile(0.5), Some(0.002367816 * 1000.0));
        assert_eq!(r.quantile(0.99), Some(0.01897876 * 1000.0));
        assert_eq!(r.quantile(1.0), Some(0.076683007 * 1000.0));
        assert_eq!(r.statuses.as_ref().unwrap()[&503], 242);
    }

    #[test]
    fn an_open_run_and_malformed_reports() {
        let text = include_str!("../../tests/fixtures/oha-open.json");
        let r = parse("o.json", text, LoadModel::Open).unwrap();
        assert_eq!((r.requests, r.errors), (Some(400), Some(20)));
        assert_eq!(r.model, LoadModel::Open);
        let e = parse("o.json", "{\n  \"summary\": ", LoadModel::Closed)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("o.json:2:"), "{e}");
        let e = parse("o.json", "[1, 2]", LoadModel::Closed)
            .unwrap_err()
            .to_string();
        assert!(e.contains("o.json") && e.contains("oha"), "{e}");
        let bad = text.replace("\"503\"", "\"5x3\"");
        assert!(parse("o.json", &bad, LoadModel::Closed).is_err());
    }
}
