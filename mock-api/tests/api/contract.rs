//! What Schemathesis found against /openapi.json (`scripts/contract.sh`,
//! run by CI), each kept as a regression test: the document and the
//! handlers must agree, both ways, on every request below.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_with, TestApp};

async fn document(app: &TestApp) -> Value {
    app.get("/openapi.json").await.json().await.unwrap()
}

fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
}

fn mission_body(name: &str, priority: Value) -> Value {
    json!({
        "name": name, "status": "planned", "region": "CENTCOM", "priority": priority,
        "commander": "Col. Test", "unit": "Test Wing",
        "waypoints": [{"lat": 1.0, "lon": 2.0}]
    })
}

/// Found: a non-entity-tag `If-Match` got 400 while the document allowed any
/// string; then `If-Match: null` (the header was typed string-or-null);
/// then an empty `If-Match`, which the generator treats as valid.
#[tokio::test]
async fn if_match_is_documented_as_the_handlers_read_it() {
    let app = spawn_app_with(3).await;
    let doc = document(&app).await;
    for (path, method) in [
        ("/api/missions/{id}", "delete"),
        ("/api/missions/{id}/waypoints/{wp_id}", "put"),
    ] {
        let schema = &parameter(&doc, path, method, "If-Match")["schema"];
        assert_eq!(schema["type"], "string", "{method} {path}: never null");
        assert_eq!(schema["pattern"], r#"^(|\*|(W/)?"[0-9]{1,18}")$"#);
    }
    let put = |if_match: &'static str| {
        app.client
            .put(app.url("/api/missions/MISSION-0001/waypoints/wp-001"))
            .header("content-type", "application/json")
            .header("if-match", if_match)
            .body(r#"{"lat": 1, "lon": 1}"#)
            .send()
    };
    assert_eq!(
        put("").await.unwrap().status(),
        StatusCode::OK,
        "empty: no condition"
    );
    assert_problem(put("null").await.unwrap(), StatusCode::BAD_REQUEST).await;
    assert_problem(put("TRO\"'7P9").await.unwrap(), StatusCode::BAD_REQUEST).await;
    assert_problem(put("\"+2\"").await.unwrap(), StatusCode::BAD_REQUEST).await;
    // A well-formed but stale tag is a state, not a form: 412.
    assert_problem(put("\"1\"").await.unwrap(), StatusCode::PRECONDITION_FAILED).await;
}

/// Found: `status` and `region` were documented as any string, so
/// `status=<unicode>` got a 422 the document did not predict.
#[tokio::test]
async fn search_parameters_are_enums_ranges_and_patterns() {
    let app = spawn_app_with(3).await;
    let doc = document(&app).await;
    let schema = |name| parameter(&doc, "/api/missions", "get", name)["schema"].clone();
    let status = schema("status");
    let status = serde_json::to_string(&status).unwrap();
    assert!(status.contains("#/components/schemas/Status"), "{status}");
    let limit = schema("limit");
    assert_eq!(
        (limit["minimum"].as_i64(), limit["maximum"].as_i64()),
        (Some(1), Some(500))
    );
    assert!(schema("cursor")["pattern"].is_string());
    // Present but empty is not absent: `status=` names no status.
    for query in ["status=", "region=", "limit=", "cursor="] {
        assert_problem(
            app.get(&format!("/api/missions?{query}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // Found: a ten-digit cursor matched the id pattern but overflowed the parser;
    // ids now stop at nine digits, in the pattern and in the parser alike.
    assert_problem(
        app.get("/api/missions?cursor=MISSION-6360806077").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let res = app.get("/api/missions?cursor=MISSION-999999999").await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// Found: an empty `name` got 422 while the document allowed any string;
/// then `"priority": 5.0`, an integer to JSON Schema, got 422.
#[tokio::test]
async fn mission_bodies_are_documented_as_the_handlers_read_them() {
    let app = spawn_app_with(3).await;
    let doc = document(&app).await;
    let props = &doc["components"]["schemas"]["NewMissionBody"]["properties"];
    assert_eq!(props["name"]["minLength"], 1);
    assert_eq!(props["name"]["maxLength"], 200);
    assert_eq!(props["priority"]["minimum"], 1);
    assert_eq!(props["waypoints"]["minItems"], 1);
    let post = |body: Value| app.client.post(app.url("/api/missions")).json(&body).send();
    assert_problem(
        post(mission_body("", json!(2))).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_problem(
        post(mission_body(" \u{3000} ", json!(2))).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let res = post(mission_body("Integral float", json!(5.0)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["priority"], 5);
    assert_problem(
        post(mission_body("Fraction", json!(2.5))).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Numbers written as strings are not numbers.
    let mut body = mission_body("String lat", json!(2));
    body["waypoints"][0]["lat"] = json!("1.5");
    assert_problem(post(body).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
}

/// Found by its warnings: no stateful test reached an existing resource.
/// Links from a created or read mission now name the operations on it.
#[tokio::test]
async fn links_carry_ids_from_one_call_to_the_next() {
    let app = spawn_app_with(3).await;
    let doc = document(&app).await;
    let created = &doc["paths"]["/api/missions"]["post"]["responses"]["201"]["links"];
    for (link, op) in [
        ("GetMission", "get_mission"),
        ("UpdateFirstWaypoint", "update_waypoint"),
        ("DeleteMission", "delete_mission"),
    ] {
        assert_eq!(created[link]["operationId"], op, "{link}");
    }
    assert_eq!(
        created["UpdateFirstWaypoint"]["parameters"]["wp_id"],
        "$response.body#/waypoints/0/id"
    );
    let id = parameter(&doc, "/api/missions/{id}", "get", "id");
    assert_eq!(
        id["example"], "MISSION-0001",
        "an example that hits seeded data"
    );
    let res = app.get("/api/missions/MISSION-0001").await;
    assert_eq!(res.status(), StatusCode::OK);
}
