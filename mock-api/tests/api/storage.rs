//! Storage faults: the database stops accepting writes (full, read-only)
//! while the server runs. Writes it refuses are 503 problem+json, reads go
//! on, `/readyz` says which condition holds, and clearing it brings writes
//! back without a restart and without losing an acknowledged write.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_configured, TestApp};

const TOKEN: &str = "storage-test-token";

async fn app() -> TestApp {
    spawn_app_configured(|c| {
        c.missions = 50;
        c.admin_token = Some(TOKEN.into());
    })
    .await
}

async fn set_storage(app: &TestApp, fault: &str) {
    let res = app
        .client
        .put(app.url("/__admin/behaviour"))
        .bearer_auth(TOKEN)
        .json(&json!({"storage": fault}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "PUT storage {fault}");
}

async fn create(app: &TestApp, name: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/missions"))
        .json(&json!({
            "name": name, "status": "planned", "region": "EUCOM", "priority": 3,
            "commander": "Col. Disk", "unit": "Storage Wing",
            "waypoints": [{"lat": 1.0, "lon": 1.0, "name": "x".repeat(90)}, {"lat": 2.0, "lon": 2.0}]
        }))
        .send()
        .await
        .unwrap()
}

/// Creates a mission and returns its id (the write must be acknowledged).
async fn created(app: &TestApp, name: &str) -> String {
    let res = create(app, name).await;
    assert_eq!(res.status(), StatusCode::CREATED, "create {name}");
    let body: Value = res.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn reads_still_work(app: &TestApp) {
    assert_eq!(app.get("/api/missions/MISSION-0001").await.status(), 200);
    assert_eq!(
        app.get("/api/missions?status=active&limit=5")
            .await
            .status(),
        200
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
}

async fn all_read_back(app: &TestApp, acknowledged: &[(String, String)]) {
    for (id, name) in acknowledged {
        assert_eq!(app.mission(id).await["name"], name.as_str(), "{id}");
    }
}

#[tokio::test]
async fn a_read_only_database_refuses_writes_serves_reads_and_recovers() {
    let app = app().await;
    let mut acknowledged = vec![];
    let id = created(&app, "before read-only").await;
    acknowledged.push((id, "before read-only".to_owned()));
    assert_eq!(app.get("/readyz").await.status(), 200);

    let version_before = app.mission("MISSION-0002").await["version"].clone();
    set_storage(&app, "read-only").await;
    let detail = assert_problem(
        create(&app, "refused").await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(detail.contains("read-only"), "{detail}");
    let res = app
        .put_json(
            "/api/missions/MISSION-0002/waypoints/wp-001",
            r#"{"lat": 5, "lon": 5}"#,
        )
        .await;
    assert_eq!(res.headers()["retry-after"], "1");
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    let res = app
        .client
        .delete(app.url("/api/missions/MISSION-0003"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    reads_still_work(&app).await;
    let detail = assert_problem(app.get("/readyz").await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(detail.contains("read-only"), "readyz: {detail}");
    // The refused writes left nothing behind.
    assert_eq!(app.mission("MISSION-0002").await["version"], version_before);
    assert_eq!(app.get("/api/missions/MISSION-0003").await.status(), 200);

    set_storage(&app, "none").await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let id = created(&app, "after read-only").await;
    acknowledged.push((id, "after read-only".to_owned()));
    all_read_back(&app, &acknowledged).await;
}

#[tokio::test]
async fn a_full_database_refuses_growing_writes_serves_reads_and_recovers() {
    let app = app().await;
    let mut acknowledged = vec![];
    set_storage(&app, "full").await;
    // Writes that fit in the pages the file already has still land; the
    // first one that needs a new page is refused.
    let mut refused = None;
    for i in 0..500 {
        let name = format!("while full {i}");
        let res = create(&app, &name).await;
        if res.status() == StatusCode::CREATED {
            let body: Value = res.json().await.unwrap();
            acknowledged.push((body["id"].as_str().unwrap().to_owned(), name));
        } else {
            refused = Some(assert_problem(res, StatusCode::SERVICE_UNAVAILABLE).await);
            break;
        }
    }
    let detail = refused.expect("a create was refused within 500 while full");
    assert!(detail.contains("full"), "{detail}");
    reads_still_work(&app).await;
    let detail = assert_problem(app.get("/readyz").await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(detail.contains("full"), "readyz: {detail}");

    set_storage(&app, "none").await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    for i in 0..20 {
        let name = format!("after full {i}");
        let id = created(&app, &name).await;
        acknowledged.push((id, name));
    }
    all_read_back(&app, &acknowledged).await;
    let stats: Value = app.get("/__admin/stats").await.json().await.unwrap();
    assert_eq!(
        stats["missions"].as_u64().unwrap() as usize,
        50 + acknowledged.len(),
        "only acknowledged creates are in the database"
    );
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test]
async fn the_storage_fault_is_a_flag_and_a_behaviour_field() {
    let app = spawn_app_configured(|c| {
        c.missions = 5;
        c.storage_fault = Some("read-only".to_owned());
    })
    .await;
    assert_problem(create(&app, "x").await, StatusCode::SERVICE_UNAVAILABLE).await;
    let behaviour: Value = app.get("/__admin/behaviour").await.json().await.unwrap();
    assert_eq!(behaviour["storage"], "read-only");
    let mut config = mock_api::Config::ephemeral(std::path::Path::new("x.db"));
    config.storage_fault = Some("melted".to_owned());
    let err = config.behaviour().unwrap_err().to_string();
    assert!(
        err.contains("--storage-fault") && err.contains("melted"),
        "{err}"
    );
}
