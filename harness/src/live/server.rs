//! The live listener. In: a bound socket and the shared [`LiveExport`].
//! Out: `GET /metrics` (OpenMetrics text, which Prometheus scrapes),
//! `GET /live.json` (the live state) and `GET /` (the dashboard page,
//! self-contained: no script, font or style fetched from elsewhere).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::LiveExport;

const DASHBOARD: &str = include_str!("dashboard.html");
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `export` on `listener` until `stop` resolves (its sender dropped).
pub(super) fn spawn(
    listener: tokio::net::TcpListener,
    export: Arc<LiveExport>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let app = Router::new()
        .route("/", get(dashboard))
        .route("/metrics", get(metrics))
        .route("/live.json", get(live))
        .with_state(export);
    tokio::spawn(async move {
        let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop.await;
        });
        if let Err(e) = serving.await {
            tracing::warn!("the metrics listener stopped: {e}");
        }
    });
}

async fn dashboard() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], DASHBOARD)
}

async fn metrics(State(export): State<Arc<LiveExport>>) -> impl IntoResponse {
    ([(CONTENT_TYPE, OPENMETRICS)], export.encode())
}

async fn live(State(export): State<Arc<LiveExport>>) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "no-store"),
        ],
        export.state_json(),
    )
}
