//! `/__admin/*` and `/metrics`: the behaviour in force, the ground-truth
//! statistics, and the Prometheus exposition. Reading is open; writing
//! exists only when an admin token was configured, and demands it.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::behaviour::Behaviour;
use crate::error::{Error, Problem};
use crate::extract::AppJson;
use crate::state::AppState;
use crate::truth::{rss_bytes, Snapshot};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__admin/behaviour", get(get_behaviour).put(put_behaviour))
        .route("/__admin/reset", post(reset))
        .route("/__admin/stats", get(stats))
        .route("/metrics", get(metrics))
        .route("/__admin/slow", get(super::evidence::slow))
        .route("/__admin/queries", get(super::evidence::queries))
}

/// Without a configured token the writing endpoints do not exist (404);
/// with one, a missing or wrong bearer token is 401.
fn authorize(state: &AppState, headers: &HeaderMap, what: &str) -> Result<(), Error> {
    let Some(token) = &state.admin_token else {
        return Err(Error::RouteNotFound(format!(
            "{what} (start mock-api with --admin-token to enable it)"
        )));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if constant_time_eq(g.as_bytes(), token.expose().as_bytes()) => Ok(()),
        _ => Err(Error::Unauthorized),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The behaviour in force.
#[utoipa::path(get, path = "/__admin/behaviour", tag = "admin",
    responses((status = 200, description = "Latency, faults and emulated causes in force", body = serde_json::Value)))]
pub async fn get_behaviour(State(state): State<AppState>) -> Json<Behaviour> {
    Json((*state.behaviour.current()).clone())
}

/// Replaces the behaviour (draw counts restart, so a replay repeats them).
#[utoipa::path(put, path = "/__admin/behaviour", tag = "admin",
    request_body = serde_json::Value,
    responses(
        (status = 200, description = "The behaviour now in force", body = serde_json::Value),
        (status = 401, description = "Missing or wrong bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No admin token configured", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid behaviour", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_behaviour(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<AppJson<Behaviour>, Error>,
) -> Result<Json<Behaviour>, Error> {
    authorize(&state, &headers, "PUT /__admin/behaviour")?;
    let AppJson(mut behaviour) = body?;
    behaviour.validate().map_err(Error::Unprocessable)?;
    behaviour.upstream = Some(state.upstream.base().to_owned());
    for (name, spec) in &mut behaviour.links {
        match state.links.get(name) {
            Some(&port) if spec.port == 0 || spec.port == port => spec.port = port,
            Some(&port) => {
                return Err(Error::Unprocessable(format!(
                    "links.{name}: the link listens on port {port} and cannot move (0 or {port})"
                )))
            }
            None => {
                return Err(Error::Unprocessable(format!(
                    "links.{name}: no such link is open; links open at start-up (--link or the behaviour file), the admin API changes their parameters only"
                )))
            }
        }
    }
    if behaviour.storage != state.store.storage_fault() {
        state.store.set_storage_fault(behaviour.storage).await?;
    }
    state.behaviour.replace(behaviour.clone());
    tracing::info!(?behaviour, "behaviour replaced");
    Ok(Json(behaviour))
}

/// Resets the statistics (the window of `/__admin/stats` starts now).
#[utoipa::path(post, path = "/__admin/reset", tag = "admin",
    responses(
        (status = 204, description = "Statistics reset"),
        (status = 401, description = "Missing or wrong bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No admin token configured", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reset(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, Error> {
    authorize(&state, &headers, "POST /__admin/reset")?;
    state.truth.reset();
    state.store.evidence.reset();
    Ok(StatusCode::NO_CONTENT)
}

/// Exact statistics since start or the last reset, with histograms.
#[utoipa::path(get, path = "/__admin/stats", tag = "admin",
    responses((status = 200, description = "Per-route service times, statuses, queries, upstream calls; RSS; missions", body = serde_json::Value)))]
pub async fn stats(State(state): State<AppState>) -> Result<Json<Snapshot>, Error> {
    let missions = state.store.mission_count().await?;
    Ok(Json(state.truth.snapshot(
        rss_bytes(),
        state.leak.total(),
        missions,
    )))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "admin",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, Error> {
    let missions = state.store.mission_count().await?;
    let text = state
        .truth
        .prometheus(rss_bytes(), state.leak.total(), missions);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
