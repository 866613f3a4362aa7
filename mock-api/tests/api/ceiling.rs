//! A known capacity: `--concurrency ROUTE=N` lets a route serve at most N
//! requests at once; the others wait in arrival order, and the wait is part
//! of the service time the server measures.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{spawn_app_configured, EXCLUSIVE};

#[tokio::test]
async fn a_ceiling_of_4_at_50_ms_serves_at_most_80_requests_a_second() {
    let _exclusive = EXCLUSIVE.lock().await;
    let app = spawn_app_configured(|c| {
        c.missions = 5;
        c.latency = vec!["get_mission=fixed(50)".to_owned()];
        c.concurrency = vec!["get_mission=4".to_owned()];
    })
    .await;
    let client = reqwest::Client::new();
    let url = app.url("/api/missions/MISSION-0001");
    let started = Instant::now();
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (client, url) = (client.clone(), url.clone());
        requests.spawn(async move {
            let sent = Instant::now();
            let status = client.get(url).send().await.unwrap().status();
            (status, sent.elapsed())
        });
    }
    let mut waits = Vec::new();
    while let Some(done) = requests.join_next().await {
        let (status, took) = done.unwrap();
        assert_eq!(status, 200);
        waits.push(took);
    }
    let elapsed = started.elapsed();
    // 40 requests, 4 at a time, 50 ms each: ten waves, at least 500 ms
    // (80 requests/s); without the ceiling they would all take about 50 ms.
    assert!(
        elapsed >= Duration::from_millis(490),
        "40 requests in {elapsed:?}: more than 4 at once"
    );
    waits.sort();
    assert!(
        waits[39] >= Duration::from_millis(450),
        "the last waited {:?}",
        waits[39]
    );
    // The wait is part of the service time the server measures.
    let stats: Value = app.get("/__admin/stats").await.json().await.unwrap();
    let route = &stats["routes"]["get_mission"];
    assert_eq!(route["count"], 40);
    assert!(route["max_ms"].as_f64().unwrap() >= 450.0, "{route}");
    assert!(route["p50_ms"].as_f64().unwrap() >= 200.0, "{route}");
    // Other routes have no ceiling and no added latency.
    let t = Instant::now();
    assert_eq!(app.get("/api/missions?limit=5").await.status(), 200);
    assert!(t.elapsed() < Duration::from_millis(450));
    let behaviour: Value = app.get("/__admin/behaviour").await.json().await.unwrap();
    assert_eq!(behaviour["concurrency"]["get_mission"], 4);
}
