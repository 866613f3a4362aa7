//! autocannon's JSON result (`autocannon --json`, on stdout). In: the one
//! JSON object it prints. Out: requests (answers by status plus its
//! connection errors), errors (non-2xx answers by status, connection
//! errors, timeouts), its latency percentiles (`p0_001` .. `p99_999`, `max`,
//! `mean`), statuses, when it started and how long it ran.
//!
//! What autocannon's source says (lib/run.js, lib/httpClient.js, 9.0.0):
//! - latencies go into an HdrHistogram of whole milliseconds
//!   (`lowestDiscernibleValue: 1`): a figure is the answer's time cut to the
//!   millisecond below, so a tool figure reads up to 1 ms under the truth;
//! - each connection sends its next request when the last answer came
//!   (closed model), also with `--overallRate`/`--connectionRate`, which cap
//!   how many a connection sends per second and then record each latency
//!   "with expected interval" `ceil(1 / rate)` ms: 1 ms whatever the rate,
//!   so every answer slower than 1 ms adds one made-up sample per
//!   millisecond it took;
//! - a connection the server closes is opened again without counting the
//!   request it carried (`conn.on('end')` reconnects), so a reset before
//!   any byte is in none of its counts; `requests.sent` counts requests
//!   still in flight at the end.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{At, LoadModel, Reported, Tool, ToolReport};
use crate::error::Error;

/// autocannon's percentile keys, as quantiles.
const KEYS: [(&str, f64); 14] = [
    ("p0_001", 0.00001),
    ("p0_01", 0.0001),
    ("p0_1", 0.001),
    ("p1", 0.01),
    ("p2_5", 0.025),
    ("p10", 0.1),
    ("p25", 0.25),
    ("p50", 0.5),
    ("p75", 0.75),
    ("p90", 0.9),
    ("p97_5", 0.975),
    ("p99", 0.99),
    ("p99_9", 0.999),
    ("p99_99", 0.9999),
];

/// Reads autocannon's JSON; `file` names it in errors. `rated`: whether it
/// ran with `--overallRate` or `--connectionRate` (its latencies then hold
/// made-up samples, said in a note), when the caller knows (its JSON does
/// not say).
pub fn parse(file: &str, text: &str, rated: Option<bool>) -> Result<ToolReport, Error> {
    let whole = At { file, line: 1 };
    let root = super::json_document(file, text)?;
    let latency = root
        .get("latency")
        .and_then(Value::as_object)
        .ok_or_else(|| whole.error("no \"latency\" object: not autocannon's --json result"))?;
    let count = |key: &str| -> Result<u64, Error> {
        let v = root.get(key).ok_or_else(|| {
            whole.error(format!("no {key:?} count: not autocannon's --json result"))
        })?;
        v.as_u64()
            .ok_or_else(|| whole.error(format!("{key}: {v} is not a count")))
    };
    let (transport, timeouts, mismatches) =
        (count("errors")?, count("timeouts")?, count("mismatches")?);
    let mut report = ToolReport::new(Tool::Autocannon, LoadModel::Closed);
    let mut statuses = BTreeMap::new();
    let mut kinds = BTreeMap::new();
    if let Some(stats) = root.get("statusCodeStats").and_then(Value::as_object) {
        for (code, v) in stats {
            let status = super::http_status(code).ok_or_else(|| {
                whole.error(format!("statusCodeStats: {code:?} is not an HTTP status"))
            })?;
            let n = v
                .get("count")
                .and_then(Value::as_u64)
                .ok_or_else(|| whole.error(format!("statusCodeStats.{code}: no count")))?;
            statuses.insert(status, n);
            if !(200..300).contains(&status) {
                kinds.insert(format!("status_{status}"), n);
            }
        }
    }
    // Timeouts are counted in `errors` too.
    if transport > timeouts {
        kinds.insert("connection".into(), transport - timeouts);
    }
    if timeouts > 0 {
        kinds.insert("timeout".into(), timeouts);
    }
    if mismatches > 0 {
        kinds.insert("mismatch".into(), mismatches);
    }
    let answered: u64 = statuses.values().sum();
    report.requests = Some(answered + transport);
    report.statuses = Some(statuses);
    report.set_error_kinds(kinds);
    for (key, q) in KEYS.iter().copied().chain([("max", 1.0)]) {
        if let Some(v) = latency.get(key) {
            let ms = v.as_f64().and_then(super::non_negative).ok_or_else(|| {
                whole.error(format!("latency.{key}: {v} is not a duration in ms"))
            })?;
            report.percentiles.push(Reported { q, ms });
        }
    }
    if report.percentiles.is_empty() {
        return Err(whole.error("latency has no percentile (p50, p99, max, ...)"));
    }
    report.mean_ms = latency
        .get("mean")
        .and_then(Value::as_f64)
        .and_then(super::non_negative);
    report.started_at = root
        .get("start")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc));
    report.duration_s = root
        .get("duration")
        .and_then(Value::as_f64)
        .and_then(super::non_negative);
    report.notes.push("autocannon keeps latencies in whole milliseconds (an HdrHistogram with lowestDiscernibleValue 1): each figure is cut to the millisecond below".into());
    report.notes.push("autocannon opens a connection again when the server closes one, without counting the request it carried: a reset before any byte is in none of its counts".into());
    if rated == Some(true) {
        report.notes.push("autocannon ran with a rate (--overallRate/--connectionRate): each connection still waits for its answer (closed model), sends its share in a burst at the start of each second, and records each latency with an expected interval of ceil(1/rate) = 1 ms, adding a made-up sample for every millisecond an answer took beyond it".into());
    } else if rated == Some(false) {
        report.notes.push("autocannon ran its connections flat out: each sends its next request when the last answer came (closed model)".into());
    } else {
        report.notes.push("autocannon's connections each wait for their answer (closed model); its JSON does not say whether it ran with --overallRate, whose latencies hold made-up samples (one per millisecond an answer took)".into());
    }
    if let Some(sent) = root.pointer("/requests/sent").and_then(Value::as_u64) {
        let counted = answered + transport;
        if sent > counted {
            report.notes.push(format!(
                "autocannon sent {sent} requests and counted {counted}: the other {} were in flight at the end or lost on a closed connection",
                sent - counted
            ));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAULTS: &str = include_str!("../../tests/fixtures/autocannon-faults.json");

    #[test]
    fn real_output_gives_counts_statuses_and_its_percentiles() {
        let r = parse("a.json", FAULTS, Some(false)).unwrap();
        assert_eq!(r.model, LoadModel::Closed);
        let statuses = r.statuses.clone().unwrap();
        assert_eq!(statuses[&200], 71_681);
        assert_eq!(statuses[&503], 3_862);
        assert_eq!(r.requests, Some(71_681 + 3_862));
        assert_eq!(r.errors, Some(3_862));
        assert_eq!(r.error_kinds["status_503"], 3_862);
        assert_eq!(r.quantile(0.5), Some(13.0));
        assert_eq!(r.quantile(0.99), Some(31.0));
        assert_eq!(r.quantile(0.999), Some(40.0));
        assert_eq!(r.quantile(1.0), Some(43.0));
        assert_eq!(r.quantile(0.95), None, "autocannon prints no p95");
        assert_eq!(r.mean_ms, Some(13.41));
        assert_eq!(r.duration_s, Some(3.01));
        assert!(r.started_at.is_some());
    }

    #[test]
    fn connection_errors_and_timeouts_are_errors_by_kind() {
        let text = FAULTS
            .replace("\"errors\":0", "\"errors\":12")
            .replace("\"timeouts\":0", "\"timeouts\":5");
        let r = parse("a.json", &text, Some(true)).unwrap();
        assert_eq!(r.error_kinds["connection"], 7);
        assert_eq!(r.error_kinds["timeout"], 5);
        assert_eq!(r.errors, Some(3_862 + 12));
        assert_eq!(r.requests, Some(71_681 + 3_862 + 12));
        assert!(r.notes.iter().any(|n| n.contains("expected interval")));
    }

    #[test]
    fn malformed_output_names_the_file_and_what_is_wrong() {
        let e = parse("a.json", "{\"latency\": [", None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("a.json:1"), "{e}");
        let e = parse("a.json", "{\"url\": \"x\"}", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a.json") && e.contains("latency"), "{e}");
        let bad = FAULTS.replace("\"p99\":31", "\"p99\":\"slow\"");
        let e = parse("a.json", &bad, None).unwrap_err().to_string();
        assert!(e.contains("latency.p99") && e.contains("slow"), "{e}");
        let bad = FAULTS.replace("\"503\":{", "\"5x3\":{");
        let e = parse("a.json", &bad, None).unwrap_err().to_string();
        assert!(e.contains("5x3"), "{e}");
        let bad = FAULTS.replace("\"errors\":0", "\"errors\":-1");
        let e = parse("a.json", &bad, None).unwrap_err().to_string();
        assert!(e.contains("errors"), "{e}");
    }
}
