//! k6's end-of-test JSON (its per-request output is read by
//! [`super::k6_samples`]). In: the file `k6 run --summary-export FILE`
//! writes (metrics flattened: `"http_req_duration": {"avg": .., "p(95)": ..}`)
//! or the data object `handleSummary(data)` receives, written with
//! `JSON.stringify(data)` (`"http_req_duration": {"type": "trend",
//! "values": {..}}`, plus `state.testRunDurationMs`). Out: requests
//! (`http_reqs.count`), failures (`http_req_failed`'s true values, which
//! k6 calls `passes`), and `http_req_duration`'s statistics: whatever
//! `summaryTrendStats` asked for (default `avg, min, med, max, p(90),
//! p(95)`: no p99 unless asked), `med` as p50 and `max` as 100%.
//! Sub-metrics tagged by name (`http_req_duration{name:search}`, present
//! when a threshold names them) become per-name figures.
//!
//! k6 keeps time metrics in milliseconds in this JSON whatever
//! `summaryTimeUnit` says (that option formats the text summary only). Its
//! trend percentiles are computed from every sample it kept, and
//! `http_req_duration` counts failed requests too. It times each request
//! from when it was sent. Its model is its executor's, which the JSON does
//! not name, so the caller says it (from the command): with an
//! arrival-rate executor (open model) each iteration starts on schedule,
//! so a request is sent, and timed from, its intended time, and an
//! iteration that finds no free VU is dropped, neither sent nor timed
//! (`dropped_iterations`: present only under an arrival-rate executor, so
//! its presence alone says open); with VUs that loop (closed model) a
//! stalled target shows as fewer requests. Neither form says when the run
//! started.

use serde_json::{Map, Value};

use super::{At, LoadModel, NamedReport, Reported, Tool, ToolReport};
use crate::error::Error;

/// Reads either JSON summary, or the per-request CSV or JSON lines
/// ([`super::k6_samples`]); `file` names it in errors; `told` is how k6
/// ran (its executor), when known; dropped iterations say open, and
/// otherwise closed is a guess, noted as one.
pub fn parse(file: &str, text: &str, told: Option<LoadModel>) -> Result<ToolReport, Error> {
    if super::k6_samples::is_per_request(text) {
        return super::k6_samples::parse(file, text, told);
    }
    let whole = At { file, line: 0 };
    let root = super::json_document(file, text)?;
    let metrics = root
        .get("metrics")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            whole.error("no \"metrics\" object: not k6's --summary-export or handleSummary JSON")
        })?;
    let duration = values(metrics, "http_req_duration").ok_or_else(|| {
        whole.error(
            "no http_req_duration metric: the test made no HTTP requests, or this is not k6's JSON",
        )
    })?;
    let dropped = values(metrics, "dropped_iterations")
        .map(|d| count(&whole, "dropped_iterations", d, "count"))
        .transpose()?;
    let guessed = dropped.is_none() && told.is_none();
    let model = match dropped {
        Some(_) => LoadModel::Open,
        None => told.unwrap_or(LoadModel::Closed),
    };
    let mut report = ToolReport::new(Tool::K6, model);
    let (percentiles, mean) = trend(&whole, "http_req_duration", duration)?;
    report.percentiles = percentiles;
    report.mean_ms = mean;
    if let Some(reqs) = values(metrics, "http_reqs") {
        report.requests = Some(count(&whole, "http_reqs", reqs, "count")?);
    }
    if let Some(failed) = values(metrics, "http_req_failed") {
        // A Rate counts its true values as `passes`: here, failed requests.
        let errors = count(&whole, "http_req_failed", failed, "passes")?;
        report.errors = Some(errors);
        if errors > 0 {
            report.error_kinds.insert("http_req_failed".into(), errors);
        }
    } else {
        report
            .notes
            .push("no http_req_failed metric (k6 before v0.31): errors not reported".into());
    }
    report.duration_s = root
        .pointer("/state/testRunDurationMs")
        .and_then(Value::as_f64)
        .and_then(super::non_negative)
        .map(|ms| ms / 1000.0);
    for (key, metric) in metrics {
        let Some(name) = key
            .strip_prefix("http_req_duration{name:")
            .and_then(|r| r.strip_suffix('}'))
        else {
            continue;
        };
        let v = inner(metric).unwrap_or(metric);
        let (percentiles, mean_ms) = trend(&whole, key, v)?;
        report.names.push(NamedReport {
            name: name.to_owned(),
            requests: None,
            errors: None,
            percentiles,
            mean_ms,
        });
    }
    let mut note = model_note(model, guessed);
    if !guessed {
        note.push_str("; failed requests are in its percentiles; its JSON has only the statistics summaryTrendStats asked for");
    }
    report.notes.push(note);
    if let Some(n) = dropped.filter(|&n| n > 0) {
        report.notes.push(dropped_note(n));
    }
    Ok(report)
}

/// How k6 ran, as a note: said when told or shown, called a guess when not.
pub(super) fn model_note(model: LoadModel, guessed: bool) -> String {
    match model {
        _ if guessed => "k6's output does not name its executor, and no --model was given: read as closed (VUs that each wait for their answer), a guess; --model open if it ran an arrival-rate executor",
        LoadModel::Open => "k6 ran an arrival-rate executor (open model): each iteration started on schedule and its request was timed from when it was sent, its intended time",
        LoadModel::Closed => "k6 ran VUs that each wait for their answer (closed model): requests timed from when they were sent",
    }
    .to_owned()
}

/// The iterations an arrival-rate executor dropped, as a note.
pub(super) fn dropped_note(n: u64) -> String {
    format!(
        "k6 dropped {n} iterations (no free VU at their start: VUs beyond preAllocatedVUs are made while the test runs, up to maxVUs): arrivals it neither sent nor timed, so its tail leaves out what they would have waited"
    )
}

/// The handleSummary form nests a metric's figures under `values`.
fn inner(metric: &Value) -> Option<&Value> {
    metric.get("values")
}

/// A metric's figures in either form.
fn values<'a>(metrics: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let m = metrics.get(name)?;
    Some(inner(m).unwrap_or(m))
}

fn count(at: &At, metric: &str, v: &Value, key: &str) -> Result<u64, Error> {
    let n = v
        .get(key)
        .ok_or_else(|| at.error(format!("{metric}: no {key:?}")))?;
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        })
        .ok_or_else(|| at.error(format!("{metric}.{key}: {n} is not a count")))
}

/// A trend's percentiles (lowest first, `max` as 1.0) and mean.
fn trend(at: &At, metric: &str, v: &Value) -> Result<(Vec<Reported>, Option<f64>), Error> {
    let obj = v
        .as_object()
        .ok_or_else(|| at.error(format!("{metric}: not an object")))?;
    let mut out = Vec::new();
    let mut mean = None;
    for (key, value) in obj {
        let q = match key.as_str() {
            "med" => Some(0.5),
            "max" => Some(1.0),
            "avg" | "min" | "count" => None,
            k => match k.strip_prefix("p(").and_then(|r| r.strip_suffix(')')) {
                Some(p) => Some(
                    p.parse::<f64>()
                        .ok()
                        .filter(|p| (0.0..=100.0).contains(p))
                        .ok_or_else(|| {
                            at.error(format!("{metric}: {key:?} is not a percentile"))
                        })?
                        / 100.0,
                ),
                None => continue,
            },
        };
        if key == "count" {
            continue;
        }
        let ms = value
            .as_f64()
            .and_then(super::non_negative)
            .ok_or_else(|| at.error(format!("{metric}.{key}: {value} is not a duration in ms")))?;
        match q {
            Some(q) => out.push(Reported { q, ms }),
            None if key == "avg" => mean = Some(ms),
            None => {}
        }
    }
    out.sort_by(|a, b| a.q.total_cmp(&b.q));
    Ok((out, mean))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = include_str!("../../tests/fixtures/k6-summary-export.json");
    const HANDLE: &str = include_str!("../../tests/fixtures/k6-handle-summary.json");

    #[test]
    fn summary_export_gives_counts_and_the_trend_stats_asked_for() {
        let r = parse("k6.json", EXPORT, Some(LoadModel::Closed)).unwrap();
        assert_eq!(r.requests, Some(150));
        assert_eq!(r.errors, Some(20));
        assert_eq!(r.quantile(0.5), Some(2.3724005));
        assert_eq!(r.quantile(0.9), Some(8.2735053));
        assert_eq!(r.quantile(0.95), Some(9.74316805));
        assert_eq!(r.quantile(0.99), Some(15.667949259999968));
        assert_eq!(r.quantile(1.0), Some(21.949653));
        assert_eq!(r.mean_ms, Some(3.545266446666666));
        assert_eq!(r.duration_s, None, "--summary-export drops state");
        let without = EXPORT.replace("\"p(99)\": 15.667949259999968,", "");
        let r = parse("k6.json", &without, Some(LoadModel::Closed)).unwrap();
        assert_eq!(
            r.quantile(0.99),
            None,
            "only what summaryTrendStats asked for"
        );
    }

    #[test]
    fn handle_summary_gives_asked_percentiles_duration_and_names() {
        let r = parse("k6.json", HANDLE, Some(LoadModel::Closed)).unwrap();
        assert_eq!(r.requests, Some(150));
        assert_eq!(r.errors, Some(20));
        assert_eq!(r.quantile(0.99), Some(15.667949259999968));
        assert_eq!(r.quantile(0.999), Some(21.263389843000127));
        assert_eq!(r.duration_s, Some(0.27248768));
        let names: Vec<&str> = r.names.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["read_mission"]);
        assert_eq!(
            super::super::reported_at(&r.names[0].percentiles, 0.95),
            Some(9.74316805)
        );
    }

    fn parse_closed(file: &str, text: &str) -> Result<ToolReport, Error> {
        parse(file, text, Some(LoadModel::Closed))
    }

    #[test]
    fn the_model_is_the_executors_and_dropped_iterations_say_open() {
        let open = parse("k6.json", EXPORT, Some(LoadModel::Open)).unwrap();
        assert_eq!(open.model, LoadModel::Open);
        assert!(
            open.notes[0].contains("arrival-rate executor"),
            "{:?}",
            open.notes
        );
        let closed = parse_closed("k6.json", EXPORT).unwrap();
        assert!(
            closed.notes[0].contains("closed model"),
            "{:?}",
            closed.notes
        );
        // Only an arrival-rate executor drops iterations.
        let dropped = EXPORT.replacen(
            "\"metrics\": {",
            "\"metrics\": {\"dropped_iterations\": {\"count\": 181, \"rate\": 30.2},",
            1,
        );
        let r = parse_closed("k6.json", &dropped).unwrap();
        assert_eq!(r.model, LoadModel::Open);
        assert!(
            r.notes.iter().any(|n| n.contains("dropped 181 iterations")),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn malformed_files_name_the_file_and_line() {
        let e = parse_closed("k.json", "{\n  \"metrics\": [1,\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("k.json:"), "{e}");
        let e = parse_closed("k.json", "{\"root_group\": {}}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("k.json") && e.contains("metrics"), "{e}");
        let bad = EXPORT.replace("\"p(95)\": 9.74316805", "\"p(95)\": \"fast\"");
        let e = parse_closed("k.json", &bad).unwrap_err().to_string();
        assert!(e.contains("p(95)") && e.contains("fast"), "{e}");
        let bad = EXPORT.replace("\"count\": 150", "\"count\": -3");
        let e = parse_closed("k.json", &bad).unwrap_err().to_string();
        assert!(e.contains("http_reqs.count"), "{e}");
        let e = parse_closed("k.json", "{\"metrics\": {\"vus\": {}}}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("http_req_duration"), "{e}");
    }
}
