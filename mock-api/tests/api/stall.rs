//! The stall: requests reaching a handler inside a window wait until it
//! closes, and at a constant arrival rate the server's own quantiles follow
//! the documented arithmetic.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_configured, EXCLUSIVE};

/// The stall's expected quantile `q` (seconds of waiting) at a constant
/// arrival rate: a share s/e of arrivals wait Uniform(0, s].
fn expected_wait(q: f64, s: f64, e: f64) -> f64 {
    let share = s / e;
    if q <= 1.0 - share {
        0.0
    } else {
        s * (q - (1.0 - share)) / share
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_a_constant_rate_the_server_sees_the_documented_stall_quantiles() {
    let _exclusive = EXCLUSIVE.lock().await;
    // A stall of 500 ms every 2 s: a quarter of arrivals wait.
    let app = spawn_app_configured(|c| c.stall = Some("2s:500ms".into())).await;
    let url = app.url("/api/missions/MISSION-0001");
    // 100 arrivals a second for 4 s (two whole periods), each on its own
    // task so that none waits for another (an open model).
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..400u32 {
        let at = start + Duration::from_millis(u64::from(i) * 10);
        tokio::time::sleep_until(at.into()).await;
        let (client, url) = (app.client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let res = client.get(url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.bytes().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stats: Value = app.get("/__admin/stats").await.json().await.unwrap();
    let route = &stats["routes"]["get_mission"];
    assert_eq!(route["count"], 400);
    for (field, q) in [("p95_ms", 0.95), ("p99_ms", 0.99)] {
        let want = expected_wait(q, 0.5, 2.0) * 1000.0;
        let got = route[field].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 0.1 * want + 5.0,
            "{field}: server {got:.1} ms, expected {want:.1} ms"
        );
    }
    let p50 = route["p50_ms"].as_f64().unwrap();
    assert!(
        p50 < 50.0,
        "three quarters of arrivals do not wait: p50 {p50}"
    );
    assert!(route["max_ms"].as_f64().unwrap() <= 520.0);
}

#[tokio::test]
async fn the_admin_api_sets_and_shows_the_stall_and_refuses_a_bad_one() {
    let app = spawn_app_configured(|c| c.admin_token = Some("t".into())).await;
    let put = |body: Value| {
        app.client
            .put(app.url("/__admin/behaviour"))
            .bearer_auth("t")
            .json(&body)
            .send()
    };
    let res = put(json!({"stall": {"every": "10s", "for": "1s", "phase": "0s"}}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let shown: Value = app.get("/__admin/behaviour").await.json().await.unwrap();
    assert_eq!(shown["stall"]["every"], "10s");
    assert_eq!(shown["stall"]["for"], "1s");
    let res = put(json!({"stall": {"every": "1s", "for": "2s"}}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail: Value = res.json().await.unwrap();
    assert!(
        detail["detail"].as_str().unwrap().contains("stall"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_request_inside_a_window_waits_until_it_closes() {
    // Windows of 300 ms every 400 ms: whenever a request arrives, it is
    // either in one (and waits for its end) or not (and does not wait).
    let app = spawn_app_configured(|c| c.stall = Some("400ms:300ms".into())).await;
    let mut waited = 0;
    for _ in 0..8 {
        let t = Instant::now();
        let res = app.get("/api/missions/MISSION-0002").await;
        assert_eq!(res.status(), StatusCode::OK);
        let took = t.elapsed();
        assert!(took <= Duration::from_millis(450), "{took:?}");
        waited += usize::from(took >= Duration::from_millis(5));
        tokio::time::sleep(Duration::from_millis(137)).await;
    }
    assert!(waited >= 2, "some requests fell in a window: {waited}");
}
