//! Liveness (`/healthz`) and readiness (`/readyz`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::error::Error;
use crate::state::AppState;
use crate::store::StoreError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` (process up) or `ready` (database answers).
    pub status: &'static str,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process is up; touches nothing else.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database answers a read and would accept a write (a probe insert,
/// rolled back).
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "The database answers reads and accepts writes", body = Health),
        (status = 503, description = "The database does not answer, or answers reads but refuses writes (full, read-only, I/O): the detail says which", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, Error> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = ?e, "readiness check failed");
        Error::Busy
    })?;
    state.store.probe_writes().await.map_err(|e| match e {
        StoreError::Storage(_) => Error::from(e),
        other => {
            tracing::warn!(error = ?other, "write probe failed");
            Error::Busy
        }
    })?;
    Ok(Json(Health { status: "ready" }))
}
