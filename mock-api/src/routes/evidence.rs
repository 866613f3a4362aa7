//! `/__admin/slow` and `/__admin/queries`: the server's side of a slow
//! request and the database's own evidence. In: the store's
//! [`Evidence`](crate::truth::evidence::Evidence). Out: JSON: recent slow
//! requests with their trace ids and statements; each statement kind with
//! its count, times, SQL and SQLite's `EXPLAIN QUERY PLAN` for it.

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::state::AppState;
use crate::truth::evidence::{KindSummary, SlowEntry};

#[derive(Debug, Deserialize)]
pub struct SlowQuery {
    /// Only this trace id's request (32 lowercase hex digits).
    pub trace_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SlowList {
    /// Service time from which a request is kept (`--slow-request-ms`).
    pub threshold_ms: u64,
    /// Oldest first.
    pub requests: Vec<SlowEntry>,
}

/// Recent slow requests (service time at or over `--slow-request-ms`,
/// default 50), oldest first, with the trace id of their `traceparent`.
#[utoipa::path(get, path = "/__admin/slow", tag = "admin",
    params(("trace_id" = Option<String>, Query, description = "Only this trace id (32 lowercase hex digits)")),
    responses((status = 200, description = "Recent slow requests: trace id, route, status, time, queries and statements", body = serde_json::Value)))]
pub async fn slow(State(state): State<AppState>, Query(q): Query<SlowQuery>) -> Json<SlowList> {
    let evidence = &state.store.evidence;
    Json(SlowList {
        threshold_ms: evidence.slow_request_ms(),
        requests: evidence.slow(q.trace_id.as_deref()),
    })
}

#[derive(Debug, Serialize)]
pub struct ExplainedKind {
    #[serde(flatten)]
    pub kind: KindSummary,
    /// Per statement of `sql`: SQLite's plan lines (`SCAN missions`,
    /// `SEARCH waypoints USING COVERING INDEX ...`).
    pub plans: Vec<Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct QueryList {
    pub kinds: Vec<ExplainedKind>,
}

/// Each statement kind since the start (or the last reset): calls,
/// statements, times, its SQL as it last ran and SQLite's plan for it.
#[utoipa::path(get, path = "/__admin/queries", tag = "admin",
    responses((status = 200, description = "Statement kinds: count, time percentiles, SQL, EXPLAIN QUERY PLAN (a statement SQLite cannot plan says so in its place)", body = serde_json::Value)))]
pub async fn queries(State(state): State<AppState>) -> Json<QueryList> {
    let mut kinds = Vec::new();
    for kind in state.store.evidence.kinds() {
        let mut plans = Vec::new();
        for sql in &kind.sql {
            // One statement SQLite cannot plan leaves the others' plans shown.
            let plan = state
                .store
                .explain(sql)
                .unwrap_or_else(|e| vec![format!("(not explained: {e})")]);
            plans.push(plan);
        }
        kinds.push(ExplainedKind { kind, plans });
    }
    Json(QueryList { kinds })
}
