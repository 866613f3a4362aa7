//! HTTPS and HTTP/2 against a real `mock-api --tls`: the seed scenario
//! passes over both protocols with the certificate mock-api wrote, and the
//! server's own counts of connections and handshakes match the record's;
//! a handshake delay shows in per-request connections' latency and TLS
//! phase, not in keep-alive's; an untrusted certificate is a clear
//! `connect` error; `--insecure` is said.

use serde_json::Value;

use crate::helpers::{harness, read_record, spawn_target_with, stderr, Target, EXCLUSIVE};

/// The target's `/__admin/stats` `connections` (its admin listener).
async fn server_connections(target: &Target) -> Value {
    let admin = target.admin.as_ref().expect("an admin listener");
    let stats: Value = reqwest::get(format!("{admin}/__admin/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["connections"].clone()
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("a count: {v}"))
}

/// Runs the seed scenario at 1% of its length over `protocol`'s flags.
async fn seed_run(target: &Target, name: &str, extra: &[&str]) -> Value {
    let out = target.path(name);
    let cert = target.tls_cert.as_ref().unwrap();
    let mut args = vec![
        "run".to_owned(),
        "--target".to_owned(),
        target.url.clone(),
        "--ca-cert".to_owned(),
        cert.to_str().unwrap().to_owned(),
        "--server-stats".to_owned(),
        target.admin.clone().unwrap(),
        "--duration-scale".to_owned(),
        "0.01".to_owned(),
        "--quiet".to_owned(),
        "--out".to_owned(),
        out.to_str().unwrap().to_owned(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = harness(args).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    read_record(&out)
}

#[tokio::test]
async fn the_seed_scenario_passes_over_https_on_both_protocols_and_the_server_counts_what_the_harness_made(
) {
    let _exclusive = EXCLUSIVE.lock().await;
    let target = spawn_target_with(|c| {
        c.tls = true;
        c.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    for (name, flags, protocol) in [
        ("h1.json", &[][..], "h1"),
        ("h2.json", &["--http2"][..], "h2"),
    ] {
        let before = server_connections(&target).await;
        let r = seed_run(&target, name, flags).await;
        let after = server_connections(&target).await;
        assert_eq!(r["schema_version"], 8);
        assert_eq!(r["verdict"], "pass", "{name}");
        assert_eq!(r["steady"]["errors"], 0, "{name}");
        let c = &r["connections"];
        assert_eq!(c["protocol"], protocol);
        assert_eq!(c["tls"], true);
        assert_eq!(c["insecure"], false);
        let opened = n(&c["opened"]);
        assert_eq!(n(&c["tls_full"]) + n(&c["tls_resumed"]), opened, "{c}");
        // The server saw these connections and one more: the harness's
        // check that the target answers (its own TLS handshake) before
        // the run.
        let key = if protocol == "h1" { "http1" } else { "h2" };
        let delta = |path: &[&str]| {
            let get = |v: &Value| path.iter().fold(v.clone(), |v, k| v[*k].clone());
            n(&get(&after)) - n(&get(&before))
        };
        assert_eq!(delta(&["accepted"]), opened + 1, "{before} -> {after}");
        let full =
            delta(&["protocols", "http1", "tls_full"]) + delta(&["protocols", "h2", "tls_full"]);
        let resumed = delta(&["protocols", "http1", "tls_resumed"])
            + delta(&["protocols", "h2", "tls_resumed"]);
        assert_eq!(full + resumed, opened + 1, "{before} -> {after}");
        assert_eq!(resumed, n(&c["tls_resumed"]), "{before} -> {after}");
        // Connections that carried the run's requests, in its protocol.
        assert_eq!(
            delta(&["protocols", key, "connections"]),
            opened,
            "{before} -> {after}"
        );
        if protocol == "h2" {
            // Keep-alive users share one multiplexed connection.
            assert_eq!(opened, 1, "{c}");
        }
        let requests = n(&r["steady"]["requests"]);
        assert!(delta(&["protocols", key, "requests"]) > requests);
        let phases = &c["phases"]["get mission"];
        for phase in ["dns", "connect", "tls", "waiting", "receiving"] {
            assert!(phases[phase]["histogram"].is_string(), "{phase}: {phases}");
        }
    }
}

const ONE_TASK: &str = r#"
name = "handshakes"
connection = "CONNECTION"
[requirement]
id = "TLS-1"
text = "a new visitor pays the handshake"
[[tasks]]
name = "get mission"
path = "/api/missions/MISSION-0001"
[[stages]]
name = "hold"
users = 2
duration = "3s"
steady = true
"#;

/// A 3 s run of two users with `connection` reuse against `target`; the
/// record's p50 and TLS phase p50, and its connections.
async fn reuse_run(target: &Target, connection: &str) -> (f64, f64, Value) {
    let file = target.scenario(
        &format!("{connection}.toml"),
        &ONE_TASK.replace("CONNECTION", connection),
    );
    let out = target.path(&format!("{connection}.json"));
    let cert = target
        .tls_cert
        .as_ref()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let args = [
        "run",
        "--target",
        &target.url,
        "--scenario",
        &file,
        "--ca-cert",
        &cert,
        "--no-server-stats",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = harness(args.iter().map(|s| s.to_string()).collect()).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_record(&out);
    let p50 = r["steady"]["p50_ms"].as_f64().unwrap();
    let c = r["connections"].clone();
    let tls = c["phases"]["get mission"]["tls"]["p50_ms"]
        .as_f64()
        .unwrap();
    (p50, tls, c)
}

#[tokio::test]
async fn per_request_connections_pay_the_handshake_delay_and_keep_alive_pays_it_once() {
    let _exclusive = EXCLUSIVE.lock().await;
    let target = spawn_target_with(|c| {
        c.tls = true;
        c.tls_handshake_delay = Some("fixed(20)".into());
    })
    .await;
    let (kept_p50, kept_tls, kept) = reuse_run(&target, "keep-alive").await;
    let (new_p50, new_tls, new) = reuse_run(&target, "per-request").await;
    eprintln!(
        "keep-alive: p50 {kept_p50} ms, TLS phase p50 {kept_tls} ms, {} opened; \
         per-request: p50 {new_p50} ms, TLS phase p50 {new_tls} ms, {} opened",
        kept["opened"], new["opened"]
    );
    // Keep-alive: each of the two users made one connection; after it,
    // the TLS phase is zero.
    assert_eq!(kept["opened"], 2, "{kept}");
    assert_eq!(kept_tls, 0.0);
    assert!(kept_p50 < 10.0, "{kept_p50}");
    // Per request: a handshake each time, and its 20 ms in the latency.
    let requests = n(&new["tls_full"]) + n(&new["tls_resumed"]);
    assert_eq!(requests, n(&new["opened"]));
    assert!(requests > 20, "{new}");
    assert!((19.0..40.0).contains(&new_tls), "TLS phase p50 {new_tls}");
    let added = new_p50 - kept_p50;
    assert!((18.0..40.0).contains(&added), "p50 {kept_p50} -> {new_p50}");
    assert_eq!(new["reuse"]["users"], "per-request");
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_clear_error_and_insecure_is_said() {
    let target = spawn_target_with(|c| c.tls = true).await;
    let out = target.path("r.json");
    let base = [
        "run",
        "--target",
        &target.url,
        "--path",
        "/healthz",
        "--users",
        "1",
        "--duration",
        "1s",
        "--no-server-stats",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    let args = |extra: &[&str]| base.iter().chain(extra).map(|s| s.to_string()).collect();
    // The platform's roots do not include mock-api's own certificate.
    let o = harness(args(&[])).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("invalid peer certificate"), "{err}");
    assert!(err.contains("--ca-cert"), "{err}");

    let o = harness(args(&["--insecure"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_record(&out);
    assert_eq!(r["connections"]["insecure"], true);
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("WARNING: --insecure"), "{summary}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--insecure"));

    // review --target reads the facts of an https:// target it trusts.
    let cert = target
        .tls_cert
        .as_ref()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let review = [
        "review",
        "req-perf-401",
        "--target",
        &target.url,
        "--ca-cert",
        &cert,
    ];
    let o = harness(review.iter().map(|s| s.to_string()).collect()).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("the target holds 1000 missions"), "{text}");
}
