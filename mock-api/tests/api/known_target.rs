//! The known target: behaviour set by the user (latency, faults, emulated
//! causes), the admin API, and the server's own statistics.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_configured, TestApp};

pub(crate) const TOKEN: &str = "s3cret";

pub(crate) async fn stats(app: &TestApp) -> Value {
    let res = app.get("/__admin/stats").await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

pub(crate) async fn put_behaviour(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .put(app.url("/__admin/behaviour"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn reset(app: &TestApp) {
    let res = app
        .client
        .post(app.url("/__admin/reset"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn writing_admin_endpoints_are_404_without_a_token_and_401_without_the_right_one() {
    let open = spawn_app_configured(|c| c.missions = 1).await;
    assert_problem(
        open.client
            .put(open.url("/__admin/behaviour"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        open.client
            .post(open.url("/__admin/reset"))
            .bearer_auth("anything")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    // Reading stays open.
    assert_eq!(open.get("/__admin/behaviour").await.status(), 200);
    assert_eq!(open.get("/__admin/stats").await.status(), 200);

    let guarded = spawn_app_configured(|c| {
        c.missions = 1;
        c.admin_token = Some(TOKEN.into());
    })
    .await;
    let res = guarded
        .client
        .put(guarded.url("/__admin/behaviour"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_problem(res, StatusCode::UNAUTHORIZED).await;
    let res = guarded
        .client
        .put(guarded.url("/__admin/behaviour"))
        .bearer_auth("wrong")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED).await;
    let res = guarded
        .client
        .post(guarded.url("/__admin/reset"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED).await;
    assert_eq!(put_behaviour(&guarded, json!({})).await.status(), 200);
    reset(&guarded).await;
}

#[tokio::test]
async fn behaviour_is_read_replaced_and_validated() {
    let app = spawn_app_configured(|c| {
        c.missions = 1;
        c.admin_token = Some(TOKEN.into());
        c.latency = vec!["get_mission=fixed(5)".into()];
        c.emulate = vec!["n-plus-one".into()];
        c.behaviour_seed = Some(3);
    })
    .await;
    let b: Value = app.get("/__admin/behaviour").await.json().await.unwrap();
    assert_eq!(b["latency"]["get_mission"], "fixed(5)");
    assert_eq!(b["emulate"], json!(["n-plus-one"]));
    assert_eq!(b["seed"], 3);

    let res = put_behaviour(&app, json!({"latency": {"all": "uniform(1,2)"}, "faults": [{"route": "search_missions", "kind": "503", "probability": 0.5}]})).await;
    assert_eq!(res.status(), 200);
    let b: Value = app.get("/__admin/behaviour").await.json().await.unwrap();
    assert_eq!(b["latency"], json!({"all": "uniform(1,2)"}));
    assert_eq!(b["emulate"], json!([]));

    for (bad, field) in [
        (json!({"latency": {"everywhere": "fixed(1)"}}), "everywhere"),
        (json!({"latency": {"all": "fixed(-3)"}}), "fixed(-3)"),
        (
            json!({"faults": [{"route": "all", "kind": "418", "probability": 0.1}]}),
            "418",
        ),
        (
            json!({"faults": [{"route": "all", "kind": "503", "probability": 2.0}]}),
            "probability",
        ),
        (json!({"emulate": ["gremlins"]}), "gremlins"),
    ] {
        let detail = assert_problem(
            put_behaviour(&app, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(detail.contains(field), "{field}: {detail}");
    }
}

#[tokio::test]
async fn fixed_latency_shows_in_the_servers_own_service_time() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let app = spawn_app_configured(|c| {
        c.missions = 10;
        c.latency = vec!["get_mission=fixed(50)".into()];
    })
    .await;
    for i in 1..=20 {
        assert_eq!(
            app.get(&format!("/api/missions/MISSION-{:04}", i % 10 + 1))
                .await
                .status(),
            200
        );
    }
    let s = stats(&app).await;
    let r = &s["routes"]["get_mission"];
    assert_eq!(r["count"], 20);
    let p50 = r["p50_ms"].as_f64().unwrap();
    assert!((50.0..=52.0).contains(&p50), "server p50 {p50}");
    assert_eq!(r["statuses"]["200"], 20);
    assert_eq!(
        s["routes"]["search_missions"]["count"], 0,
        "other routes untouched"
    );
}

#[tokio::test]
async fn n_plus_one_makes_a_mission_read_one_query_per_waypoint() {
    let app = spawn_app_configured(|c| {
        c.missions = 5;
        c.admin_token = Some(TOKEN.into());
    })
    .await;
    let waypoints = seed_data::mission(42, 3).waypoints.len() as f64;
    let plain: Value = app.mission("MISSION-0003").await;
    let s = stats(&app).await;
    // The mission row and its waypoints: two statements in one transaction.
    assert_eq!(s["routes"]["get_mission"]["db_queries_per_request"], 2.0);

    put_behaviour(&app, json!({"emulate": ["n-plus-one"]})).await;
    reset(&app).await;
    let slow: Value = app.mission("MISSION-0003").await;
    assert_eq!(slow, plain, "the same answer, by another path");
    let s = stats(&app).await;
    assert_eq!(
        s["routes"]["get_mission"]["db_queries_per_request"],
        1.0 + waypoints
    );
    assert_eq!(
        s["routes"]["get_mission"]["count"], 1,
        "reset started a new window"
    );
}

#[tokio::test]
async fn missing_index_keeps_answers_the_same() {
    let app = spawn_app_configured(|c| {
        c.missions = 300;
        c.emulate = vec!["missing-index".into()];
    })
    .await;
    let page: Value = app
        .get("/api/missions?status=active&region=CENTCOM&limit=500")
        .await
        .json()
        .await
        .unwrap();
    let expected = seed_data::Generator::new(42, 300)
        .filter(|m| {
            m.summary.status == seed_data::Status::Active
                && m.summary.region == seed_data::Region::Centcom
        })
        .count();
    assert_eq!(page["missions"].as_array().unwrap().len(), expected);
    assert_eq!(page["total"], expected);
    assert_eq!(
        app.mission("MISSION-0007").await["waypoints"]
            .as_array()
            .unwrap()
            .len(),
        seed_data::mission(42, 7).waypoints.len()
    );
    let res = app
        .put_json(
            "/api/missions/MISSION-0007/waypoints/wp-002",
            r#"{"lat": 1, "lon": 2}"#,
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn slow_dependency_calls_the_upstream_on_each_mission_read() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let app = spawn_app_configured(|c| {
        c.missions = 5;
        c.emulate = vec!["slow-dependency".into()];
        c.dependency_latency = Some("fixed(30)".into());
    })
    .await;
    for _ in 0..10 {
        app.mission("MISSION-0002").await;
    }
    let s = stats(&app).await;
    let r = &s["routes"]["get_mission"];
    let upstream = r["upstream_ms_per_request"].as_f64().unwrap();
    assert!(
        (30.0..=40.0).contains(&upstream),
        "upstream {upstream} ms per request"
    );
    assert!(r["p50_ms"].as_f64().unwrap() >= 30.0);
    assert_eq!(
        s["routes"]["search_missions"]["upstream_ms_per_request"],
        0.0
    );
}

#[tokio::test]
async fn status_faults_answer_problems_and_503_says_when_to_retry() {
    let app = spawn_app_configured(|c| {
        c.missions = 2;
        c.fault = vec![
            "search_missions=503:1".into(),
            "delete_mission=500:1".into(),
        ];
    })
    .await;
    let res = app.get("/api/missions").await;
    assert_eq!(res.headers()["retry-after"], "1");
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    let res = app
        .client
        .delete(app.url("/api/missions/MISSION-0001"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::INTERNAL_SERVER_ERROR).await;
    // The fault stood in for the handler: the mission is still there.
    assert_eq!(app.get("/api/missions/MISSION-0001").await.status(), 200);
    let s = stats(&app).await;
    assert_eq!(s["routes"]["search_missions"]["statuses"]["503"], 1);
    assert_eq!(s["routes"]["delete_mission"]["statuses"]["500"], 1);
}

#[tokio::test]
async fn a_reset_fault_drops_the_connection_before_any_response() {
    let app = spawn_app_configured(|c| {
        c.missions = 2;
        c.fault = vec!["get_mission=reset:1".into()];
    })
    .await;
    let err = app
        .client
        .get(app.url("/api/missions/MISSION-0001"))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    // The server still serves other routes.
    assert_eq!(app.get("/healthz").await.status(), 200);
    // The truth counts it as what it was: a request with no response, not
    // the 500 its handler's stand-in carried.
    let s = stats(&app).await;
    let route = &s["routes"]["get_mission"];
    assert_eq!(s["schema_version"], 3);
    assert_eq!(route["count"], 1);
    assert_eq!(route["no_response"]["reset"], 1, "{route}");
    assert_eq!(route["statuses"], serde_json::json!({}), "{route}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let line = "mockapi_http_requests_unanswered_total{route=\"get_mission\",reason=\"reset\"} 1";
    assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    assert!(!metrics.contains("status=\"500\""), "{metrics}");
}

#[tokio::test]
async fn dribble_spreads_the_real_body_over_the_given_time() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let app = spawn_app_configured(|c| {
        c.missions = 2;
        c.fault = vec!["get_mission=dribble(400):1".into()];
    })
    .await;
    let started = Instant::now();
    let res = app.get("/api/missions/MISSION-0002").await;
    assert_eq!(res.status(), 200);
    let body: seed_data::Mission = res.json().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(body, seed_data::mission(42, 2));
    let s = stats(&app).await;
    assert!(
        s["routes"]["get_mission"]["p50_ms"].as_f64().unwrap() >= 400.0,
        "service time counts the dribble"
    );
}

#[tokio::test]
async fn hang_holds_the_request_until_the_client_gives_up() {
    let app = spawn_app_configured(|c| {
        c.missions = 2;
        c.fault = vec!["get_mission=hang:1".into()];
    })
    .await;
    let err = app
        .client
        .get(app.url("/api/missions/MISSION-0001"))
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_the_documented_names() {
    let app = spawn_app_configured(|c| c.missions = 3).await;
    for _ in 0..3 {
        app.get("/api/missions/MISSION-0001").await;
    }
    app.get("/api/missions?status=active").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    for line in [
        "# TYPE mockapi_http_request_duration_seconds histogram",
        "mockapi_http_requests_total{route=\"get_mission\",status=\"200\"} 3",
        "mockapi_http_request_duration_seconds_count{route=\"get_mission\"} 3",
        "mockapi_http_request_duration_seconds_bucket{route=\"get_mission\",le=\"+Inf\"} 3",
        "mockapi_db_queries_total{route=\"get_mission\"} 6",
        "mockapi_db_queries_total{route=\"search_missions\"} 2",
        "mockapi_missions 3",
        "# TYPE mockapi_process_resident_memory_bytes gauge",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[tokio::test]
async fn latency_and_faults_replay_with_the_same_seed() {
    let mut seen = Vec::new();
    for _ in 0..2 {
        let app = spawn_app_configured(|c| {
            c.missions = 2;
            c.fault = vec!["get_mission=503:0.3".into()];
            c.behaviour_seed = Some(11);
        })
        .await;
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(
                app.get("/api/missions/MISSION-0001")
                    .await
                    .status()
                    .as_u16(),
            );
        }
        seen.push(statuses);
    }
    assert_eq!(seen[0], seen[1]);
    let faults = seen[0].iter().filter(|s| **s == 503).count();
    assert!((4..=20).contains(&faults), "{faults} of 40");
}
