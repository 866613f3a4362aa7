//! The emulated upstream "airspace deconfliction" service: a small HTTP
//! server on 127.0.0.1 (a free port) started by mock-api itself, whose
//! latency follows the behaviour's `dependency_latency` and which serves
//! at most `dependency_concurrency` calls at once (the others wait). With
//! `slow-dependency` on, every mission read calls it over loopback; its
//! address is printed at start and shown in `GET /__admin/behaviour`, so
//! a load test can load it directly too (compound stress).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::behaviour::SharedBehaviour;
use crate::delay::Delayer;
use crate::error::Error;
use crate::truth;

#[derive(Debug, Clone)]
struct UpstreamState {
    behaviour: SharedBehaviour,
    calls: Arc<AtomicU64>,
    delayer: Delayer,
}

#[derive(Debug, Deserialize)]
struct DeconflictQuery {
    mission: Option<String>,
}

async fn deconflict(
    State(s): State<UpstreamState>,
    Query(q): Query<DeconflictQuery>,
) -> Json<serde_json::Value> {
    let k = s.calls.fetch_add(1, Ordering::Relaxed);
    // With a ceiling, calls wait their turn first, then take their time.
    let gate = s.behaviour.dependency_gate();
    let _admitted = match &gate {
        Some(g) => g.acquire().await.ok(),
        None => None,
    };
    let start = Instant::now();
    let delay = s.behaviour.current().dependency_delay(k);
    s.delayer.until(start + delay).await;
    Json(serde_json::json!({"mission": q.mission, "conflicts": 0, "cleared": true}))
}

/// A client of the upstream service, and the server behind it.
#[derive(Debug, Clone)]
pub struct Upstream {
    base: String,
    client: reqwest::Client,
}

impl Upstream {
    /// Starts the upstream server on 127.0.0.1:0 (it stops with the runtime).
    pub async fn start(behaviour: SharedBehaviour, delayer: Delayer) -> Result<Self, Error> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(Error::io("cannot start the upstream service"))?;
        let addr = listener
            .local_addr()
            .map_err(Error::io("upstream address"))?;
        let app = Router::new()
            .route("/deconflict", get(deconflict))
            .with_state(UpstreamState {
                behaviour,
                calls: Arc::default(),
                delayer,
            });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Internal(format!("upstream client: {e}")))?;
        Ok(Self {
            base: format!("http://{addr}"),
            client,
        })
    }

    /// The upstream service's base URL (`http://127.0.0.1:PORT`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Asks the upstream service to deconflict a mission's airspace; counted
    /// as an upstream call of the request being served.
    pub async fn deconflict(&self, mission: &str) -> Result<(), Error> {
        use tracing::Instrument;
        let start = Instant::now();
        let span = tracing::debug_span!("upstream", call = "deconflict");
        let res = self
            .client
            .get(format!("{}/deconflict", self.base))
            .query(&[("mission", mission)])
            .send()
            .instrument(span)
            .await;
        let res = match res {
            Ok(r) => r.bytes().await.map(|_| ()),
            Err(e) => Err(e),
        };
        truth::count_upstream(start.elapsed());
        res.map_err(Error::Upstream)
    }
}
