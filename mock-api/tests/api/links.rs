//! Emulated network paths (`--link`): what a client far away sees, while
//! the server's own service time stays what it was.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{spawn_app_configured, start_binary, TestApp};
use crate::known_target::{put_behaviour, stats, TOKEN};

async fn app_with(links: &[&str]) -> TestApp {
    let links: Vec<String> = links.iter().map(|s| s.to_string()).collect();
    spawn_app_configured(move |c| {
        c.missions = 200;
        c.admin_token = Some(TOKEN.into());
        c.link = links;
    })
    .await
}

fn link_url(app: &TestApp, name: &str, path: &str) -> String {
    let addr = app.links.iter().find(|(n, _)| n == name).unwrap().1;
    format!("http://{addr}{path}")
}

/// Times a GET through `url` on a warm connection: the body read to its end.
async fn timed_get(client: &reqwest::Client, url: &str) -> (Duration, usize) {
    let start = Instant::now();
    let res = client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    let body = res.bytes().await.unwrap();
    (start.elapsed(), body.len())
}

#[tokio::test]
async fn a_300_ms_link_adds_a_round_trip_and_leaves_the_service_time_alone() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let app = app_with(&["far=0:rtt(300ms)"]).await;
    let client = reqwest::Client::new();
    let url = link_url(&app, "far", "/api/missions/MISSION-0001");
    timed_get(&client, &url).await;
    for _ in 0..3 {
        let (took, _) = timed_get(&client, &url).await;
        assert!(
            (Duration::from_millis(300)..Duration::from_millis(450)).contains(&took),
            "{took:?}"
        );
    }
    let (near, _) = timed_get(&client, &app.url("/api/missions/MISSION-0001")).await;
    assert!(near < Duration::from_millis(100), "{near:?}");
    let s = stats(&app).await;
    let far = &s["links"]["far"];
    assert_eq!(far["service"]["count"], 4);
    assert!(far["service"]["p50_ms"].as_f64().unwrap() < 50.0, "{far}");
    for way in ["inbound_added", "outbound_added"] {
        let p50 = far[way]["p50_ms"].as_f64().unwrap();
        assert!((149.0..160.0).contains(&p50), "{way}: {far}");
    }
    assert!(far["connections"].as_u64().unwrap() >= 1);
    // The link is in the behaviour with the port it got.
    let b: serde_json::Value = app.get("/__admin/behaviour").await.json().await.unwrap();
    let port = app.links[0].1.port();
    assert_eq!(b["links"]["far"], format!("{port}:rtt(300ms)"));
}

#[tokio::test]
async fn a_bandwidth_limit_shows_in_the_time_to_the_last_byte() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let app = app_with(&["thin=0:bandwidth(2mbit)"]).await;
    let client = reqwest::Client::new();
    let big = "/api/missions?limit=100";
    let url = link_url(&app, "thin", big);
    timed_get(&client, &url).await;
    let (took, bytes) = timed_get(&client, &url).await;
    // The body alone at 2 Mbit/s, the headers on top.
    let floor = Duration::from_secs_f64(bytes as f64 * 8.0 / 2e6);
    assert!(bytes > 20_000, "{bytes}");
    assert!(
        took >= floor,
        "{took:?} for {bytes} bytes (floor {floor:?})"
    );
    assert!(
        took < floor * 2 + Duration::from_millis(50),
        "{took:?} vs {floor:?}"
    );
    let (near, _) = timed_get(&client, &app.url(big)).await;
    assert!(near * 4 < took, "{near:?} vs {took:?}");
}

#[tokio::test]
async fn the_admin_api_retunes_a_link_but_cannot_open_or_move_one() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let app = app_with(&["far=0:rtt(300ms)"]).await;
    let port = app.links[0].1.port();
    let res = put_behaviour(&app, json!({"links": {"far": "0:rtt(40ms)"}})).await;
    assert_eq!(res.status(), 200);
    let client = reqwest::Client::new();
    let url = link_url(&app, "far", "/api/missions/MISSION-0001");
    timed_get(&client, &url).await;
    let (took, _) = timed_get(&client, &url).await;
    assert!(took < Duration::from_millis(200), "{took:?}");
    assert!(took >= Duration::from_millis(40), "{took:?}");
    for (body, says) in [
        (json!({"links": {"near": "0:rtt(1ms)"}}), "no such link"),
        (
            json!({"links": {"far": format!("{}:rtt(1ms)", port + 1)}}),
            "cannot move",
        ),
        (json!({"links": {"far": "0:loss(150%)"}}), "loss"),
    ] {
        let res = put_behaviour(&app, body).await;
        assert_eq!(res.status(), 422);
        let text = res.text().await.unwrap();
        assert!(text.contains(says), "{text}");
    }
}

#[tokio::test]
async fn loss_costs_a_retransmission_timeout_and_a_reset_fault_still_resets() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let app = spawn_app_configured(|c| {
        c.missions = 5;
        c.link = vec!["lossy=0:loss(100%)".into(), "plain=0".into()];
        c.fault = vec!["delete_mission=reset:1".into()];
    })
    .await;
    let client = reqwest::Client::new();
    let (took, _) = timed_get(&client, &link_url(&app, "lossy", "/healthz")).await;
    // One segment each way, each lost once: two timeouts of 200 ms.
    assert!(took >= Duration::from_millis(400), "{took:?}");
    let err = client
        .delete(link_url(&app, "plain", "/api/missions/MISSION-0001"))
        .send()
        .await
        .expect_err("the connection is reset, not answered");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
}

#[tokio::test]
async fn the_binary_prints_each_link_with_its_real_port_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("links.db");
    let mut server = start_binary(&db, &["--missions", "5", "--link", "far=0:rtt(10ms)"]);
    let upstream = server.next_line();
    assert!(
        upstream.starts_with("upstream listening on http://127.0.0.1:"),
        "{upstream}"
    );
    let line = server.next_line();
    let url = line
        .strip_prefix("link far listening on ")
        .unwrap_or_else(|| panic!("{line:?}"));
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let res = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(res.status(), 200);
    let _ = server.child.kill();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mock-api"))
        .args(["--listen", "127.0.0.1:0", "--database"])
        .arg(format!("sqlite://{}", db.display()))
        .args(["--link", "far=0:rtt(fast)"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--link") && err.contains("rtt(fast)"), "{err}");
}
