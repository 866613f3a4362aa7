//! vegeta's output. In: its report (`vegeta report -type=json`), or its
//! results per request, encoded as JSON lines (`vegeta encode --to json`)
//! or CSV (`vegeta encode --to csv`). Out: from the report, requests,
//! status codes, errors (codes outside 200-399; code 0 is a request that got
//! no response) and its percentiles; from results, every request, so
//! percentiles are exact.
//!
//! Every time in vegeta's output is in nanoseconds (the report's
//! `latencies`, a result's `latency`; a CSV result's timestamp is Unix
//! nanoseconds, a JSON result's RFC 3339). The report's percentiles are
//! estimates (a streaming quantile estimator in older versions, a t-digest
//! in newer ones); `90th` and `min` exist only in newer versions. vegeta's
//! own result files are binary (gob) by default: encode them first. vegeta
//! sends at the rate asked, starting more workers when answers are slow, so
//! its latencies run from each request's scheduled start: an open model
//! (unless `-max-workers` caps it and it falls behind).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{At, LoadModel, Reported, Sample, Tool, ToolReport};
use crate::error::Error;

/// Nanoseconds in a millisecond.
const NS_PER_MS: f64 = 1e6;

/// Reads a report or results; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<ToolReport, Error> {
    let first = text.trim_start();
    if first.starts_with('{') {
        let first_line = first.lines().next().unwrap_or("");
        let one: Result<Value, _> = serde_json::from_str(first_line);
        match one {
            Ok(v) if v.get("latency").is_some() => results_json(file, text),
            _ => report(file, text),
        }
    } else if first.starts_with(|c: char| c.is_ascii_digit()) {
        results_csv(file, text)
    } else {
        Err(At { file, line: 1 }.error(
            "neither vegeta's JSON report nor encoded results (binary results: run `vegeta encode --to json` first)",
        ))
    }
}

fn report(file: &str, text: &str) -> Result<ToolReport, Error> {
    let whole = At { file, line: 0 };
    let root = super::json_document(file, text)?;
    let lat = root
        .get("latencies")
        .and_then(Value::as_object)
        .ok_or_else(|| whole.error("no \"latencies\": not vegeta's report -type=json"))?;
    let ns = |key: &str| -> Result<Option<f64>, Error> {
        match lat.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .and_then(super::non_negative)
                .map(|n| Some(n / NS_PER_MS))
                .ok_or_else(|| whole.error(format!("latencies.{key}: {v} is not nanoseconds"))),
        }
    };
    let mut r = ToolReport::new(Tool::Vegeta, LoadModel::Open);
    for (key, q) in [
        ("50th", 0.5),
        ("90th", 0.9),
        ("95th", 0.95),
        ("99th", 0.99),
        ("max", 1.0),
    ] {
        if let Some(ms) = ns(key)? {
            r.percentiles.push(Reported { q, ms });
        }
    }
    r.mean_ms = ns("mean")?;
    let requests = root
        .get("requests")
        .and_then(Value::as_u64)
        .ok_or_else(|| whole.error("no \"requests\" count"))?;
    r.requests = Some(requests);
    if let Some(codes) = root.get("status_codes").and_then(Value::as_object) {
        let mut statuses = BTreeMap::new();
        for (code, n) in codes {
            let n = n
                .as_u64()
                .ok_or_else(|| whole.error(format!("status_codes.{code}: {n} is not a count")))?;
            let code: u16 = code
                .parse()
                .map_err(|_| whole.error(format!("status_codes: {code:?} is not a status")))?;
            statuses.insert(code, n);
        }
        set_statuses(&mut r, statuses);
    }
    r.started_at = root
        .get("earliest")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let duration = root.get("duration").and_then(Value::as_f64).unwrap_or(0.0);
    let wait = root.get("wait").and_then(Value::as_f64).unwrap_or(0.0);
    r.duration_s = super::non_negative((duration + wait) / 1e9).filter(|s| *s > 0.0);
    r.notes.push(
        "vegeta's report estimates its percentiles (a streaming estimator or t-digest); its max is exact".into(),
    );
    Ok(r)
}

/// Statuses, and errors as the codes vegeta does not count a success.
fn set_statuses(r: &mut ToolReport, statuses: BTreeMap<u16, u64>) {
    let kinds: BTreeMap<String, u64> = statuses
        .iter()
        .filter(|(c, _)| !(200..400).contains(*c))
        .map(|(c, n)| match c {
            0 => ("no_response".to_owned(), *n),
            c => (format!("status_{c}"), *n),
        })
        .collect();
    r.set_error_kinds(kinds);
    r.statuses = Some(statuses.into_iter().filter(|(c, _)| *c != 0).collect());
}

/// One result: its start, code and latency (ms).
struct One {
    start_ns: i128,
    code: u16,
    latency_ms: f64,
}

fn results_json(file: &str, text: &str) -> Result<ToolReport, Error> {
    let mut all = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = At { file, line: i + 1 };
        let v: Value =
            serde_json::from_str(line).map_err(|e| at.error(format!("not a JSON result: {e}")))?;
        let code = v
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .ok_or_else(|| at.error("no numeric \"code\""))?;
        let latency = v
            .get("latency")
            .and_then(Value::as_f64)
            .and_then(super::non_negative)
            .ok_or_else(|| at.error("no \"latency\" in nanoseconds"))?;
        let start = v
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| at.error("no RFC 3339 \"timestamp\""))?;
        all.push(One {
            start_ns: i128::from(start.timestamp_nanos_opt().unwrap_or(0)),
            code,
            latency_ms: latency / NS_PER_MS,
        });
    }
    Ok(from_results(all))
}

fn results_csv(file: &str, text: &str) -> Result<ToolReport, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut all = Vec::new();
    for row in super::csv_records(file, &mut reader) {
        let (at, record) = row?;
        if record.len() < 3 {
            return Err(at.error(format!(
                "expected at least timestamp,code,latency; got {} columns",
                record.len()
            )));
        }
        let start_ns: i128 = record[0].trim().parse().map_err(|_| {
            at.error(format!(
                "timestamp {:?} is not Unix nanoseconds",
                &record[0]
            ))
        })?;
        let code: u16 = record[1]
            .trim()
            .parse()
            .map_err(|_| at.error(format!("code {:?} is not a status", &record[1])))?;
        let latency: f64 = record[2]
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(super::non_negative)
            .ok_or_else(|| at.error(format!("latency {:?} is not nanoseconds", &record[2])))?;
        all.push(One {
            start_ns,
            code,
            latency_ms: latency / NS_PER_MS,
        });
    }
    Ok(from_results(all))
}

fn from_results(all: Vec<One>) -> ToolReport {
    let mut r = ToolReport::new(Tool::Vegeta, LoadModel::Open);
    let first = all.iter().map(|o| o.start_ns).min().unwrap_or(0);
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for o in &all {
        *statuses.entry(o.code).or_default() += 1;
    }
    set_statuses(&mut r, statuses);
    if !all.is_empty() {
        r.started_at = DateTime::from_timestamp(
            (first / 1_000_000_000) as i64,
            (first % 1_000_000_000) as u32,
        );
    }
    r.set_samples(
        all.iter()
            .map(|o| Sample {
                name: None,
                offset_s: Some((o.start_ns - first) as f64 / 1e9),
                latency_ms: o.latency_ms,
                ok: (200..400).contains(&o.code),
            })
            .collect(),
    );
    r.notes
        .push("vegeta's results: every request, percentiles exact (nanosecond latencies)".into());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = include_str!("../../tests/fixtures/vegeta-report.json");
    const OLD_REPORT: &str = include_str!("../../tests/fixtures/vegeta-report-v12.json");
    const RESULTS_JSON: &str = include_str!("../../tests/fixtures/vegeta-results.jsonl");
    const RESULTS_CSV: &str = include_str!("../../tests/fixtures/vegeta-results.csv");

    #[test]
    fn a_report_in_nanoseconds_with_its_codes() {
        let r = parse("v.json", REPORT).unwrap();
        assert_eq!(r.requests, Some(3000));
        assert_eq!(r.errors, Some(12), "4 no-response and 8 status 503");
        assert_eq!(r.error_kinds["no_response"], 4);
        assert_eq!(r.quantile(0.5), Some(1.562_311));
        assert_eq!(r.quantile(0.9), Some(2.873_002));
        assert_eq!(r.quantile(1.0), Some(41.006_127));
        assert!((r.duration_s.unwrap() - 29.998_111).abs() < 1e-6);
        assert_eq!(
            r.started_at.unwrap().to_rfc3339(),
            "2026-11-20T10:00:00.000312+00:00"
        );
        assert_eq!(r.model, LoadModel::Open);
    }

    #[test]
    fn an_older_report_without_90th_or_min() {
        let r = parse("v.json", OLD_REPORT).unwrap();
        assert_eq!(r.quantile(0.9), None);
        assert_eq!(r.quantile(0.99), Some(6.25));
        assert_eq!(r.errors, Some(0));
    }

    #[test]
    fn results_as_json_lines_or_csv_give_the_same_exact_figures() {
        let j = parse("r.jsonl", RESULTS_JSON).unwrap();
        let c = parse("r.csv", RESULTS_CSV).unwrap();
        assert_eq!(j.requests, Some(6));
        assert_eq!(j.errors, Some(1));
        assert_eq!(j.latencies_ms, c.latencies_ms);
        assert_eq!(j.quantile(0.5), Some(1.5));
        assert_eq!(j.quantile(1.0), Some(30.0));
        assert_eq!(j.samples[5].offset_s, Some(0.05));
        assert_eq!(c.samples[5].offset_s, Some(0.05));
    }

    #[test]
    fn malformed_output_names_the_file_and_line() {
        let e = parse("v.bin", "\u{1}\u{2}gob").unwrap_err().to_string();
        assert!(
            e.starts_with("v.bin:1:") && e.contains("vegeta encode"),
            "{e}"
        );
        let bad = RESULTS_JSON.replacen("\"latency\":1500000", "\"latency\":\"slow\"", 1);
        let e = parse("r.jsonl", &bad).unwrap_err().to_string();
        assert!(e.starts_with("r.jsonl:2:") && e.contains("latency"), "{e}");
        let bad = RESULTS_CSV.replacen(",200,", ",2x0,", 1);
        let e = parse("r.csv", &bad).unwrap_err().to_string();
        assert!(e.starts_with("r.csv:1:") && e.contains("2x0"), "{e}");
        let e = parse("v.json", "{\"requests\": 3}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("latencies"), "{e}");
    }
}
