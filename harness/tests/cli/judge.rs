//! `harness judge RECORD`: a record read from disk is judged again on its
//! own SLOs, from its histograms and counts, and agrees with `run`.

use serde_json::Value;

use crate::helpers::{args, harness, read_record, run_against, spawn_target, stderr};

const SCENARIO: &str = r#"
name = "judged"
[requirement]
id = "REQ-JUDGE"
text = "Health answers fast and without errors."
[[tasks]]
name = "health"
path = "/healthz"
[[stages]]
name = "warm"
users = 4
duration = "1s"
[[stages]]
name = "hold"
users = 4
duration = "2s"
steady = true
[[slos]]
metric = "p95"
bound = 2000
[[slos]]
metric = "errors"
bound = 0
[[slos]]
metric = "rps"
bound = 1
"#;

async fn judge(record: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut a = args(&["judge", record.to_str().unwrap()]);
    a.extend(extra.iter().map(|s| s.to_string()));
    harness(a).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn judge_agrees_with_run_and_re_evaluates_what_the_record_holds() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let scenario = target.scenario("judged.toml", SCENARIO);
    let passing = target.path("pass.json");
    let failing = target.path("fail.json");
    let ran_pass = run_against(&target, &passing, &["--scenario", &scenario]).await;
    let scenario = target.scenario(
        "judged.toml",
        &SCENARIO.replace("bound = 2000", "bound = 0.001"),
    );
    let ran_fail = run_against(&target, &failing, &["--scenario", &scenario]).await;
    assert_eq!(ran_pass.status.code(), Some(0), "{}", stderr(&ran_pass));
    assert_eq!(ran_fail.status.code(), Some(1), "{}", stderr(&ran_fail));

    // Judged again: the same exit code and verdict as the run printed.
    for (path, code, verdict) in [(&passing, 0, "pass"), (&failing, 1, "fail")] {
        let o = judge(path, &["--format", "json"]).await;
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        let j: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(j["verdict"], verdict);
        assert_eq!(j["recorded_verdict"], verdict);
        let written = read_record(path);
        for (again, recorded) in j["slos"]
            .as_array()
            .unwrap()
            .iter()
            .zip(written["slos"].as_array().unwrap())
        {
            assert_eq!(again["observed"], recorded["observed"], "{again}");
            assert_eq!(again["passed"], recorded["passed"], "{again}");
        }
        let o = judge(path, &[]).await;
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(&format!("verdict: {}", verdict.to_uppercase())),
            "{text}"
        );
        assert!(text.contains("REQ-JUDGE"), "{text}");
    }

    // It evaluates the record's histograms, not the verdict written in it:
    // a record whose stored verdict was tampered with is judged on its data...
    let mut tampered = read_record(&passing);
    tampered["verdict"] = "fail".into();
    let tampered_path = target.path("tampered.json");
    std::fs::write(&tampered_path, tampered.to_string()).unwrap();
    let o = judge(&tampered_path, &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("the record says FAIL"));
    // ... and a bound tightened in the file is judged against the observed latency.
    let mut tightened = read_record(&passing);
    tightened["slos"][0]["bound"] = 0.001.into();
    std::fs::write(&tampered_path, tightened.to_string()).unwrap();
    let o = judge(&tampered_path, &["--format", "json"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["slos"][0]["passed"], false);
    assert_eq!(j["slos"][1]["passed"], true);
}

#[tokio::test]
async fn judging_a_file_that_is_not_a_record_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.json");
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();
    let o = judge(&bad, &[]).await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("notes.json") && err.contains("not a run record"),
        "{err}"
    );
    let o = judge(&dir.path().join("missing.json"), &[]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.json"));
}
