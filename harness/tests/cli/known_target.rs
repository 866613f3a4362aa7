//! The harness against a known target: what it reports must match what the
//! target was told to do and what the target measured itself.

use crate::helpers::{read_record, run_against, spawn_target_with, stderr, task_row, Target};

fn scenario(target: &Target, name: &str, users: u32, secs: u32, slos: &str) -> String {
    let text = format!(
        r#"
name = "{name}"
[requirement]
id = "REQ-KNOWN"
text = "The harness reports what the target does."
[keys.mission_id]
distribution = "uniform"
n = 1000
format = "MISSION-{{:04}}"
[[tasks]]
name = "get mission"
path = "/api/missions/{{mission_id}}"
[[stages]]
name = "warm"
users = {users}
duration = "1s"
[[stages]]
name = "hold"
users = {users}
duration = "{secs}s"
steady = true
{slos}
"#
    );
    let path = target.path(&format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

async fn run(
    target: &Target,
    scenario: &str,
    out: &str,
) -> (std::process::Output, serde_json::Value) {
    let out = target.path(out);
    let o = run_against(target, &out, &["--scenario", scenario]).await;
    let r = read_record(&out);
    (o, r)
}

fn steady_row<'a>(r: &'a serde_json::Value, task: &str) -> &'a serde_json::Value {
    task_row(r, task, "hold")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_50_ms_reads_as_50_to_55_at_the_client_and_50_to_52_at_the_server() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target_with(|c| c.latency = vec!["get_mission=fixed(50)".into()]).await;
    let s = scenario(&target, "fixed50", 20, 3, "");
    let (o, r) = run(&target, &s, "fixed50.json").await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let client = steady_row(&r, "get mission")["p50_ms"].as_f64().unwrap();
    assert!((50.0..=55.0).contains(&client), "client p50 {client}");
    let server = &r["server"]["routes"]["get_mission"];
    let server_p50 = server["p50_ms"].as_f64().unwrap();
    assert!(
        (50.0..=52.0).contains(&server_p50),
        "server p50 {server_p50}"
    );
    // The steady window's server count matches the client's requests in it (± those in flight at the edges).
    let client_n = steady_row(&r, "get mission")["requests"].as_i64().unwrap();
    let server_n = server["count"].as_i64().unwrap();
    assert!(
        (client_n - server_n).abs() <= 40,
        "client {client_n} vs server {server_n}"
    );
    assert_eq!(r["server"]["missions"], 1000);
    assert!(String::from_utf8_lossy(&o.stdout).contains("client vs server"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lognormal_latency_quantiles_are_reported_within_5_percent() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let dist = "lognormal(20,200)";
    let target = spawn_target_with(|c| {
        c.latency = vec![format!("get_mission={dist}")];
        c.behaviour_seed = Some(1);
    })
    .await;
    let s = scenario(&target, "lognormal", 80, 12, "");
    let (o, r) = run(&target, &s, "lognormal.json").await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let row = steady_row(&r, "get mission");
    let n = row["requests"].as_u64().unwrap();
    assert!(n >= 20_000, "{n} samples");
    let d: mock_api::behaviour::Dist = dist.parse().unwrap();
    for (q, field) in [(0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")] {
        let truth = d.quantile(q);
        let got = row[field].as_f64().unwrap();
        let server = r["server"]["routes"]["get_mission"][field]
            .as_f64()
            .unwrap();
        let tolerance = (truth * 0.05).max(2.0);
        assert!((got - truth).abs() <= tolerance, "{field}: harness {got:.2} ms (server {server:.2}) vs true {truth:.2} ms (± {tolerance:.2})");
        eprintln!("{field}: harness {got:.2} ms, server {server:.2} ms, true {truth:.2} ms");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_5_percent_503_rate_is_seen_as_5_percent_errors_and_fails_errors_0() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target_with(|c| {
        c.fault = vec!["all=503:0.05".into()];
        c.behaviour_seed = Some(5);
    })
    .await;
    let s = scenario(
        &target,
        "faults",
        50,
        3,
        "[[slos]]\nmetric = \"errors\"\nbound = 0\n",
    );
    let (o, r) = run(&target, &s, "faults.json").await;

    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let steady = &r["steady"];
    let n = steady["requests"].as_u64().unwrap();
    assert!(n >= 4_000, "{n} requests");
    let rate = steady["error_rate"].as_f64().unwrap() * 100.0;
    assert!((3.5..=6.5).contains(&rate), "error rate {rate:.2}%");
    assert_eq!(r["slos"][0]["metric"], "errors");
    assert_eq!(r["slos"][0]["passed"], false);
    assert!(r["errors"]["status_5xx"].as_u64().unwrap() > 0);
    assert!(r["error_samples"]["status_5xx"][0]
        .as_str()
        .unwrap()
        .contains("503"));
    // The server counted the same 503s in the steady window.
    let server_503 = r["server"]["routes"]["get_mission"]["statuses"]["503"]
        .as_i64()
        .unwrap();
    let client_errors = steady["errors"].as_i64().unwrap();
    assert!(
        (server_503 - client_errors).abs() <= 10,
        "server {server_503} vs client {client_errors}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_stats_leaves_the_server_section_out() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target_with(|_| {}).await;
    let s = scenario(&target, "plain", 5, 1, "");
    let out = target.path("plain.json");
    let o = run_against(&target, &out, &["--scenario", &s, "--no-server-stats"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(read_record(&out).get("server").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_and_hangs_are_classed_and_users_carry_on_over_new_connections() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target_with(|c| {
        c.fault = vec![
            "get_mission=reset:0.05".into(),
            "get_mission=hang:0.01".into(),
        ];
        c.behaviour_seed = Some(9);
    })
    .await;
    let text = r#"
name = "transport faults"
timeout = "300ms"
[requirement]
id = "REQ-KNOWN"
text = "Transport faults are counted as what they are."
[keys.mission_id]
distribution = "uniform"
n = 1000
format = "MISSION-{:04}"
[[tasks]]
name = "get mission"
path = "/api/missions/{mission_id}"
[[stages]]
name = "hold"
users = 10
duration = "3s"
steady = true
"#;
    let s = target.path("transport.toml");
    std::fs::write(&s, text).unwrap();
    let out = target.path("transport.json");
    let o = run_against(&target, &out, &["--scenario", s.to_str().unwrap()]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_record(&out);

    let n = r["steady"]["requests"].as_u64().unwrap() as f64;
    let resets = r["errors"]["request"].as_u64().unwrap_or(0) as f64;
    let timeouts = r["errors"]["timeout"].as_u64().unwrap_or(0) as f64;
    assert!(n >= 1_000.0, "{n} requests");
    // A reset is a transport error on that request only: the user opens a
    // new connection and the next request succeeds.
    let reset_pct = resets / n * 100.0;
    assert!((3.0..=7.0).contains(&reset_pct), "resets {reset_pct:.2}%");
    let timeout_pct = timeouts / n * 100.0;
    assert!(
        (0.3..=2.0).contains(&timeout_pct),
        "timeouts {timeout_pct:.2}%"
    );
    let other = r["steady"]["errors"].as_u64().unwrap() as f64 - resets - timeouts;
    assert_eq!(other, 0.0, "{}", r["errors"]);
    let sample = r["error_samples"]["timeout"][0].as_str().unwrap();
    assert!(
        sample.contains("GET http://127.0.0.1:") && sample.contains("/api/missions/MISSION-"),
        "{sample}"
    );
    assert!(sample.contains("300ms"), "{sample}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_behind_a_300_ms_link_see_it_and_the_server_does_not() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target_with(|c| c.link = vec!["far=0:rtt(300ms)".into()]).await;
    let far = target.links[0].1.clone();
    let s = scenario(&target, "far", 10, 3, "");
    let out = target.path("far.json");
    let o = crate::helpers::harness(crate::helpers::args(&[
        "run",
        "--target",
        &far,
        "--quiet",
        "--scenario",
        &s,
        "--out",
        out.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_record(&out);
    let client = steady_row(&r, "get mission")["p50_ms"].as_f64().unwrap();
    assert!((300.0..400.0).contains(&client), "client p50 {client}");
    // The server serves as fast as ever: the link's time is not service time.
    let server = r["server"]["routes"]["get_mission"]["p50_ms"]
        .as_f64()
        .unwrap();
    assert!(server < 20.0, "server p50 {server}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("client vs server"));
}
