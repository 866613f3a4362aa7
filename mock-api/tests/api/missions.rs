//! Mission read, create, delete, health, and the shapes of errors.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn get_mission_returns_the_seeded_mission_with_ordered_waypoints_and_etag() {
    let app = spawn_app().await;
    let expected = seed_data::mission(42, 1);

    let res = app.get("/api/missions/MISSION-0001").await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["etag"],
        format!("\"{}\"", expected.summary.version)
    );
    let body: seed_data::Mission = res.json().await.unwrap();
    assert_eq!(body, expected);
    assert_eq!(body.waypoints[0].id.to_string(), "wp-001");
}

#[tokio::test]
async fn the_last_seeded_mission_exists_and_the_next_does_not() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/missions/MISSION-1000").await.status(), 200);
    let detail = assert_problem(
        app.get("/api/missions/MISSION-1001").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(detail.contains("MISSION-1001"), "{detail}");
}

#[tokio::test]
async fn malformed_mission_ids_are_404_with_the_expected_form() {
    let app = spawn_app().await;
    for id in ["MISSION-1", "mission-0001", "42", "MISSION-0000"] {
        let detail = assert_problem(
            app.get(&format!("/api/missions/{id}")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert!(detail.contains("MISSION-0001"), "{id}: {detail}");
    }
}

fn new_mission() -> Value {
    json!({
        "name": "Operation Test Harbor",
        "status": "planned",
        "region": "EUCOM",
        "priority": 2,
        "commander": "Col. Ada Lovelace",
        "unit": "1st Test Battalion",
        "waypoints": [
            {"lat": 50.1, "lon": 8.6},
            {"name": "Objective", "lat": 50.2, "lon": 8.7, "alt_m": 1200.0}
        ]
    })
}

#[tokio::test]
async fn create_returns_201_with_location_and_the_mission_reads_back() {
    let app = spawn_app_with(10).await;

    let res = app
        .client
        .post(app.url("/api/missions"))
        .json(&new_mission())
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["location"], "/api/missions/MISSION-0011");
    assert_eq!(res.headers()["etag"], "\"1\"");
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["id"], "MISSION-0011");
    assert_eq!(created["waypoints"][0]["id"], "wp-001");
    assert_eq!(created["waypoints"][0]["name"], "WP-1");
    assert_eq!(created["waypoints"][1]["alt_m"], 1200.0);
    let read = app.mission("MISSION-0011").await;
    assert_eq!(read, created);
}

#[tokio::test]
async fn create_rejects_invalid_fields_with_422_naming_the_field() {
    let app = spawn_app_with(5).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut m = new_mission();
                m["priority"] = json!(9);
                m
            },
            "priority",
        ),
        (
            {
                let mut m = new_mission();
                m["status"] = json!("paused");
                m
            },
            "status",
        ),
        (
            {
                let mut m = new_mission();
                m["region"] = json!("MOON");
                m
            },
            "region",
        ),
        (
            {
                let mut m = new_mission();
                m["name"] = json!("   ");
                m
            },
            "name",
        ),
        (
            {
                let mut m = new_mission();
                m["waypoints"] = json!([]);
                m
            },
            "waypoints",
        ),
        (
            {
                let mut m = new_mission();
                m["waypoints"][1]["lat"] = json!(-91);
                m
            },
            "waypoints[1].lat",
        ),
        (
            {
                let mut m = new_mission();
                m.as_object_mut().unwrap().remove("unit");
                m
            },
            "unit",
        ),
    ];
    for (body, field) in cases {
        let res = app
            .client
            .post(app.url("/api/missions"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let detail = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(detail.contains(field), "{field}: {detail}");
    }
    // Nothing was created by the rejected requests.
    assert_eq!(app.get("/api/missions/MISSION-0006").await.status(), 404);
}

#[tokio::test]
async fn create_rejects_malformed_json_and_wrong_content_type() {
    let app = spawn_app_with(5).await;
    let res = app
        .client
        .post(app.url("/api/missions"))
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST).await;
    let res = app
        .client
        .post(app.url("/api/missions"))
        .body(new_mission().to_string())
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[tokio::test]
async fn delete_returns_204_then_the_mission_is_gone_and_ids_are_not_reused() {
    let app = spawn_app_with(10).await;

    let res = app
        .client
        .delete(app.url("/api/missions/MISSION-0010"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get("/api/missions/MISSION-0010").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let res = app
        .client
        .delete(app.url("/api/missions/MISSION-0010"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND).await;
    // Its waypoints went with it: the id is not reused and no orphan rows answer.
    let res = app
        .put_json(
            "/api/missions/MISSION-0010/waypoints/wp-001",
            r#"{"lat":1,"lon":1}"#,
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND).await;
    let res = app
        .client
        .post(app.url("/api/missions"))
        .json(&new_mission())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/api/missions/MISSION-0011");
}

#[tokio::test]
async fn delete_honours_if_match() {
    let app = spawn_app_with(3).await;
    let version = app.mission("MISSION-0002").await["version"]
        .as_i64()
        .unwrap();
    let res = app
        .client
        .delete(app.url("/api/missions/MISSION-0002"))
        .header("if-match", format!("\"{}\"", version + 1))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::PRECONDITION_FAILED).await;
    let res = app
        .client
        .delete(app.url("/api/missions/MISSION-0002"))
        .header("if-match", format!("\"{version}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app_with(1).await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ok");
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app_with(1).await;
    assert_problem(app.get("/api/nope").await, StatusCode::NOT_FOUND).await;
    let res = app
        .client
        .patch(app.url("/api/missions/MISSION-0001"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET,HEAD,DELETE");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn internal_failures_are_a_generic_500_without_internal_text() {
    let app = spawn_app_with(5).await;
    // Corrupt one stored row behind the server's back.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.db_path.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE missions SET created_at = 'not-a-time' WHERE id = 3")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let detail = assert_problem(
        app.get("/api/missions/MISSION-0003").await,
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .await;

    for leaked in ["not-a-time", "created_at", "stored", "sqlite", "SELECT"] {
        assert!(!detail.contains(leaked), "{leaked} leaked: {detail}");
    }
}
