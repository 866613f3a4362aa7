//! GET /api/missions: filters, keyset pagination, parameter validation.

use std::collections::HashSet;

use reqwest::StatusCode;
use seed_data::{Generator, Region, Status};
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app};

async fn page(app: &crate::helpers::TestApp, query: &str) -> Value {
    let res = app.get(&format!("/api/missions?{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_seed_documents_search_returns_every_active_centcom_mission_across_pages() {
    let app = spawn_app().await;
    let expected: Vec<String> = Generator::new(42, 1000)
        .filter(|m| m.summary.status == Status::Active && m.summary.region == Region::Centcom)
        .map(|m| m.summary.id.to_string())
        .collect();
    assert!(expected.len() >= 30);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("status=active&region=CENTCOM&limit=20&cursor={c}"),
            None => "status=active&region=CENTCOM&limit=20".to_owned(),
        };
        let body = page(&app, &q).await;
        let missions = body["missions"].as_array().unwrap();
        assert!(missions.len() <= 20);
        for m in missions {
            assert_eq!(m["status"], "active");
            assert_eq!(m["region"], "CENTCOM");
            assert!(m.get("waypoints").is_none(), "summaries have no waypoints");
            assert!(m["waypoint_count"].as_u64().unwrap() >= 3);
            seen.push(m["id"].as_str().unwrap().to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, expected, "all rows, in id order, no duplicates");
}

#[tokio::test]
async fn default_limit_is_50_and_max_is_500() {
    let app = spawn_app().await;
    let body = page(&app, "").await;
    assert_eq!(body["missions"].as_array().unwrap().len(), 50);
    assert_eq!(body["next_cursor"], "MISSION-0050");
    let body = page(&app, "limit=500").await;
    assert_eq!(body["missions"].as_array().unwrap().len(), 500);
    let body = page(&app, "limit=500&cursor=MISSION-0500").await;
    assert_eq!(body["missions"].as_array().unwrap().len(), 500);
    assert!(body["next_cursor"].is_null(), "the last page has no cursor");
}

#[tokio::test]
async fn single_filters_work_and_pages_do_not_overlap() {
    let app = spawn_app().await;
    let mut ids = HashSet::new();
    let mut cursor = String::new();
    let mut total = 0;
    loop {
        // The first page has no cursor (an empty `cursor=` is not a cursor).
        let query = match cursor.as_str() {
            "" => "region=EUCOM&limit=37".to_owned(),
            c => format!("region=EUCOM&limit=37&cursor={c}"),
        };
        let body = page(&app, &query).await;
        for m in body["missions"].as_array().unwrap() {
            assert_eq!(m["region"], "EUCOM");
            assert!(ids.insert(m["id"].as_str().unwrap().to_owned()));
            total += 1;
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let expected = Generator::new(42, 1000)
        .filter(|m| m.summary.region == Region::Eucom)
        .count();
    assert_eq!(total, expected);
    let body = page(&app, "status=draft&limit=500").await;
    let expected = Generator::new(42, 1000)
        .filter(|m| m.summary.status == Status::Draft)
        .count();
    assert_eq!(body["missions"].as_array().unwrap().len(), expected);
}

#[tokio::test]
async fn unknown_values_and_bad_parameters_are_422_not_an_empty_list() {
    let app = spawn_app().await;
    for (query, field) in [
        ("status=paused", "status"),
        ("region=MOON", "region"),
        ("region=centcom", "region"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("cursor=MISSION-1", "cursor"),
        ("count=some", "count"),
        ("count=", "count"),
    ] {
        let detail = assert_problem(
            app.get(&format!("/api/missions?{query}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(detail.contains(field), "{query}: {detail}");
    }
}

#[tokio::test]
async fn a_malformed_query_string_is_400() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/api/missions?status=active&status=draft").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn the_total_is_counted_as_asked_and_says_whether_it_is_exact() {
    let app = spawn_app().await;
    let expected = Generator::new(42, 1000)
        .filter(|m| m.summary.status == Status::Active && m.summary.region == Region::Centcom)
        .count() as u64;
    let q = "status=active&region=CENTCOM&limit=5";
    // At 1,000 missions every count is under the bound: exact either way.
    for count in ["", "&count=bounded", "&count=exact"] {
        let body = page(&app, &format!("{q}{count}")).await;
        assert_eq!(body["total"].as_u64(), Some(expected), "{count}");
        assert_eq!(body["total_exact"], true, "{count}");
    }
    let body = page(&app, &format!("{q}&count=none")).await;
    assert!(body["total"].is_null(), "{body}");
    assert_eq!(body["total_exact"], false);
    assert_eq!(body["missions"].as_array().unwrap().len(), 5);
}
