//! `/openapi.json`: the OpenAPI 3 document, generated from the handlers'
//! annotations and the domain types, so it follows the code.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;

use crate::routes::{admin, health, missions};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Mission planning API (mock-api)",
        description = "A known target for HTTP load testing: missions and waypoints on SQLite. \
                       Every error is application/problem+json (RFC 9457)."
    ),
    paths(
        missions::get_mission,
        missions::update_waypoint,
        missions::search_missions,
        missions::create_mission,
        missions::delete_mission,
        health::healthz,
        health::readyz,
        admin::get_behaviour,
        admin::put_behaviour,
        admin::reset,
        admin::stats,
        admin::metrics,
    ),
    components(schemas(crate::error::Problem, seed_data::Status, seed_data::Region)),
    tags(
        (name = "missions", description = "Missions and their waypoints"),
        (name = "health", description = "Liveness and readiness"),
        (name = "admin", description = "Behaviour (latency, faults, emulated causes) and ground truth"),
    )
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
});

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}
