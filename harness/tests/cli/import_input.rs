//! `harness import` refusing what it cannot read (naming the file and line,
//! writing nothing), a Locust history on its own, and a scenario's SLOs
//! judging an import.

use serde_json::Value;

use crate::helpers::{args, assert_schema_valid, harness, read_record, stderr};
use crate::import::{fixture, import, json_files, stdout, write_locust_run, SEED_RUNS};

#[tokio::test]
async fn bad_input_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o_ = out.to_str().unwrap();
    let broken = dir.path().join("broken.jtl");
    let jtl = std::fs::read_to_string(fixture("jmeter-results.jtl")).unwrap();
    std::fs::write(
        &broken,
        jtl.replacen("\n1795168800250,14,", "\n1795168800250,fourteen,", 1),
    )
    .unwrap();
    let o = import("jmeter", broken.to_str().unwrap(), o_, &[]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("broken.jtl:3:") && stderr(&o).contains("fourteen"),
        "{}",
        stderr(&o)
    );
    assert!(
        !out.exists() || json_files(&out).is_empty(),
        "nothing half-written"
    );

    let binary = dir.path().join("simulation.log");
    std::fs::write(&binary, [0x93u8, 0xff, 0x00, 0x12]).unwrap();
    let o = import("gatling", binary.to_str().unwrap(), o_, &[]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("simulation.log") && stderr(&o).contains("not text"),
        "{}",
        stderr(&o)
    );

    let o = import("harness", &fixture("record-v1.json"), o_, &[]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("need no import"), "{}", stderr(&o));

    let o = import("k6", &fixture("no-such.json"), o_, &[]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such.json"), "{}", stderr(&o));

    for (i, run) in SEED_RUNS.iter().enumerate().take(2) {
        write_locust_run(dir.path(), i + 1, *run);
    }
    let stats = |i: usize| {
        dir.path()
            .join(format!("build{i}_stats.csv"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let o = harness(args(&[
        "import",
        "--from",
        "locust",
        &stats(1),
        &stats(2),
        "--label",
        "nightly",
        "--out",
        o_,
    ]))
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--label") && stderr(&o).contains("{n}"),
        "{}",
        stderr(&o)
    );
    // The same two with their order and file in the label.
    let labelled = dir.path().join("labelled");
    let o = harness(args(&[
        "import",
        "--from",
        "locust",
        &stats(2),
        &stats(1),
        "--label",
        "b{run}-{file}",
        "--out",
        labelled.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let labels: Vec<Value> = json_files(&labelled)
        .iter()
        .map(|p| read_record(p)["label"].clone())
        .collect();
    assert_eq!(labels, ["b1-build1", "b2-build2"]);
    let o = import("locust", &fixture("hey-faults.csv"), o_, &[]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("hey-faults.csv") && stderr(&o).contains("_stats.csv"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test]
async fn a_locust_history_alone_is_one_run_with_its_time_series() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("nightly_stats_history.csv");
    std::fs::copy(fixture("locust_stats_history.csv"), &history).unwrap();
    let out = dir.path().join("out");
    let o = import(
        "locust",
        history.to_str().unwrap(),
        out.to_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let path = &json_files(&out)[0];
    assert_schema_valid(std::slice::from_ref(path));
    let r = read_record(path);
    assert_eq!(r["label"], "nightly", "a Locust run is named by its prefix");
    assert_eq!(r["steady"]["requests"], 1204);
    assert_eq!(r["steady"]["p50_ms"], 20.0, "the whole run's median");
    assert!(
        r["steady"].get("p95_ms").is_none(),
        "no whole-run p95 in a history"
    );
    let series = r["timeseries"].as_array().unwrap();
    assert_eq!(series.len(), 5);
    assert_eq!(series[4]["users"], 10);
    let total: u64 = series.iter().map(|s| s["requests"].as_u64().unwrap()).sum();
    assert_eq!(
        total, 1204,
        "each interval's completions add up to the total"
    );
    assert_eq!(r["started_at"], "2026-11-28T12:53:05+00:00");
    // Its p95 SLO cannot be shown to hold.
    let o = harness(args(&["judge", path.to_str().unwrap()])).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("not reported"), "{}", stdout(&o));
}

#[tokio::test]
async fn a_scenarios_slos_judge_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("reads.toml");
    std::fs::write(
        &scenario,
        r#"
name = "reads"
[requirement]
id = "REQ-READS"
text = "Mission reads stay fast."
[[tasks]]
name = "read_mission"
path = "/api/missions/MISSION-0001"
[[tasks]]
name = "search"
path = "/api/missions?status=active"
[[stages]]
name = "hold"
users = 10
duration = "30s"
steady = true
[[slos]]
metric = "p99"
bound = 10
[[slos]]
metric = "p95"
bound = 300
task = "read_mission"
[[slos]]
metric = "p95"
bound = 300
task = "search"
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = harness(args(&[
        "import",
        "--from",
        "k6",
        &fixture("k6-handle-summary.json"),
        "--slos-from",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_record(&json_files(&out)[0]);
    assert_eq!(r["requirement"]["id"], "REQ-READS");
    let slos = r["slos"].as_array().unwrap();
    // k6's tagged sub-metric read_mission has percentiles but no counts: no
    // row, so neither task SLO is judged (and none passes on nothing).
    assert_eq!(
        slos.len(),
        1,
        "task SLOs without a counted row are left out: {slos:?}"
    );
    assert_eq!(slos[0]["observed"], 15.668);
    assert_eq!(slos[0]["passed"], false);
    assert_eq!(r["verdict"], "fail");
    let notes = r["source"]["notes"].as_array().unwrap();
    for task in ["\"search\"", "\"read_mission\""] {
        assert!(
            notes.iter().any(|n| n.as_str().unwrap().contains(task)),
            "{task}: {notes:?}"
        );
    }
    assert_eq!(r["stages"][0]["duration_s"], 0.27248768);
}
