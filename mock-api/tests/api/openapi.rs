//! /openapi.json: an OpenAPI 3 document that matches the routes the server has.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn the_document_lists_exactly_the_served_operations_and_their_statuses() {
    let app = spawn_app_with(3).await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let mut ops: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    ops.sort();
    let expected = [
        ("get", "/__admin/behaviour"),
        ("get", "/__admin/stats"),
        ("get", "/__admin/slow"),
        ("get", "/__admin/queries"),
        ("post", "/__admin/reset"),
        ("put", "/__admin/behaviour"),
        ("delete", "/api/missions/{id}"),
        ("get", "/api/missions"),
        ("get", "/api/missions/{id}"),
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("get", "/readyz"),
        ("post", "/api/missions"),
        ("put", "/api/missions/{id}/waypoints/{wp_id}"),
    ];
    let mut expected = expected.map(|(m, p)| (m.to_owned(), p.to_owned())).to_vec();
    expected.sort();
    assert_eq!(ops, expected);

    // Each documented operation, called, answers with a documented status,
    // and each documented status is one the server can give.
    let documented = |method: &str, path: &str| -> Vec<u16> {
        doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.parse().unwrap())
            .collect()
    };
    let calls: Vec<(&str, &str, reqwest::RequestBuilder)> = vec![
        (
            "get",
            "/api/missions/{id}",
            app.client.get(app.url("/api/missions/MISSION-0001")),
        ),
        (
            "get",
            "/api/missions/{id}",
            app.client.get(app.url("/api/missions/MISSION-0999")),
        ),
        (
            "get",
            "/api/missions",
            app.client.get(app.url("/api/missions?status=active")),
        ),
        (
            "get",
            "/api/missions",
            app.client.get(app.url("/api/missions?status=nope")),
        ),
        (
            "put",
            "/api/missions/{id}/waypoints/{wp_id}",
            app.client
                .put(app.url("/api/missions/MISSION-0001/waypoints/wp-001"))
                .header("content-type", "application/json")
                .body(r#"{"lat":1,"lon":1}"#),
        ),
        (
            "put",
            "/api/missions/{id}/waypoints/{wp_id}",
            app.client
                .put(app.url("/api/missions/MISSION-0001/waypoints/wp-001"))
                .header("content-type", "application/json")
                .header("if-match", "\"1\"")
                .body(r#"{"lat":1,"lon":1}"#),
        ),
        (
            "post",
            "/api/missions",
            app.client
                .post(app.url("/api/missions"))
                .header("content-type", "application/json")
                .body("{}"),
        ),
        (
            "delete",
            "/api/missions/{id}",
            app.client.delete(app.url("/api/missions/MISSION-0003")),
        ),
        ("get", "/healthz", app.client.get(app.url("/healthz"))),
        ("get", "/readyz", app.client.get(app.url("/readyz"))),
        (
            "get",
            "/__admin/stats",
            app.client.get(app.url("/__admin/stats")),
        ),
        (
            "get",
            "/__admin/behaviour",
            app.client.get(app.url("/__admin/behaviour")),
        ),
        (
            "put",
            "/__admin/behaviour",
            app.client
                .put(app.url("/__admin/behaviour"))
                .json(&serde_json::json!({})),
        ),
        (
            "post",
            "/__admin/reset",
            app.client.post(app.url("/__admin/reset")),
        ),
        ("get", "/metrics", app.client.get(app.url("/metrics"))),
        (
            "get",
            "/__admin/slow",
            app.client
                .get(app.url("/__admin/slow?trace_id=0af7651916cd43dd8448eb211c80319c")),
        ),
        (
            "get",
            "/__admin/queries",
            app.client.get(app.url("/__admin/queries")),
        ),
    ];
    for (method, path, req) in calls {
        let status = req.send().await.unwrap().status();
        assert!(
            documented(method, path).contains(&status.as_u16()),
            "{method} {path} answered {status}, not documented"
        );
    }
    assert!(documented("put", "/api/missions/{id}/waypoints/{wp_id}")
        .contains(&StatusCode::PAYLOAD_TOO_LARGE.as_u16()));

    // Schemas the responses use are defined.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "Mission",
        "Waypoint",
        "MissionSummary",
        "MissionPage",
        "Problem",
        "WaypointUpdate",
        "Status",
        "Region",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    let status_enum: Vec<&str> = schemas["Status"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        status_enum,
        ["draft", "planned", "active", "completed", "aborted"]
    );
}
