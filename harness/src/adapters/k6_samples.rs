//! k6's per-request output. In: the file `k6 run --out csv=FILE` writes
//! (one row per metric sample: `metric_name,timestamp,metric_value,...`,
//! tags as columns) or `--out json=FILE` (one JSON object per line:
//! `{"type":"Point","metric":...,"data":{"time":..,"value":..,"tags":{..}}}`).
//! Out: every request (its `http_req_duration` sample: latency, start,
//! name, outcome), so percentiles are computed from every sample rather
//! than read from the summary's few; statuses; failures by kind; and
//! `dropped_iterations`, which only an arrival-rate executor emits (so
//! their presence says open).
//!
//! A request failed when its `expected_response` tag is `false` (k6's
//! `http_req_failed` is that tag), or, without the tag, when its status is
//! not 2xx/3xx; a failure with status 0 got no answer (its `error_code`
//! names why). k6 stamps a request's samples with the time it ended
//! (`Trail.EndTime` in lib/netext/httpext/tracer.go), so its start is that
//! time less its duration. The CSV's default timestamps are whole seconds
//! (`timeFormat=unix`); `unix_milli`, `unix_micro`, `unix_nano` and the
//! RFC 3339 forms are read too. Other metrics (`http_req_waiting`, ...)
//! are skipped.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::{At, LoadModel, Sample, Tool, ToolReport};
use crate::error::Error;

/// Whether `text` is k6's per-request output (CSV or JSON lines).
pub fn is_per_request(text: &str) -> bool {
    let first = text
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches('\u{feff}');
    first.starts_with("metric_name,")
        || (first.starts_with('{') && first.contains("\"type\"") && first.contains("\"metric\""))
}

/// One request as k6 wrote it.
struct Request {
    end: DateTime<Utc>,
    ms: f64,
    status: u16,
    expected: Option<bool>,
    error_code: Option<String>,
    name: Option<String>,
}

/// What the lines hold.
#[derive(Default)]
struct Seen {
    requests: Vec<Request>,
    dropped: u64,
    whole_seconds: bool,
}

/// Reads k6's CSV or JSON lines; `file` names it in errors; `told` is how
/// k6 ran, when known; dropped iterations say open, and otherwise closed
/// is a guess, noted as one.
pub fn parse(file: &str, text: &str, told: Option<LoadModel>) -> Result<ToolReport, Error> {
    let seen = if text.starts_with("metric_name,") || text.starts_with("\u{feff}metric_name,") {
        csv_lines(file, text)?
    } else {
        json_lines(file, text)?
    };
    if seen.requests.is_empty() {
        return Err(At { file, line: 0 }.error(
            "no http_req_duration sample: the test made no HTTP requests, or this is not k6's --out csv/json output",
        ));
    }
    let guessed = seen.dropped == 0 && told.is_none();
    let model = if seen.dropped > 0 {
        LoadModel::Open
    } else {
        told.unwrap_or(LoadModel::Closed)
    };
    let mut report = ToolReport::new(Tool::K6, model);
    let first = seen
        .requests
        .iter()
        .map(|r| r.end - micros(r.ms))
        .min()
        .expect("not empty");
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut samples = Vec::with_capacity(seen.requests.len());
    for r in &seen.requests {
        let ok = r.expected.unwrap_or((200..400).contains(&r.status));
        if r.status != 0 {
            *statuses.entry(r.status).or_default() += 1;
        }
        if !ok {
            let kind = match (r.status, &r.error_code) {
                (0, Some(code)) => format!("k6_error_{code}"),
                (0, None) => "no_response".to_owned(),
                (s, _) => format!("status_{s}"),
            };
            *kinds.entry(kind).or_default() += 1;
        }
        let start = r.end - micros(r.ms) - first;
        samples.push(Sample {
            name: r.name.clone(),
            offset_s: Some(start.num_microseconds().unwrap_or(0) as f64 / 1e6),
            latency_ms: r.ms,
            ok,
        });
    }
    report.set_samples(samples);
    report.set_error_kinds(kinds);
    report.statuses = Some(statuses);
    report.started_at = Some(first);
    report.notes.push(format!(
        "k6's per-request output: percentiles computed from its {} http_req_duration samples (failed requests included, as k6 counts them)",
        seen.requests.len()
    ));
    report.notes.push(super::k6::model_note(model, guessed));
    if seen.whole_seconds {
        report.notes.push("k6's CSV timestamps are whole seconds (its default timeFormat=unix): request start times are known to the second only; --out csv=fileName=F,timeFormat=unix_micro keeps them".into());
    }
    if seen.dropped > 0 {
        report.notes.push(super::k6::dropped_note(seen.dropped));
    }
    Ok(report)
}

fn micros(ms: f64) -> chrono::Duration {
    chrono::Duration::microseconds((ms * 1000.0).round() as i64)
}

/// A timestamp in any of k6's CSV time formats; `true` when whole seconds.
fn timestamp(at: &At, text: &str) -> Result<(DateTime<Utc>, bool), Error> {
    let bad = || at.error(format!("timestamp {text:?} is not a time k6 writes"));
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok((t.with_timezone(&Utc), false));
    }
    let n: i64 = text.parse().map_err(|_| bad())?;
    // Digits tell the unit: seconds have 10 now, milli 13, micro 16, nano 19.
    let (t, whole) = match text.trim_start_matches('-').len() {
        0..=11 => (Utc.timestamp_opt(n, 0).single(), true),
        12..=14 => (Utc.timestamp_millis_opt(n).single(), false),
        15..=17 => (Utc.timestamp_micros(n).single(), false),
        _ => (Some(Utc.timestamp_nanos(n)), false),
    };
    Ok((t.ok_or_else(bad)?, whole))
}

fn status_of(at: &At, text: &str) -> Result<u16, Error> {
    let none = (text == "0").then_some(0);
    none.or_else(|| super::http_status(text))
        .ok_or_else(|| at.error(format!("status {text:?} is not an HTTP status (or 0)")))
}

fn bool_of(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn csv_lines(file: &str, text: &str) -> Result<Seen, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = reader
        .headers()
        .map_err(|e| At { file, line: 1 }.error(format!("malformed CSV header: {e}")))?
        .clone();
    let col = |name: &str| header.iter().position(|h| h == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            At { file, line: 1 }.error(format!("no {name:?} column: not k6's --out csv"))
        })
    };
    let (metric, time, value) = (
        need("metric_name")?,
        need("timestamp")?,
        need("metric_value")?,
    );
    let (status, expected, code, name) = (
        col("status"),
        col("expected_response"),
        col("error_code"),
        col("name"),
    );
    let mut seen = Seen::default();
    for row in super::csv_records(file, &mut reader) {
        let (at, rec) = row?;
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).filter(|s| !s.is_empty());
        let number = || -> Result<f64, Error> {
            let v = &rec[value];
            v.parse::<f64>()
                .ok()
                .and_then(super::non_negative)
                .ok_or_else(|| at.error(format!("metric_value {v:?} is not a number")))
        };
        match &rec[metric] {
            "http_req_duration" => {
                let (end, whole) = timestamp(&at, &rec[time])?;
                seen.whole_seconds |= whole;
                seen.requests.push(Request {
                    end,
                    ms: number()?,
                    status: get(status).map_or(Ok(0), |s| status_of(&at, s))?,
                    expected: get(expected).and_then(bool_of),
                    error_code: get(code).map(str::to_owned),
                    name: get(name).map(str::to_owned),
                });
            }
            "dropped_iterations" => seen.dropped += number()? as u64,
            _ => {}
        }
    }
    Ok(seen)
}

fn json_lines(file: &str, text: &str) -> Result<Seen, Error> {
    let mut seen = Seen::default();
    for (i, line) in text.lines().enumerate() {
        let at = At { file, line: i + 1 };
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| at.error(format!("not JSON: {e}")))?;
        if v.get("type").and_then(Value::as_str) != Some("Point") {
            continue;
        }
        let metric = v.get("metric").and_then(Value::as_str).unwrap_or("");
        if metric != "http_req_duration" && metric != "dropped_iterations" {
            continue;
        }
        let data = v
            .get("data")
            .ok_or_else(|| at.error("a Point with no \"data\""))?;
        let value = data
            .get("value")
            .and_then(Value::as_f64)
            .and_then(super::non_negative)
            .ok_or_else(|| {
                at.error(format!(
                    "{metric}: value {:?} is not a number",
                    data.get("value")
                ))
            })?;
        if metric == "dropped_iterations" {
            seen.dropped += value as u64;
            continue;
        }
        let time = data
            .get("time")
            .and_then(Value::as_str)
            .ok_or_else(|| at.error("a Point with no \"time\""))?;
        let (end, _) = timestamp(&at, time)?;
        let tag = |k: &str| {
            data.pointer(&format!("/tags/{k}"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        seen.requests.push(Request {
            end,
            ms: value,
            status: tag("status").map_or(Ok(0), |s| status_of(&at, s))?,
            expected: tag("expected_response").and_then(bool_of),
            error_code: tag("error_code").map(str::to_owned),
            name: tag("name").map(str::to_owned),
        });
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = include_str!("../../tests/fixtures/k6-requests.csv");
    const JSONL: &str = include_str!("../../tests/fixtures/k6-requests-fresh.jsonl");
    const EXPORT: &str = include_str!("../../tests/fixtures/k6-summary-export.json");

    #[test]
    fn every_request_of_the_csv_with_its_outcome() {
        assert!(is_per_request(CSV));
        let r = parse("k6.csv", CSV, None).unwrap();
        // The same run's --summary-export: 150 requests, 20 failed.
        assert_eq!(r.requests, Some(150));
        assert_eq!(r.errors, Some(20));
        assert_eq!(r.error_kinds["status_503"], 20);
        assert_eq!(r.statuses.as_ref().unwrap()[&200], 130);
        // Its min and max are samples: equal to the summary's.
        let all = r.latencies_ms.as_ref().unwrap();
        assert!((all[0] - 0.562326).abs() < 1e-9, "{}", all[0]);
        assert_eq!(r.quantile(1.0), Some(21.949653));
        assert!(r
            .samples
            .iter()
            .all(|s| s.name.as_deref() == Some("read_mission")));
        let span = r.duration_s.unwrap();
        assert!(span > 0.1 && span < 1.0, "the run took 0.27 s: {span}");
        assert!(!is_per_request(EXPORT));
    }

    #[test]
    fn json_lines_count_a_request_with_no_answer() {
        assert!(is_per_request(JSONL));
        let r = parse("k6.jsonl", JSONL, None).unwrap();
        assert_eq!(r.requests, Some(40));
        assert_eq!(r.error_kinds["status_503"], 7);
        assert_eq!(r.error_kinds["k6_error_1000"], 1, "a reset: status 0");
        assert_eq!(r.errors, Some(8));
    }

    #[test]
    fn dropped_iterations_say_open_and_whole_seconds_are_noted() {
        let mut text =
            String::from("metric_name,timestamp,metric_value,expected_response,status\n");
        text.push_str("http_req_duration,1796653040,12.5,true,200\n");
        text.push_str("dropped_iterations,1796653041,1.000000,,\n");
        text.push_str("dropped_iterations,1796653041,1.000000,,\n");
        let r = parse("k.csv", &text, None).unwrap();
        assert_eq!(r.model, LoadModel::Open);
        assert!(
            r.notes.iter().any(|n| n.contains("dropped 2 iterations")),
            "{:?}",
            r.notes
        );
        assert!(
            r.notes.iter().any(|n| n.contains("whole seconds")),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn malformed_lines_name_the_file_and_line() {
        let bad = CSV.replacen(",1.000000,", ",fast,", 1);
        let bad = bad.replacen("http_reqs,", "http_req_duration,", 1);
        let e = parse("k.csv", &bad, None).unwrap_err().to_string();
        assert!(e.starts_with("k.csv:2:") && e.contains("fast"), "{e}");
        let cut: String =
            CSV.lines().take(3).collect::<Vec<_>>().join("\n") + "\nhttp_req_duration,17";
        let e = parse("k.csv", &cut, None).unwrap_err().to_string();
        assert!(e.starts_with("k.csv:4:"), "{e}");
        let e = parse(
            "k.jsonl",
            "{\"type\":\"Point\",\"metric\":\"http_req_duration\"}\n{\"type\":",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("k.jsonl:1:") && e.contains("data"), "{e}");
        let e = parse(
            "k.csv",
            "metric_name,timestamp,metric_value\nvus,1,1\n",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no http_req_duration"), "{e}");
    }
}
