//! Artillery's JSON report (`artillery run --output FILE`, 2.x). In: its
//! `aggregate` (counters, rates, `summaries` of its histograms, first and
//! last metric times in epoch ms) and `intermediate` (the same per period:
//! 10 s of wall clock, fixed in its `normalizeTs`; no per-second report). Out: requests (`http.requests`), statuses
//! (`http.codes.N`), errors (its `errors.CODE` counters, and answers that
//! are neither 2xx nor 3xx, which Artillery counts as codes, not errors),
//! `http.response_time`'s percentiles (p50, p75, p90, p95, p99, p999, max,
//! mean), per-endpoint figures from its built-in metrics-by-endpoint
//! plugin, when it ran and its periods as a time series.
//!
//! What Artillery's source says (lib/core/engine_http.ts, lib/core/ssms.ts,
//! 2.0.34): `http.response_time` is got's `timings.phases.firstByte`, from
//! the request written to the first byte of the answer (connecting, and
//! reading the body, are not in it), taken with `Date.now()`, so in whole
//! milliseconds; its histograms are DDSketches with 1% relative accuracy,
//! summarised to 0.1 ms. A request that failed on the connection has no
//! response time and ends its virtual user (`vusers.failed`). Artillery
//! launches virtual users at its phases' arrival rate, each on its own
//! connection unless `http.pool` is set: an open model, which the report
//! does not say, so the caller may (`--model`).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use super::{At, Interval, LoadModel, NamedReport, Reported, Tool, ToolReport};
use crate::error::Error;

/// Artillery's summary keys, as quantiles.
const KEYS: [(&str, f64); 7] = [
    ("p50", 0.5),
    ("p75", 0.75),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
    ("max", 1.0),
];

const ENDPOINT: &str = "plugins.metrics-by-endpoint.";

/// Reads Artillery's JSON report; `file` names it in errors; `told` is how
/// it ran, when known (else open, Artillery's way, noted as a guess).
pub fn parse(file: &str, text: &str, told: Option<LoadModel>) -> Result<ToolReport, Error> {
    let model = told.unwrap_or(LoadModel::Open);
    let at = At { file, line: 0 };
    let root = super::json_document(file, text)?;
    let aggregate = root
        .get("aggregate")
        .and_then(Value::as_object)
        .ok_or_else(|| at.error("no \"aggregate\" object: not Artillery's --output report"))?;
    let counters = counters(&at, "aggregate", aggregate)?;
    let mut report = ToolReport::new(Tool::Artillery, model);
    let (statuses, kinds) = outcomes(&counters, "");
    let requests = counters.get("http.requests").copied().ok_or_else(|| {
        at.error("aggregate.counters has no http.requests: the test made no HTTP requests, or this is not Artillery's report")
    })?;
    report.requests = Some(requests);
    report.statuses = Some(statuses);
    report.set_error_kinds(kinds);
    let summaries = aggregate.get("summaries").and_then(Value::as_object);
    let (percentiles, mean) = match summaries.and_then(|s| s.get("http.response_time")) {
        Some(summary) => summary_of(&at, "aggregate.summaries.http.response_time", summary)?,
        None => (Vec::new(), None),
    };
    report.percentiles = percentiles;
    report.mean_ms = mean;
    let epoch = |key: &str| {
        aggregate
            .get(key)
            .and_then(Value::as_i64)
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
    };
    let (first, last) = (epoch("firstMetricAt"), epoch("lastMetricAt"));
    report.started_at = first;
    report.duration_s = first
        .zip(last)
        .map(|(a, b)| (b - a).num_milliseconds().max(0) as f64 / 1000.0);
    for (key, summary) in summaries.into_iter().flatten() {
        let Some(name) = key.strip_prefix(&format!("{ENDPOINT}response_time.")) else {
            continue;
        };
        let (percentiles, mean_ms) = summary_of(&at, key, summary)?;
        let (s, k) = outcomes(&counters, &format!("{ENDPOINT}{name}."));
        let errors: u64 = k.values().sum();
        let transport = transport(&k);
        report.names.push(NamedReport {
            name: name.to_owned(),
            requests: Some(s.values().sum::<u64>() + transport),
            errors: Some(errors),
            percentiles,
            mean_ms,
        });
    }
    if let (Some(start), Some(periods)) =
        (first, root.get("intermediate").and_then(Value::as_array))
    {
        for (i, period) in periods.iter().enumerate() {
            let name = format!("intermediate[{i}]");
            let period = period
                .as_object()
                .ok_or_else(|| at.error(format!("{name}: not an object")))?;
            report.intervals.push(interval(&at, &name, period, start)?);
        }
    }
    if report.percentiles.is_empty() {
        report
            .notes
            .push("Artillery reported no http.response_time: no request got an answer".into());
    }
    report.notes.push("Artillery's http.response_time runs from the request written to the first byte of the answer (got's firstByte phase: connecting and reading the body are left out), in whole milliseconds, summarised from a DDSketch of 1% relative accuracy; requests that got no answer have none".into());
    report.notes.push(match model {
        _ if told.is_none() => "Artillery's report does not say how it ran: read as open, Artillery's way (it launches virtual users at its phases' arrival rate, each on a connection of its own unless http.pool is set), a guess; --model closed says otherwise".into(),
        LoadModel::Open => "Artillery launched virtual users at its phases' arrival rate (open model), each on a connection of its own unless http.pool is set".into(),
        LoadModel::Closed => "Artillery was said to run a closed model (--model closed): its report cannot say".into(),
    });
    if let Some(failed) = counters.get("vusers.failed").filter(|&&n| n > 0) {
        report.notes.push(format!("{failed} of Artillery's virtual users failed: a request that fails on the connection ends its user's scenario"));
    }
    Ok(report)
}

/// A period or the aggregate's counters, as counts.
fn counters(
    at: &At,
    name: &str,
    period: &Map<String, Value>,
) -> Result<BTreeMap<String, u64>, Error> {
    let Some(map) = period.get("counters") else {
        return Err(at.error(format!("{name}: no \"counters\" object")));
    };
    let map = map
        .as_object()
        .ok_or_else(|| at.error(format!("{name}.counters: not an object")))?;
    map.iter()
        .map(|(k, v)| {
            let n = v
                .as_u64()
                .ok_or_else(|| at.error(format!("{name}.counters.{k}: {v} is not a count")))?;
            Ok((k.clone(), n))
        })
        .collect()
}

/// Statuses and failures by kind from counters under `prefix` (`""`: the
/// whole run's `http.codes.N` and `errors.CODE`; an endpoint's prefix: its
/// `codes.N` and `errors.CODE`).
fn outcomes(
    counters: &BTreeMap<String, u64>,
    prefix: &str,
) -> (BTreeMap<u16, u64>, BTreeMap<String, u64>) {
    let codes = if prefix.is_empty() {
        "http.codes."
    } else {
        "codes."
    };
    let mut statuses = BTreeMap::new();
    let mut kinds = BTreeMap::new();
    for (key, &n) in counters {
        let Some(rest) = key.strip_prefix(prefix) else {
            continue;
        };
        if let Some(code) = rest.strip_prefix(codes).and_then(|c| c.parse::<u16>().ok()) {
            statuses.insert(code, n);
            if !(200..400).contains(&code) {
                kinds.insert(format!("status_{code}"), n);
            }
        } else if let Some(error) = rest.strip_prefix("errors.") {
            kinds.insert(error.to_owned(), n);
        }
    }
    (statuses, kinds)
}

/// The failures that got no answer (`errors.CODE`), of failures by kind.
fn transport(kinds: &BTreeMap<String, u64>) -> u64 {
    kinds
        .iter()
        .filter(|(k, _)| !k.starts_with("status_"))
        .map(|(_, n)| n)
        .sum()
}

/// A summary's percentiles (lowest first) and mean.
fn summary_of(at: &At, name: &str, summary: &Value) -> Result<(Vec<Reported>, Option<f64>), Error> {
    let obj = summary
        .as_object()
        .ok_or_else(|| at.error(format!("{name}: not an object")))?;
    let number = |key: &str| -> Result<Option<f64>, Error> {
        obj.get(key)
            .map(|v| {
                v.as_f64()
                    .and_then(super::non_negative)
                    .ok_or_else(|| at.error(format!("{name}.{key}: {v} is not a duration in ms")))
            })
            .transpose()
    };
    let mut out = Vec::new();
    for (key, q) in KEYS {
        if let Some(ms) = number(key)? {
            out.push(Reported { q, ms });
        }
    }
    Ok((out, number("mean")?))
}

/// One period of `intermediate`, as an interval ending at its last metric.
fn interval(
    at: &At,
    name: &str,
    period: &Map<String, Value>,
    start: DateTime<Utc>,
) -> Result<Interval, Error> {
    let counters = counters(at, name, period)?;
    let (statuses, kinds) = outcomes(&counters, "");
    let transport = transport(&kinds);
    let end = period
        .get("lastMetricAt")
        .and_then(Value::as_i64)
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .ok_or_else(|| at.error(format!("{name}: no lastMetricAt")))?;
    let percentiles = match period
        .get("summaries")
        .and_then(|s| s.get("http.response_time"))
    {
        Some(s) => summary_of(at, &format!("{name}.summaries.http.response_time"), s)?.0,
        None => Vec::new(),
    };
    Ok(Interval {
        t_s: (end - start).num_milliseconds().max(0) as f64 / 1000.0,
        users: counters.get("vusers.created").copied().unwrap_or(0),
        requests: statuses.values().sum::<u64>() + transport,
        errors: kinds.values().sum(),
        percentiles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAULTS: &str = include_str!("../../tests/fixtures/artillery-faults.json");

    #[test]
    fn real_report_gives_counts_errors_percentiles_and_periods() {
        let r = parse("a.json", FAULTS, Some(LoadModel::Open)).unwrap();
        assert_eq!(r.requests, Some(1_200));
        let statuses = r.statuses.clone().unwrap();
        assert_eq!((statuses[&200], statuses[&503]), (1_121, 69));
        assert_eq!(r.error_kinds["ECONNRESET"], 10);
        assert_eq!(r.error_kinds["status_503"], 69);
        assert_eq!(r.errors, Some(79));
        assert_eq!(r.quantile(0.5), Some(0.0));
        assert_eq!(r.quantile(0.95), Some(2.0));
        assert_eq!(r.quantile(0.99), Some(4.0));
        assert_eq!(r.quantile(0.999), Some(12.1));
        assert_eq!(r.quantile(1.0), Some(17.0));
        assert_eq!(r.mean_ms, Some(0.5));
        let d = r.duration_s.unwrap();
        assert!((d - 11.992).abs() < 1e-9, "{d}");
        assert_eq!(r.intervals.len(), 2);
        assert_eq!(r.intervals[0].requests, 838);
        assert_eq!(r.intervals[0].errors, 52);
        assert_eq!(r.intervals[1].requests + r.intervals[0].requests, 1_200);
        assert_eq!(r.names.len(), 1);
        assert_eq!(r.names[0].name, "/api/missions/MISSION-0001");
        assert_eq!(r.names[0].requests, Some(1_200));
        assert!(r
            .notes
            .iter()
            .any(|n| n.contains("10 of Artillery's virtual users failed")));
    }

    #[test]
    fn malformed_reports_name_the_file_and_the_figure() {
        let e = parse("a.json", "{\n\"aggregate\": {", None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("a.json:2:"), "{e}");
        let e = parse("a.json", "{\"intermediate\": []}", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("aggregate"), "{e}");
        let bad = FAULTS.replacen("\"http.requests\": 1200", "\"http.requests\": -1", 1);
        assert_ne!(bad, FAULTS);
        let e = parse("a.json", &bad, None).unwrap_err().to_string();
        assert!(e.contains("aggregate.counters.http.requests"), "{e}");
        let bad = FAULTS.replacen("\"p99\": 4,", "\"p99\": \"slow\",", 1);
        assert_ne!(bad, FAULTS);
        let e = parse("a.json", &bad, None).unwrap_err().to_string();
        assert!(e.contains("p99") && e.contains("slow"), "{e}");
    }
}
