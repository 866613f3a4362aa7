//! `harness run`: verdicts, exit codes, the task mix, open model, Ctrl-C.

use std::time::Duration;

use crate::helpers::{args, harness, read_record, run_against, spawn_target, stderr, task_row};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_builtin_scenario_at_small_scale_passes_with_zero_errors_and_the_seed_documents_mix() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let out = target.path("run.json");

    let o = run_against(&target, &out, &["--duration-scale", "0.005"]).await;

    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_record(&out);
    assert_eq!(r["verdict"], "pass");
    assert_eq!(r["requirement"]["id"], "REQ-PERF-401");
    assert_eq!(r["steady"]["errors"], 0);
    assert!(
        r["errors"].as_object().unwrap().is_empty(),
        "{}",
        r["errors"]
    );
    assert!(r["slos"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["passed"] == true));
    // The 500 users were reached in the steady stage.
    let sustained = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "sustained")
        .unwrap();
    assert_eq!(sustained["users_max"], 500);
    let spike = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "spike")
        .unwrap();
    assert_eq!(spike["users_max"], 750);

    // Observed task mix over the whole run: 60/20/20 within 3 points.
    let mut per_task = std::collections::BTreeMap::<String, u64>::new();
    for row in r["tasks"].as_array().unwrap() {
        let name = row["name"].as_str().unwrap();
        if name != "ALL" {
            *per_task.entry(name.to_owned()).or_default() += row["requests"].as_u64().unwrap();
        }
    }
    let total: u64 = per_task.values().sum();
    assert!(total > 1500, "{total} requests");
    for (task, share) in [
        ("get mission", 60.0),
        ("update waypoint", 20.0),
        ("search missions", 20.0),
    ] {
        let got = 100.0 * per_task[task] as f64 / total as f64;
        assert!((got - share).abs() <= 3.0, "{task}: {got:.1}% vs {share}%");
    }
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        summary.contains("REQ-PERF-401") && summary.contains("PASS"),
        "{summary}"
    );
}

const IMPOSSIBLE: &str = r#"
name = "impossible"
[requirement]
id = "REQ-TEST-1"
text = "Searches answer in under a microsecond."
[[tasks]]
name = "search"
path = "/api/missions?status=active&region=CENTCOM"
[[stages]]
name = "hold"
users = 5
duration = "2s"
steady = true
[[slos]]
metric = "p95"
bound = 0.001
[[slos]]
metric = "errors"
bound = 0
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_slo_that_cannot_hold_exits_1_with_that_slo_failed() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let scenario = target.scenario("impossible.toml", IMPOSSIBLE);
    let out = target.path("impossible.json");

    let o = run_against(&target, &out, &["--scenario", &scenario]).await;

    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = read_record(&out);
    assert_eq!(r["verdict"], "fail");
    let slos = r["slos"].as_array().unwrap();
    assert_eq!(slos[0]["metric"], "p95");
    assert_eq!(slos[0]["passed"], false);
    assert!(slos[0]["observed"].as_f64().unwrap() > 0.001);
    assert_eq!(slos[1]["passed"], true, "errors = 0 still holds");
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAIL"));
}

#[tokio::test]
async fn a_target_that_is_not_listening_exits_2_with_one_line() {
    // Bind then drop a listener: a port on loopback with nothing behind it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = harness(args(&[
        "run",
        "--target",
        &format!("http://127.0.0.1:{port}"),
        "--quiet",
        "--out",
        "/dev/null",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot reach target") && err.contains(&port.to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn an_invalid_scenario_exits_2_naming_file_line_and_field_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("bad.toml");
    std::fs::write(
        &scenario,
        IMPOSSIBLE.replace("metric = \"p95\"", "metric = \"p42\""),
    )
    .unwrap();
    // The target does not even exist: validation comes first.
    let o = harness(args(&[
        "run",
        "--target",
        "http://127.0.0.1:9",
        "--scenario",
        scenario.to_str().unwrap(),
        "--quiet",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let line = IMPOSSIBLE
        .lines()
        .position(|l| l.contains("metric = \"p95\""))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("bad.toml:{line}:")), "{err}");
    assert!(
        err.contains("slos[0].metric") && err.contains("p42"),
        "{err}"
    );
}

#[tokio::test]
async fn bad_flags_exit_2_naming_the_flag() {
    let o = harness(args(&["run", "--duration-scale", "fast"])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--duration-scale"));
    let o = harness(args(&[
        "run",
        "--duration-scale",
        "-1",
        "--target",
        "http://127.0.0.1:9",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--duration-scale"));
    let o = harness(args(&["run", "--target", "not a url"])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--target"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_model_stages_send_at_the_planned_rate() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let scenario = target.scenario(
        "open.toml",
        r#"
name = "open"
[requirement]
id = "REQ-OPEN"
text = "Health answers at 200 requests per second."
[[tasks]]
name = "health"
path = "/healthz"
[[stages]]
name = "warm"
rate = 100
duration = "1s"
[[stages]]
name = "hold"
rate = 200
from_rate = 200
duration = "3s"
steady = true
[[slos]]
metric = "errors"
bound = 0
"#,
    );
    let out = target.path("open.json");

    let o = run_against(&target, &out, &["--scenario", &scenario]).await;

    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_record(&out);
    let hold = task_row(&r, "health", "hold");
    let n = hold["requests"].as_u64().unwrap();
    assert!((570..=630).contains(&n), "{n} requests in 3 s at 200/s");
    let warm = task_row(&r, "health", "warm");
    let n = warm["requests"].as_u64().unwrap();
    assert!((90..=110).contains(&n), "{n} requests in 1 s at 100/s");
    assert_eq!(r["stages"][1]["model"], "open");
    assert_eq!(r["stages"][1]["dropped"], 0);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ctrl_c_stops_the_run_and_still_writes_the_record_and_summary() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let out = target.path("interrupted.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            "--target",
            &target.url,
            "--duration-scale",
            "0.1",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();

    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "{:?} {}",
        o.status,
        stderr(&o)
    );
    let r = read_record(&out);
    assert_eq!(r["interrupted"], true);
    let total: u64 = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["name"] == "ALL")
        .map(|t| t["requests"].as_u64().unwrap())
        .sum();
    assert!(total > 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("INTERRUPTED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_path_alone_runs_closed_or_open_without_a_scenario_file() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    for (load, model) in [(["--users", "3"], "closed"), (["--rate", "50"], "open")] {
        let out = target.path(&format!("{model}.json"));
        let mut extra = vec!["--path", "/api/missions/MISSION-0001", "--duration", "2s"];
        extra.extend(load);
        let o = run_against(&target, &out, &extra).await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let r = read_record(&out);
        assert_eq!(r["stages"][0]["model"], model);
        assert_eq!(
            r["task_templates"]["GET"]["path"],
            "/api/missions/MISSION-0001"
        );
        let n = r["steady"]["requests"].as_u64().unwrap();
        if model == "open" {
            assert!((90..=110).contains(&n), "{n} requests in 2 s at 50/s");
        } else {
            assert!(n > 50, "{n}");
        }
    }
    let o = harness(args(&["run", "--rate", "5"])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--path"), "{}", stderr(&o));
}
