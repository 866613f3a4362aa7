//! PUT /api/missions/{id}/waypoints/{wp_id}: updates, validation, If-Match,
//! and that concurrent writes lose nothing.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

const WP1: &str = "/api/missions/MISSION-0001/waypoints/wp-001";

#[tokio::test]
async fn update_moves_the_waypoint_and_bumps_version_and_updated_at() {
    let app = spawn_app_with(5).await;
    let before = app.mission("MISSION-0001").await;

    let res = app
        .put_json(WP1, r#"{"lat": 38.8977, "lon": -77.0365, "alt_m": 150}"#)
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let version = before["version"].as_i64().unwrap() + 1;
    assert_eq!(res.headers()["etag"], format!("\"{version}\""));
    let wp: Value = res.json().await.unwrap();
    assert_eq!(wp["id"], "wp-001");
    assert_eq!(wp["lat"], 38.8977);
    assert_eq!(wp["lon"], -77.0365);
    assert_eq!(wp["alt_m"], 150.0);
    let after = app.mission("MISSION-0001").await;
    assert_eq!(after["version"], version);
    assert_eq!(after["waypoints"][0], wp);
    assert!(after["updated_at"].as_str().unwrap() > before["updated_at"].as_str().unwrap());
    // Other waypoints are untouched.
    assert_eq!(after["waypoints"][1], before["waypoints"][1]);
}

#[tokio::test]
async fn update_without_alt_keeps_the_altitude() {
    let app = spawn_app_with(5).await;
    app.put_json(WP1, r#"{"lat": 1, "lon": 2, "alt_m": 999}"#)
        .await;
    let wp: Value = app
        .put_json(WP1, r#"{"lat": 3, "lon": 4}"#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wp["alt_m"], 999.0);
    assert_eq!(wp["lat"], 3.0);
}

#[tokio::test]
async fn unknown_mission_or_waypoint_is_404() {
    let app = spawn_app_with(5).await;
    let body = r#"{"lat": 1, "lon": 2}"#;
    let d = assert_problem(
        app.put_json("/api/missions/MISSION-0099/waypoints/wp-001", body)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(d.contains("MISSION-0099"), "{d}");
    let d = assert_problem(
        app.put_json("/api/missions/MISSION-0001/waypoints/wp-999", body)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(d.contains("wp-999"), "{d}");
    assert_problem(
        app.put_json("/api/missions/MISSION-0001/waypoints/wp-1", body)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn a_404_for_a_missing_waypoint_does_not_bump_the_version() {
    let app = spawn_app_with(2).await;
    let before = app.mission("MISSION-0002").await["version"].clone();
    app.put_json(
        "/api/missions/MISSION-0002/waypoints/wp-999",
        r#"{"lat":1,"lon":1}"#,
    )
    .await;
    assert_eq!(app.mission("MISSION-0002").await["version"], before);
}

#[tokio::test]
async fn out_of_range_or_non_finite_coordinates_are_422_naming_the_field() {
    let app = spawn_app_with(2).await;
    let before = app.mission("MISSION-0001").await;
    for (body, field) in [
        (r#"{"lat": 90.0001, "lon": 0}"#, "lat"),
        (r#"{"lat": -91, "lon": 0}"#, "lat"),
        (r#"{"lat": 0, "lon": 180.5}"#, "lon"),
        (r#"{"lat": 0, "lon": -181}"#, "lon"),
        (r#"{"lat": "NaN", "lon": 0}"#, "lat"),
        (r#"{"lat": 0, "lon": "inf"}"#, "lon"),
        (r#"{"lat": null, "lon": 0}"#, "lat"),
        (r#"{"lat": 0, "lon": 0, "alt_m": -20000}"#, "alt_m"),
        (r#"{"lat": true, "lon": 0}"#, "lat"),
        (r#"{"lon": 0}"#, "lat"),
    ] {
        let detail = assert_problem(
            app.put_json(WP1, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(detail.contains(field), "{body}: {detail}");
    }
    assert_eq!(
        app.mission("MISSION-0001").await,
        before,
        "rejected writes changed nothing"
    );
}

#[tokio::test]
async fn malformed_json_is_400_and_a_bare_nan_is_malformed_json() {
    let app = spawn_app_with(1).await;
    for body in [
        r#"{"lat": 1, "lon": "#,
        "not json",
        r#"{"lat": NaN, "lon": 0}"#,
    ] {
        assert_problem(app.put_json(WP1, body).await, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = spawn_app_with(1).await;
    let body = format!(
        r#"{{"lat": 1, "lon": 2, "pad": "{}"}}"#,
        "x".repeat(64 * 1024)
    );
    assert_problem(
        app.put_json(WP1, &body).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    // Just under the limit is fine.
    let body = format!(
        r#"{{"lat": 1, "lon": 2, "pad": "{}"}}"#,
        "x".repeat(60 * 1024)
    );
    assert_eq!(app.put_json(WP1, &body).await.status(), 200);
}

#[tokio::test]
async fn if_match_with_the_current_version_succeeds_and_a_stale_one_is_412() {
    let app = spawn_app_with(1).await;
    let res = app.get("/api/missions/MISSION-0001").await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let body = r#"{"lat": 10, "lon": 10}"#;

    let res = app
        .client
        .put(app.url(WP1))
        .header("content-type", "application/json")
        .header("if-match", &etag)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let new_etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);

    // The old ETag is now stale.
    let res = app
        .client
        .put(app.url(WP1))
        .header("content-type", "application/json")
        .header("if-match", &etag)
        .body(r#"{"lat": 20, "lon": 20}"#)
        .send()
        .await
        .unwrap();
    let detail = assert_problem(res, StatusCode::PRECONDITION_FAILED).await;
    assert!(detail.contains("version"), "{detail}");
    assert_eq!(
        app.mission("MISSION-0001").await["waypoints"][0]["lat"],
        10.0
    );

    let res = app
        .client
        .put(app.url(WP1))
        .header("content-type", "application/json")
        .header("if-match", "not-a-tag")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app_with(1).await;
    let res = app
        .client
        .put(app.url(WP1))
        .body(r#"{"lat": 1, "lon": 1}"#)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

/// Many concurrent PUTs to distinct waypoints: every 200 answered reads
/// back with the value written, and each mission's version grew by exactly
/// its number of successful writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_to_distinct_waypoints_lose_nothing() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let app = Arc::new(spawn_app().await);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    // Missions 1..=40, waypoints wp-001..wp-003 of each: 120 distinct targets.
    let mut targets = Vec::new();
    for m in 1..=40u32 {
        for w in 1..=3u32 {
            let lat: f64 = rng.random_range(-89.0..89.0);
            let lon: f64 = rng.random_range(-179.0..179.0);
            targets.push((m, w, lat, lon));
        }
    }
    let mut versions = std::collections::HashMap::new();
    for m in 1..=40u32 {
        let v = app.mission(&format!("MISSION-{m:04}")).await["version"]
            .as_i64()
            .unwrap();
        versions.insert(m, v);
    }

    let tasks: Vec<_> = targets
        .iter()
        .map(|&(m, w, lat, lon)| {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                let body = json!({"lat": lat, "lon": lon}).to_string();
                let res = app
                    .put_json(
                        &format!("/api/missions/MISSION-{m:04}/waypoints/wp-{w:03}"),
                        &body,
                    )
                    .await;
                res.status()
            })
        })
        .collect();
    let mut ok = 0;
    for (t, &(m, w, lat, lon)) in tasks.into_iter().zip(&targets) {
        let status = t.await.unwrap();
        assert!(status == 200 || status == 503, "unexpected {status}");
        if status == 200 {
            ok += 1;
            let mission = app.mission(&format!("MISSION-{m:04}")).await;
            let wp = &mission["waypoints"][(w - 1) as usize];
            assert_eq!(wp["lat"].as_f64().unwrap(), lat, "MISSION-{m:04} wp-{w:03}");
            assert_eq!(wp["lon"].as_f64().unwrap(), lon, "MISSION-{m:04} wp-{w:03}");
        }
    }
    assert_eq!(ok, targets.len(), "every write was answered 200");
    for m in 1..=40u32 {
        let v = app.mission(&format!("MISSION-{m:04}")).await["version"]
            .as_i64()
            .unwrap();
        assert_eq!(v, versions[&m] + 3, "MISSION-{m:04} version");
    }
}

/// Writes that arrive together share a commit (group commit): many PUTs
/// at once, all with the same If-Match, mixed with PUTs to a waypoint that
/// does not exist and plain PUTs to another mission. Exactly one
/// conditional write wins and the rest are 412; every failed write is
/// rolled back alone (each mission's version grows by exactly its writes
/// answered 200, whatever they shared a transaction with). The plain PUTs
/// go to another mission: on the same one, a plain PUT committed first
/// would leave no conditional write able to win.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_sharing_a_commit_keep_if_match_and_roll_back_alone() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let app = Arc::new(spawn_app().await);
    let mission = "/api/missions/MISSION-0003";
    let res = app.client.get(app.url(mission)).send().await.unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let before = res.json::<Value>().await.unwrap()["version"]
        .as_i64()
        .unwrap();
    let other_before = app.mission("MISSION-0004").await["version"]
        .as_i64()
        .unwrap();

    let tasks: Vec<_> = (0..60u32)
        .map(|i| {
            let app = Arc::clone(&app);
            let etag = etag.clone();
            tokio::spawn(async move {
                let body = json!({"lat": f64::from(i) / 10.0, "lon": 1.0}).to_string();
                let (target, wp, if_match) = match i % 3 {
                    0 => (mission, "wp-001", Some(etag)),
                    1 => (mission, "wp-999", None),
                    _ => ("/api/missions/MISSION-0004", "wp-002", None),
                };
                let mut req = app
                    .client
                    .put(app.url(&format!("{target}/waypoints/{wp}")))
                    .header("content-type", "application/json")
                    .body(body);
                if let Some(tag) = if_match {
                    req = req.header("if-match", tag);
                }
                (i % 3, req.send().await.unwrap().status().as_u16())
            })
        })
        .collect();
    let mut by_kind = [Vec::new(), Vec::new(), Vec::new()];
    for t in tasks {
        let (kind, status) = t.await.unwrap();
        by_kind[kind as usize].push(status);
    }
    let count = |v: &[u16], s: u16| v.iter().filter(|x| **x == s).count();
    assert_eq!(
        count(&by_kind[0], 200),
        1,
        "one If-Match winner: {:?}",
        by_kind[0]
    );
    assert_eq!(count(&by_kind[0], 412), 19, "{:?}", by_kind[0]);
    assert_eq!(count(&by_kind[1], 404), 20, "{:?}", by_kind[1]);
    assert_eq!(count(&by_kind[2], 200), 20, "{:?}", by_kind[2]);
    let after = app.mission("MISSION-0003").await["version"]
        .as_i64()
        .unwrap();
    assert_eq!(
        after,
        before + 1,
        "only the If-Match winner bumped the version; the 404s rolled back"
    );
    let other_after = app.mission("MISSION-0004").await["version"]
        .as_i64()
        .unwrap();
    assert_eq!(other_after, other_before + 20, "every plain write counted");
}
