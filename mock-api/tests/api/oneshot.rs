//! The router without a socket (`tower::ServiceExt::oneshot` on
//! `mock_api::app`): every error maps to the right problem+json status,
//! and every route of the registry is served, with its behaviour and its
//! truth.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use mock_api::route::Route;
use mock_api::{app, Application, Config};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The router of a freshly built application (1000 missions, seed 42) and
/// the folder holding its database.
async fn router(adjust: impl FnOnce(&mut Config)) -> (Router, tempfile::TempDir) {
    crate::helpers::init_logs();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(&dir.path().join("oneshot.db"));
    adjust(&mut config);
    let application = Application::build(&config).await.unwrap();
    (app(application.state().clone()), dir)
}

/// Sends one request; returns the status, content type and body.
async fn send(
    router: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router
        .clone()
        .oneshot(req.body(body.into()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, ct, bytes.to_vec())
}

const JSON: (&str, &str) = ("content-type", "application/json");

/// A request (method, path, headers, body) and the status it must get.
type Case<'a> = (Method, &'a str, Vec<(&'a str, &'a str)>, String, StatusCode);

#[tokio::test]
async fn every_error_is_problem_json_with_its_status() {
    let (r, _dir) = router(|_| {}).await;
    let wp = "/api/missions/MISSION-0001/waypoints/wp-001";
    let big = format!(
        "{{\"lat\": 1, \"lon\": 1, \"pad\": \"{}\"}}",
        "x".repeat(70_000)
    );
    let cases: Vec<Case> = vec![
        (Method::GET, "/nowhere", vec![], String::new(), StatusCode::NOT_FOUND),
        (Method::PATCH, "/api/missions/MISSION-0001", vec![], String::new(), StatusCode::METHOD_NOT_ALLOWED),
        (Method::GET, "/api/missions/MISSION-9999", vec![], String::new(), StatusCode::NOT_FOUND),
        (Method::GET, "/api/missions/not-an-id", vec![], String::new(), StatusCode::NOT_FOUND),
        (Method::GET, "/api/missions?status=flying", vec![], String::new(), StatusCode::UNPROCESSABLE_ENTITY),
        (Method::GET, "/api/missions?limit=0", vec![], String::new(), StatusCode::UNPROCESSABLE_ENTITY),
        (Method::PUT, wp, vec![JSON], "{\"lat\": ".into(), StatusCode::BAD_REQUEST),
        (Method::PUT, wp, vec![], "{\"lat\": 1, \"lon\": 1}".into(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (Method::PUT, wp, vec![JSON], "{\"lat\": 91, \"lon\": 1}".into(), StatusCode::UNPROCESSABLE_ENTITY),
        (Method::PUT, wp, vec![JSON], big, StatusCode::PAYLOAD_TOO_LARGE),
        (Method::PUT, wp, vec![JSON, ("if-match", "three")], "{\"lat\": 1, \"lon\": 1}".into(), StatusCode::BAD_REQUEST),
        (Method::PUT, wp, vec![JSON, ("if-match", "\"999\"")], "{\"lat\": 1, \"lon\": 1}".into(), StatusCode::PRECONDITION_FAILED),
        (Method::PUT, "/api/missions/MISSION-0001/waypoints/wp-999", vec![JSON], "{\"lat\": 1, \"lon\": 1}".into(), StatusCode::NOT_FOUND),
        (Method::POST, "/api/missions", vec![JSON], json!({"name": "", "status": "draft", "region": "EUCOM", "priority": 1, "commander": "c", "unit": "u", "waypoints": [{"lat": 1, "lon": 1}]}).to_string(), StatusCode::UNPROCESSABLE_ENTITY),
        (Method::DELETE, "/api/missions/MISSION-0002", vec![("if-match", "\"7\"")], String::new(), StatusCode::PRECONDITION_FAILED),
        (Method::PUT, "/__admin/behaviour", vec![JSON], "{}".into(), StatusCode::NOT_FOUND),
        (Method::POST, "/__admin/reset", vec![], String::new(), StatusCode::NOT_FOUND),
    ];
    for (method, uri, headers, body, want) in cases {
        let what = format!("{method} {uri}");
        let (status, ct, bytes) = send(&r, method, uri, &headers, body).await;
        assert_eq!(status, want, "{what}: {}", String::from_utf8_lossy(&bytes));
        assert_eq!(ct, "application/problem+json", "{what}");
        let problem: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(problem["status"], want.as_u16(), "{what}");
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{what}");
    }
}

#[tokio::test]
async fn admin_writes_demand_the_configured_token() {
    let (r, _dir) = router(|c| c.admin_token = Some("s3cret".into())).await;
    for auth in [None, Some("Bearer wrong")] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        let (status, ct, _) = send(&r, Method::POST, "/__admin/reset", &headers, "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(ct, "application/problem+json");
    }
    let auth = [("authorization", "Bearer s3cret"), JSON];
    let (status, ct, _) = send(
        &r,
        Method::PUT,
        "/__admin/behaviour",
        &auth,
        "{\"faults\": [{\"route\": \"nowhere\", \"kind\": \"503\", \"probability\": 1}]}",
    )
    .await;
    assert_eq!(
        (status, ct.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "application/problem+json")
    );
    let (status, _, _) = send(&r, Method::POST, "/__admin/reset", &auth[..1], "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// A concrete request for each route of the registry.
fn request_for(route: Route) -> (String, String) {
    let path = route
        .path()
        .replace("{id}", "MISSION-0003")
        .replace("{wp_id}", "wp-001");
    let body = match route {
        Route::UpdateWaypoint => json!({"lat": 1.5, "lon": 2.5}).to_string(),
        Route::CreateMission => json!({"name": "Op", "status": "draft", "region": "EUCOM", "priority": 2, "commander": "c", "unit": "u", "waypoints": [{"lat": 1, "lon": 1}]}).to_string(),
        _ => String::new(),
    };
    (path, body)
}

#[tokio::test]
async fn every_route_in_the_registry_is_served_with_behaviour_and_counted_in_the_truth() {
    // Every route answers 503 by behaviour: only a route behind the
    // behaviour layer does; the handlers never run.
    let (r, _dir) = router(|c| c.fault = vec!["all=503:1".into()]).await;
    for route in Route::ALL {
        let (path, body) = request_for(route);
        let (status, _, _) = send(&r, route.method(), &path, &[JSON], body).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{route:?}: no behaviour"
        );
    }
    // Without faults each route's handler answers (not the router's 404 or
    // 405), and the truth counts one request per route.
    let (r, _dir) = router(|_| {}).await;
    for route in Route::ALL {
        let (path, body) = request_for(route);
        let (status, _, bytes) = send(&r, route.method(), &path, &[JSON], body).await;
        assert!(
            status.is_success(),
            "{route:?} {path}: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let (_, _, stats) = send(&r, Method::GET, "/__admin/stats", &[], "").await;
    let stats: Value = serde_json::from_slice(&stats).unwrap();
    assert_eq!(stats["routes"].as_object().unwrap().len(), Route::COUNT);
    for route in Route::ALL {
        let s = &stats["routes"][route.name()];
        assert_eq!(s["count"], 1, "{route:?} not counted: {s}");
        assert_eq!(s["method"], route.method().as_str());
        assert_eq!(s["path"], route.path());
    }
}
