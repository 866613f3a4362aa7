//! `harness import`: other tools' results become records that `history`,
//! `analyze`, `compare`, `report` and `judge` read like the harness's own,
//! exactly where the tool wrote every request and as reported where it
//! wrote a summary; version 1 records stay readable.

use std::path::{Path, PathBuf};

use harness::RunRecord;
use serde_json::Value;

use crate::helpers::{
    args, assert_schema_valid, harness, read_record, run_against, spawn_target, stderr,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

pub(crate) fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

/// `harness import --from TOOL FILE --out OUT` and `extra` flags.
pub(crate) async fn import(
    tool: &str,
    file: &str,
    out: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut a = args(&["import", "--from", tool, file, "--out", out]);
    a.extend(extra.iter().map(|s| s.to_string()));
    harness(a).await
}

pub(crate) fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

/// The seed document's five runs (p50, p95, p99 in ms).
pub(crate) const SEED_RUNS: [(f64, f64, f64); 5] = [
    (150.0, 450.0, 800.0),
    (155.0, 460.0, 810.0),
    (165.0, 520.0, 950.0),
    (180.0, 600.0, 1100.0),
    (210.0, 750.0, 1400.0),
];

const LOCUST_STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
const LOCUST_HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";

/// A Locust `--csv` pair for one run with these percentiles, a week after
/// the last (the history's timestamps order the runs).
pub(crate) fn write_locust_run(dir: &Path, i: usize, (p50, p95, p99): (f64, f64, f64)) {
    let max = p99 * 1.5;
    let row = |name: &str, kind: &str| {
        format!("{kind},{name},6000,0,{p50},{:.1},12.0,{max},1870,100.0,0.0,{p50},{p50},{p50},{p50},{p95},{p95},{p99},{p99},{max},{max},{max}", p50 * 1.1)
    };
    let stats = format!(
        "{LOCUST_STATS_HEADER}\n{}\n{}\n",
        row("/api/missions/[id]", "GET"),
        row("Aggregated", "")
    );
    std::fs::write(dir.join(format!("build{i}_stats.csv")), stats).unwrap();
    let t0 = 1_795_000_000 + i as u64 * 7 * 86_400;
    let mut history = format!("{LOCUST_HISTORY_HEADER}\n");
    for s in 0..3u64 {
        let total = 2000 * (s + 1);
        history.push_str(&format!(
            "{},50,,Aggregated,100.0,0.0,{p50},{p50},{p50},{p50},{p95},{p95},{p99},{p99},{max},{max},{max},{total},0,{p50},{:.1},12.0,{max},1870\n",
            t0 + s,
            p50 * 1.1
        ));
    }
    std::fs::write(dir.join(format!("build{i}_stats_history.csv")), history).unwrap();
}

fn analysis_json(o: &std::process::Output) -> Value {
    assert_ne!(o.status.code(), Some(2), "{}", stderr(o));
    serde_json::from_str(&stdout(o)).unwrap()
}

#[tokio::test]
async fn five_imported_summary_runs_analyse_as_the_same_runs_given_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut text = String::new();
    for (i, run) in SEED_RUNS.iter().enumerate() {
        write_locust_run(dir.path(), i + 1, *run);
        files.push(dir.path().join(format!("build{}_stats.csv", i + 1)));
        text.push_str(&format!(
            "Run {}: p50={}ms, p95={}ms, p99={}ms\n",
            i + 1,
            run.0,
            run.1,
            run.2
        ));
    }
    std::fs::write(dir.path().join("history.txt"), &text).unwrap();
    let out = dir.path().join("records");
    let mut a = args(&["import", "--from", "locust", "--label", "Run {n}", "--out"]);
    a.push(out.to_str().unwrap().to_owned());
    // Given newest first: the runs' own times order them.
    a.extend(files.iter().rev().map(|f| f.to_str().unwrap().to_owned()));
    let o = harness(a).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("5 run(s) imported"), "{}", stdout(&o));
    let records = json_files(&out);
    assert_eq!(records.len(), 5);
    assert_schema_valid(&records);
    let first = read_record(&records[0]);
    assert_eq!(first["source"]["tool"], "locust");
    assert_eq!(first["source"]["latency"], "reported_percentiles");
    assert_eq!(first["label"], "Run 1");
    assert_eq!(first["steady"]["p95_ms"], 450.0);
    assert!(
        first["steady"].get("histogram").is_none(),
        "no histogram is made up"
    );
    assert_eq!(first["timeseries"].as_array().unwrap().len(), 3);

    let imported = analysis_json(
        &harness(args(&[
            "analyze",
            out.to_str().unwrap(),
            "--format",
            "json",
        ]))
        .await,
    );
    let given = analysis_json(
        &harness(args(&[
            "analyze",
            "--text",
            dir.path().join("history.txt").to_str().unwrap(),
            "--format",
            "json",
        ]))
        .await,
    );
    assert_eq!(imported["verdict"], "regression");
    assert_eq!(imported["severity"], "medium");
    for key in ["verdict", "severity", "threshold_ms", "runs_to_threshold"] {
        assert_eq!(imported[key], given[key], "{key}");
    }
    for p in ["p50", "p95", "p99"] {
        for key in ["baseline_ms", "latest_ms", "change_pct", "trend", "p_value"] {
            assert_eq!(
                imported["metrics"][p][key], given["metrics"][p][key],
                "{p} {key}"
            );
        }
    }
}

/// How a fixture's line gives its latency in ms (`None`: not a request).
type LatencyOf = fn(&str) -> Option<f64>;

/// The nearest-rank value at `q` of `values` (HdrHistogram's reading).
fn nearest_rank(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).max(1);
    values[rank - 1]
}

#[tokio::test]
async fn per_request_imports_give_the_percentiles_of_their_samples() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, LatencyOf); 7] = [
        // Real JMeter 2.13 output (fixtures/README.md), with its header.
        ("jmeter", "jmeter-2.13-faults.jtl", |l| {
            l.split(',').nth(1)?.parse().ok()
        }),
        // Real k6 1.1.0 output (fixtures/README.md): its CSV and JSON lines.
        ("k6", "k6-requests.csv", |l| {
            let mut f = l.split(',');
            (f.next()? == "http_req_duration").then(|| f.nth(1)?.parse().ok())?
        }),
        ("k6", "k6-requests-fresh.jsonl", |l| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v["type"] == "Point" && v["metric"] == "http_req_duration")
                .then(|| v["data"]["value"].as_f64())?
        }),
        ("hey", "hey-faults.csv", |l| {
            Some(l.split(',').next()?.parse::<f64>().ok()? * 1000.0)
        }),
        ("jmeter", "jmeter-results.jtl", |l| {
            l.split(',').nth(1)?.parse().ok()
        }),
        ("gatling", "gatling-simulation.log", |l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0] == "REQUEST").then(|| f[4].parse::<f64>().unwrap() - f[3].parse::<f64>().unwrap())
        }),
        ("vegeta", "vegeta-results.csv", |l| {
            Some(l.split(',').nth(2)?.parse::<f64>().ok()? / 1e6)
        }),
    ];
    for (tool, file, latency) in cases {
        let out = dir.path().join(file);
        let o = import(tool, &fixture(file), out.to_str().unwrap(), &[]).await;
        assert_eq!(o.status.code(), Some(0), "{tool}: {}", stderr(&o));
        let paths = json_files(&out);
        assert_schema_valid(&paths);
        let record = RunRecord::read(&paths[0]).unwrap();
        assert_eq!(
            record.source.latency,
            harness::record::LatencyBasis::Histograms
        );
        let text = std::fs::read_to_string(fixture(file)).unwrap();
        let mut samples: Vec<f64> = text.lines().filter_map(latency).collect();
        assert_eq!(record.steady.requests, samples.len() as u64, "{tool}");
        let h = &record
            .steady
            .histogram
            .as_ref()
            .expect("per-request: a histogram")
            .0;
        assert_eq!(
            h.len(),
            samples.len() as u64,
            "{tool}: every sample is in it"
        );
        for q in [0.5, 0.9, 0.95, 0.99, 1.0] {
            let direct_us = (nearest_rank(&mut samples, q) * 1000.0).round().max(1.0) as u64;
            let read = h.value_at_quantile(q);
            // Equal at the histogram's resolution (3 significant digits):
            // the same bucket, so within 0.1%.
            assert!(
                h.equivalent(read, direct_us),
                "{tool} q{q}: histogram {read} µs vs samples {direct_us} µs"
            );
        }
        let p95 = record.steady.latency.p95_ms.unwrap();
        assert_eq!(p95, h.value_at_quantile(0.95) as f64 / 1000.0, "{tool}");
    }
    // Per request name, from the names the tool wrote.
    let jtl = RunRecord::read(&json_files(&dir.path().join("jmeter-results.jtl"))[0]).unwrap();
    let search = jtl
        .tasks
        .iter()
        .find(|t| t.name.task() == Some("search"))
        .unwrap();
    assert_eq!((search.requests, search.errors), (4, 2));
    assert!(
        jtl.timeseries.len() >= 3,
        "the samples' times make a series"
    );
}

/// A native run and two imports in one folder.
async fn mixed_history(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let target = spawn_target().await;
    let native = dir.join("native.json");
    let o = run_against(
        &target,
        &native,
        &[
            "--path",
            "/healthz",
            "--users",
            "4",
            "--duration",
            "2s",
            "--label",
            "native",
        ],
    )
    .await;
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    for (tool, file) in [
        ("locust", "locust_stats.csv"),
        ("jmeter", "jmeter-results.jtl"),
    ] {
        let o = import(
            tool,
            &fixture(file),
            dir.to_str().unwrap(),
            &["--label", tool],
        )
        .await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let find = |tool: &str| {
        json_files(dir)
            .into_iter()
            .find(|p| p.to_str().unwrap().contains(&format!("-{tool}-")))
            .unwrap()
    };
    (native, find("locust"), find("jmeter"))
}

#[tokio::test]
async fn history_analyze_compare_report_and_judge_read_imported_and_mixed_records() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (native, locust, jmeter) = mixed_history(dir.path()).await;
    assert_schema_valid(&json_files(dir.path()));
    let d = dir.path().to_str().unwrap();

    let o = harness(args(&["history", d])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    for want in ["imported-locust", "imported-jmeter", "native", "3 run(s)"] {
        assert!(text.contains(want), "{want} in {text}");
    }

    let a = analysis_json(&harness(args(&["analyze", d, "--format", "json"])).await);
    assert_eq!(a["runs"], 3);
    let labels = a["labels"].as_array().unwrap();
    assert!(labels.iter().any(|l| l == "native") && labels.iter().any(|l| l == "locust"));

    // An import beside a run: no stage in common, compared on the steady windows.
    let o = harness(args(&[
        "compare",
        jmeter.to_str().unwrap(),
        native.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .await;
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    let c: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(c["rows"][0]["stage"], "steady");
    assert_eq!(c["rows"][0]["basis"], "histograms");
    // A summary-only import against itself: percentiles, no KS test.
    let o = harness(args(&[
        "compare",
        locust.to_str().unwrap(),
        locust.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let c: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let all = c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["task"] == "ALL")
        .unwrap();
    assert_eq!(all["basis"], "reported_percentiles");
    assert!(all["ks_p_value"].is_null());
    assert_eq!(all["p95"]["base_ms"], 110.0);
    assert_eq!(c["verdict"], "stable");

    let html = dir.path().join("locust.html");
    let o = harness(args(&[
        "report",
        locust.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
        "--baseline",
        native.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Measured by <b>locust</b>"),
        "the page says who measured"
    );
    assert!(page.contains("only the percentiles it reported"));

    // judge: Locust's 67 failures break REQ-PERF-401's "no errors".
    let o = harness(args(&[
        "judge",
        locust.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let errors = j["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metric"] == "errors")
        .unwrap();
    assert_eq!(errors["observed"], 67.0);
    // Bounds edited in the file are judged again on the record's figures;
    // a metric the tool does not report cannot pass.
    let mut edited = read_record(&locust);
    edited["slos"] = serde_json::json!([
        {"id": "a", "metric": "p95", "op": "<", "bound": 100.0, "stages": ["imported"], "task": null, "observed": 0.0, "passed": true},
        {"id": "b", "metric": "p95", "op": "<", "bound": 200.0, "stages": ["imported"], "task": null, "observed": 0.0, "passed": true}
    ]);
    let edited_path = dir.path().join("edited.json");
    std::fs::write(&edited_path, edited.to_string()).unwrap();
    let o = harness(args(&[
        "judge",
        edited_path.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .await;
    let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(j["slos"][0]["observed"], 110.0);
    assert_eq!(j["slos"][0]["passed"], false);
    assert_eq!(j["slos"][1]["passed"], true);
    let wrk = dir.path().join("wrk");
    let o = import("wrk", &fixture("wrk-fixed.txt"), wrk.to_str().unwrap(), &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = harness(args(&["judge", json_files(&wrk)[0].to_str().unwrap()])).await;
    let text = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "wrk prints no p95: the p95 SLO cannot pass\n{text}"
    );
    assert!(text.contains("not reported"), "{text}");
}

#[tokio::test]
async fn version_1_records_are_read_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = dir.path().join("v1.json");
    std::fs::copy(fixture("record-v1.json"), &v1).unwrap();
    assert_eq!(read_record(&v1)["schema_version"], 1);
    assert_schema_valid(std::slice::from_ref(&v1));
    let p = v1.to_str().unwrap();
    let d = dir.path().to_str().unwrap();
    let html = dir.path().join("v1.html");
    for (cmd, code) in [
        (vec!["judge", p], Some(0)),
        (vec!["history", d], Some(0)),
        (vec!["analyze", p], Some(0)),
        (vec!["compare", p, p], Some(0)),
        (vec!["report", p, "-o", html.to_str().unwrap()], Some(0)),
    ] {
        let o = harness(args(&cmd)).await;
        assert_eq!(o.status.code(), code, "{cmd:?}: {}", stderr(&o));
    }
    let r = RunRecord::read(&v1).unwrap();
    assert!(!r.source.imported, "a v1 record is the harness's own");
    assert!(r.steady.histogram.is_some());
}
