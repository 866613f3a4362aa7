//! The server's side of a traced request: `/__admin/slow` keeps slow
//! requests with the trace id of their `traceparent` and their
//! statements; `/__admin/queries` lists each statement kind with SQLite's
//! plan for it, which `missing-index` turns from an index search into a scan.

use serde_json::Value;

use crate::helpers::{spawn_app_configured, TestApp};

async fn json(app: &TestApp, path: &str) -> Value {
    app.get(path).await.json().await.unwrap()
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test]
async fn a_slow_request_is_kept_with_its_trace_id_and_statements() {
    let app = spawn_app_configured(|c| {
        c.missions = 5;
        c.latency = vec!["get_mission=fixed(60)".into()];
        c.slow_request_ms = 50;
    })
    .await;
    let res = app
        .client
        .get(app.url("/api/missions/MISSION-0001"))
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap();
    // Untraced, and fast (search has no added latency): not a trace, not kept.
    app.get("/api/missions/MISSION-0002")
        .await
        .bytes()
        .await
        .unwrap();
    app.get("/api/missions?limit=2")
        .await
        .bytes()
        .await
        .unwrap();

    let all: Value = json(&app, "/__admin/slow").await;
    assert_eq!(all["threshold_ms"], 50);
    let requests = all["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "{all}");
    assert_eq!(requests[0]["trace_id"], TRACE_ID);
    assert!(requests[1]["trace_id"].is_null(), "{all}");
    let one: Value = json(&app, &format!("/__admin/slow?trace_id={TRACE_ID}")).await;
    let r = &one["requests"][0];
    assert_eq!(one["requests"].as_array().unwrap().len(), 1);
    assert_eq!(r["route"], "get_mission");
    assert_eq!(r["status"], 200);
    assert!(r["ms"].as_f64().unwrap() >= 60.0, "{r}");
    assert_eq!(r["queries"], 2);
    assert_eq!(r["statements"][0]["kind"], "mission_read");
    assert_eq!(r["statements"][0]["statements"], 2);
}

/// `mission_read`'s plan lines.
async fn read_plan(app: &TestApp) -> String {
    let q: Value = json(app, "/__admin/queries").await;
    let read = q["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "mission_read")
        .unwrap_or_else(|| panic!("no mission_read in {q}"))
        .clone();
    assert!(read["calls"].as_u64().unwrap() >= 1);
    assert_eq!(read["sql"].as_array().unwrap().len(), 2);
    read["plans"].to_string()
}

#[tokio::test]
async fn the_query_plan_shows_the_index_and_its_absence() {
    let app = spawn_app_configured(|c| c.missions = 5).await;
    app.get("/api/missions/MISSION-0001")
        .await
        .bytes()
        .await
        .unwrap();
    let plan = read_plan(&app).await;
    assert!(
        plan.contains("SEARCH waypoints USING COVERING INDEX"),
        "{plan}"
    );
    assert!(!plan.contains("SCAN waypoints"), "{plan}");

    let slow = spawn_app_configured(|c| {
        c.missions = 5;
        c.emulate = vec!["missing-index".into()];
    })
    .await;
    slow.get("/api/missions/MISSION-0001")
        .await
        .bytes()
        .await
        .unwrap();
    let plan = read_plan(&slow).await;
    assert!(plan.contains("SCAN waypoints"), "{plan}");
}
