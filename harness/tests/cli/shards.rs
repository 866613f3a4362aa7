//! Sharded runs merged exactly: N `harness run --shard I/N` processes
//! against one or two mock-apis, `harness merge`, and the merged record
//! against the servers' truth, the merged histograms and an unsharded run.

use std::path::PathBuf;

use harness::RunRecord;
use serde_json::Value;

use crate::helpers::{args, harness, read_record, spawn_target, stderr, Target};

fn scenario(target: &Target, load: &str) -> String {
    target.scenario(
        "sharded.toml",
        &format!(
            r#"
name = "sharded"
[requirement]
id = "REQ-SHARD"
text = "Shards add up to the run."
[keys.mission_id]
distribution = "zipf"
n = 1000
format = "MISSION-{{:04}}"
[think_time]
kind = "constant"
value = "20ms"
[[tasks]]
name = "get mission"
weight = 3
path = "/api/missions/{{mission_id}}"
[[tasks]]
name = "search"
path = "/api/missions?status=active&region=CENTCOM"
[[stages]]
name = "warm"
{load}
duration = "1s"
[[stages]]
name = "hold"
{load}
duration = "3s"
steady = true
[[slos]]
metric = "p95"
bound = 2000
"#
        ),
    )
}

/// Runs `n` shards at once (shard i against `targets[i % len]`), starting
/// together two seconds from now; returns their record paths.
async fn shards(targets: &[&Target], scenario: &str, n: u32) -> Vec<PathBuf> {
    let at = (chrono::Utc::now() + chrono::TimeDelta::seconds(2)).to_rfc3339();
    let runs = (1..=n).map(|i| {
        let target = targets[(i as usize - 1) % targets.len()];
        let out = targets[0].path(&format!("shard-{i}.json"));
        let a = args(&[
            "run",
            "--target",
            &target.url,
            "--scenario",
            scenario,
            "--quiet",
            "--shard",
            &format!("{i}/{n}"),
            "--start-at",
            &at,
            "--out",
            out.to_str().unwrap(),
        ]);
        async move {
            let o = harness(a).await;
            assert_eq!(o.status.code(), Some(0), "shard {i}: {}", stderr(&o));
            out
        }
    });
    futures_join(runs).await
}

async fn futures_join<F: std::future::Future<Output = PathBuf> + Send + 'static>(
    fs: impl Iterator<Item = F>,
) -> Vec<PathBuf> {
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

async fn merge(paths: &[PathBuf], out: &std::path::Path) -> std::process::Output {
    let mut a = vec!["merge".to_owned()];
    a.extend(paths.iter().map(|p| p.display().to_string()));
    a.extend(["-o".to_owned(), out.display().to_string()]);
    harness(a).await
}

/// Checks the merged record against its shards: counts are sums, the
/// steady percentiles are those of the shards' histograms merged.
fn check_exact(merged: &RunRecord, shards: &[RunRecord]) {
    let requests: u64 = shards.iter().map(|s| s.steady.requests).sum();
    assert_eq!(merged.steady.requests, requests);
    let mut h = shards[0].steady.histogram.clone().unwrap();
    for s in &shards[1..] {
        h.merge(s.steady.histogram.as_ref().unwrap());
    }
    let q = harness::histogram::Percentiles::of(&h.0);
    assert_eq!(merged.steady.latency.p50_ms, Some(q.p50_ms));
    assert_eq!(merged.steady.latency.p95_ms, Some(q.p95_ms));
    assert_eq!(merged.steady.latency.p99_ms, Some(q.p99_ms));
    assert_eq!(merged.shard, None);
    assert_eq!(
        merged.stages[1].target_users,
        shards.iter().map(|s| s.stages[1].target_users).sum()
    );
}

/// Requests the server served in the whole run, per route summed.
fn served(r: &RunRecord) -> u64 {
    r.server
        .as_ref()
        .unwrap()
        .run
        .routes
        .values()
        .map(|w| w.count)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_closed_shards_merge_into_the_run_the_server_saw() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let s = scenario(&target, "users = 12");
    let paths = shards(&[&target], &s, 3).await;
    let parts: Vec<RunRecord> = paths.iter().map(|p| RunRecord::read(p).unwrap()).collect();
    let users: Vec<u32> = parts
        .iter()
        .map(|p| p.stages[1].target_users.unwrap())
        .collect();
    assert_eq!(users, [4, 4, 4]);
    assert!(parts[0].seed == 42 && parts[0].shard.unwrap().total == 3);
    let out = target.path("merged.json");
    let o = merge(&paths, &out).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("merged 3 shards of sharded"));
    let merged = RunRecord::read(&out).unwrap();
    check_exact(&merged, &parts);
    // The server counted each request once; the shards saw the same
    // server, so its truth is taken once. Requests in flight when a
    // shard's window closed may land on either side: at most the users.
    let client = merged.requests();
    let server = served(&merged);
    assert!(
        client.abs_diff(server) <= 12,
        "client {client} vs server {server}"
    );
    assert_eq!(
        crate::helpers::schema_errors(&read_record(&out)),
        Vec::<String>::new()
    );
    // judge, report, compare and history read it like any record.
    let o = harness(args(&["judge", out.to_str().unwrap()])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = target.path("merged.html");
    let o = harness(args(&[
        "report",
        out.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = harness(args(&[
        "compare",
        paths[0].to_str().unwrap(),
        out.to_str().unwrap(),
    ]))
    .await;
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&o)
    );
    let o = harness(args(&["history", target.dir.path().to_str().unwrap()])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // An unsharded run of the same scenario agrees within noise.
    let whole = target.path("whole.json");
    let o = harness(args(&[
        "run",
        "--target",
        &target.url,
        "--scenario",
        &s,
        "--quiet",
        "--out",
        whole.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let whole = RunRecord::read(&whole).unwrap();
    let (a, b) = (merged.steady.requests as f64, whole.steady.requests as f64);
    assert!((a / b - 1.0).abs() < 0.2, "merged {a} vs unsharded {b}");

    // Refusals name the culprit.
    let o = merge(&paths[..2], &target.path("x.json")).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("shard 3 of 3 is missing"),
        "{}",
        stderr(&o)
    );
    let dup = vec![paths[0].clone(), paths[0].clone(), paths[1].clone()];
    let o = merge(&dup, &target.path("x.json")).await;
    assert!(
        stderr(&o).contains("shard 1 appears twice"),
        "{}",
        stderr(&o)
    );
    let mut late: Value = read_record(&paths[2]);
    let start = chrono::DateTime::parse_from_rfc3339(late["started_at"].as_str().unwrap()).unwrap();
    late["started_at"] = Value::String((start + chrono::TimeDelta::seconds(5)).to_rfc3339());
    let late_path = target.path("late.json");
    std::fs::write(&late_path, late.to_string()).unwrap();
    let o = merge(
        &[paths[0].clone(), paths[1].clone(), late_path.clone()],
        &target.path("x.json"),
    )
    .await;
    assert!(
        stderr(&o).contains("late.json started 5.0 s apart"),
        "{}",
        stderr(&o)
    );
    late["started_at"] = Value::String(start.to_rfc3339());
    late["seed"] = Value::from(7);
    std::fs::write(&late_path, late.to_string()).unwrap();
    let o = merge(
        &[paths[0].clone(), paths[1].clone(), late_path],
        &target.path("x.json"),
    )
    .await;
    assert!(stderr(&o).contains("seed 7"), "{}", stderr(&o));
    let o = merge(
        &[paths[0].clone(), target.path("whole.json")],
        &target.path("x.json"),
    )
    .await;
    assert!(
        stderr(&o).contains("whole.json is not a shard"),
        "{}",
        stderr(&o)
    );
    let o = harness(args(&[
        "run",
        "--target",
        &target.url,
        "--scenario",
        &s,
        "--shard",
        "4/3",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(2));
    let past = (chrono::Utc::now() - chrono::TimeDelta::seconds(10)).to_rfc3339();
    let o = harness(args(&[
        "run",
        "--target",
        &target.url,
        "--scenario",
        &s,
        "--start-at",
        &past,
    ]))
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ago"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_shards_divide_the_rate_and_two_instances_are_summed() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let (a, b) = (spawn_target().await, spawn_target().await);
    // Open model: 90 arrivals/s over 3 shards, one target.
    let s = scenario(&a, "rate = 90");
    let paths = shards(&[&a], &s, 3).await;
    let parts: Vec<RunRecord> = paths.iter().map(|p| RunRecord::read(p).unwrap()).collect();
    let rates: Vec<f64> = parts
        .iter()
        .map(|p| p.stages[1].target_rate.unwrap())
        .collect();
    assert_eq!(rates, [30.0, 30.0, 30.0]);
    let out = a.path("merged-open.json");
    let o = merge(&paths, &out).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let merged = RunRecord::read(&out).unwrap();
    check_exact(&merged, &parts);
    let hold = merged.stages.iter().find(|s| s.name == "hold").unwrap();
    assert_eq!(hold.target_rate, Some(90.0));
    let steady_rps = merged.steady.rps;
    assert!((80.0..=100.0).contains(&steady_rps), "{steady_rps}");
    // Every arrival is one request the server counted once; those still in
    // flight when the last shard's window closed are at most a few.
    let client = merged.requests();
    assert!(
        client.abs_diff(served(&merged)) <= 10,
        "client {client} vs server {}",
        served(&merged)
    );

    // Two shards against two instances: each instance's truth, added.
    let s = scenario(&a, "users = 6");
    let paths = shards(&[&a, &b], &s, 2).await;
    let out = a.path("merged-two.json");
    let o = merge(&paths, &out).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let merged = RunRecord::read(&out).unwrap();
    let server = merged.server.as_ref().unwrap();
    assert!(server.source.contains(" + "), "{}", server.source);
    assert_eq!(server.missions, 2000);
    let client = merged.requests();
    assert!(
        client.abs_diff(served(&merged)) <= 6,
        "client {client} vs server {}",
        served(&merged)
    );
}

/// The flow sequence after `key: ` on each line that has one, as strings.
fn lists(yaml: &str, key: &str) -> Vec<Vec<String>> {
    yaml.lines()
        .filter_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .filter(|rest| rest.starts_with('['))
        .map(|rest| serde_json::from_str(rest).unwrap_or_else(|e| panic!("{key}: {rest}: {e}")))
        .collect()
}

#[test]
fn the_manifests_use_only_flags_the_binaries_accept() {
    use clap::Parser;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    // The shards: an Indexed Job whose N matches --shard auto/N.
    let job = read("shards-job.yaml");
    assert!(job.contains("completionMode: Indexed"));
    let args = &lists(&job, "args")[0];
    let mut argv = vec!["harness".to_owned()];
    // Kubernetes fills $(START_AT) from the env the header's sed sets.
    assert!(job.contains("{name: START_AT, value: \"__START_AT__\"}"));
    argv.extend(
        args.iter()
            .map(|a| a.replace("$(START_AT)", "2026-11-28T12:00:00Z")),
    );
    harness::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    let shard = args
        .iter()
        .position(|a| a == "--shard")
        .map(|i| &args[i + 1])
        .unwrap();
    let completions = job
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions: "))
        .unwrap();
    assert_eq!(shard, &format!("auto/{completions}"));
    // The merge: each harness command in its shell line parses.
    let merge = read("merge-job.yaml");
    let command = &lists(&merge, "command")[0];
    assert_eq!(command[..2], ["sh", "-c"]);
    for part in command[2].split("&&") {
        let argv: Vec<&str> = part.split_whitespace().collect();
        assert_eq!(argv[0], "harness");
        harness::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    }
    // mock-api's replicas: every flag is mock-api's.
    let api = read("mock-api.yaml");
    let mut argv = lists(&api, "command")[0].clone();
    argv.extend(lists(&api, "args")[0].iter().cloned());
    let config =
        mock_api::Config::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    assert!(
        config.database.contains("/data/"),
        "each replica its own file on its volume"
    );
    // The image runs as a non-root user.
    let docker = std::fs::read_to_string(dir.join("../../Dockerfile")).unwrap();
    assert!(docker.contains("USER 10001") && docker.contains("AS build"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_runs_shards_here_or_through_a_prefix_and_merges_them() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let s = scenario(&target, "users = 4");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/run-sharded.sh");
    for (name, via) in [("here", None), ("via", Some("bash -c"))] {
        let out = target.path(name);
        let mut cmd = std::process::Command::new("bash");
        cmd.arg(&script)
            .args(["2", "--out", out.to_str().unwrap(), "--start-in", "1"]);
        if let Some(via) = via {
            cmd.args(["--via", via]);
        }
        cmd.args(["--", "--target", &target.url, "--scenario", &s]);
        cmd.env("HARNESS", env!("CARGO_BIN_EXE_harness"));
        let o = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let merged = RunRecord::read(&out.join("merged.json")).unwrap();
        assert!(
            merged.steady.requests > 0 && merged.shard.is_none(),
            "{name}"
        );
        let parts: Vec<RunRecord> = (1..=2)
            .map(|i| RunRecord::read(&out.join(format!("shard-{i}.json"))).unwrap())
            .collect();
        check_exact(&merged, &parts);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_spreads_its_users_over_two_targets_and_holds_each_ones_truth() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let (a, b) = (spawn_target().await, spawn_target().await);
    let s = scenario(&a, "users = 6");
    let out = a.path("two-targets.json");
    let o = harness(args(&[
        "run",
        "--target",
        &a.url,
        "--target",
        &b.url,
        "--scenario",
        &s,
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        crate::helpers::schema_errors(&read_record(&out)),
        Vec::<String>::new()
    );
    let r = RunRecord::read(&out).unwrap();
    assert_eq!(r.target, format!("{}, {}", a.url, b.url));
    let server = r.server.as_ref().unwrap();
    assert_eq!(server.instances.len(), 2);
    let count =
        |s: &harness::server::ServerRecord| -> u64 { s.run.routes.values().map(|w| w.count).sum() };
    let (ca, cb) = (count(&server.instances[0]), count(&server.instances[1]));
    // Users 1, 3, 5 on one, 2, 4, 6 on the other: about half each.
    assert!(
        ca > 0 && cb > 0 && ca.abs_diff(cb) * 4 < ca + cb,
        "{ca} vs {cb}"
    );
    assert_eq!(count(server), ca + cb, "the section is their exact sum");
    assert_eq!(server.missions, 2000);
    let steady: u64 = server
        .instances
        .iter()
        .map(|i| i.routes["get_mission"].count)
        .sum();
    assert_eq!(server.routes["get_mission"].count, steady);
    // A --server-stats that answers nothing is refused before any load.
    let o = harness(args(&[
        "run",
        "--target",
        &a.url,
        "--server-stats",
        "http://127.0.0.1:9",
        "--scenario",
        &s,
    ]))
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--server-stats"), "{}", stderr(&o));
}
