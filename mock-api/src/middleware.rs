//! The layer every API route goes through. In: a request to a known route
//! (the router gives each route its own layer). Out: the response, with
//! behaviour applied around the handler (added latency, a fault, the
//! causes' effects handed to the handler, the leak) and ground truth
//! recorded around all of it (service time to the last body byte, status,
//! database and upstream work).
//!
//! The behaviour in force is read once per request, here. The added
//! latency is waited on the precise timer thread before the handler runs:
//! it holds no database connection and no worker thread.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

use crate::behaviour::fault::{self, HANG_FOR};
use crate::behaviour::{Decision, FaultKind};
use crate::link::LinkName;
use crate::listener::ConnReset;
use crate::route::Route;
use crate::state::AppState;
use crate::truth::evidence::{parse_traceparent, trace_id_hex, Evidence, SlowEntry, StatementTime};
use crate::truth::{Answer, NoResponse, Observation, RequestCounters, Truth, COUNTERS};

/// What the layer of one route holds.
#[derive(Debug, Clone)]
pub struct RouteLayer {
    pub state: AppState,
    pub route: Route,
}

/// Records the observation when the response body is dropped: after its
/// last byte was handed to the connection, or when the client went away.
struct RecordOnDrop {
    truth: Arc<Truth>,
    observation: Observation,
    start: Instant,
    /// The emulated link the request came through, if any.
    link: Option<LinkName>,
    /// Where slow requests are kept, with the request's trace id and statements.
    evidence: Arc<Evidence>,
    trace_id: Option<u128>,
    statements: Vec<StatementTime>,
}

impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        let mut o = self.observation;
        o.elapsed = self.start.elapsed();
        self.truth.record(o);
        if self.evidence.is_slow(o.elapsed) {
            self.evidence.keep(SlowEntry {
                trace_id: self.trace_id.map(trace_id_hex),
                route: o.route.name(),
                status: match o.answer {
                    Answer::Status(s) => Some(s),
                    Answer::None(_) => None,
                },
                ms: o.elapsed.as_micros() as f64 / 1000.0,
                at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                queries: o.work.db_queries,
                db_ms: o.work.db_us as f64 / 1000.0,
                upstream_calls: o.work.upstream_calls,
                statements: std::mem::take(&mut self.statements),
            });
        }
        if let Some(link) = &self.link {
            self.truth.link_request(&link.0, o.elapsed);
        }
    }
}

pin_project_lite::pin_project! {
    struct TimedBody {
        #[pin]
        inner: Body,
        guard: RecordOnDrop,
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

pub async fn behaviour_and_truth(
    State(layer): State<RouteLayer>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let RouteLayer { state, route } = layer;
    let behaviour = state.behaviour.current();
    let decision = behaviour.decide(route, state.behaviour.next_draw(route));
    let reset = decision.fault == Some(FaultKind::Reset);
    let gate = state.behaviour.gate(route);
    let truth = Arc::clone(&state.truth);
    let link = req.extensions().get::<LinkName>().cloned();
    let trace_id = req
        .headers()
        .get("traceparent")
        .and_then(|v| parse_traceparent(v.as_bytes()));
    let evidence = Arc::clone(&state.store.evidence);
    let counters = RequestCounters {
        trace_id: std::cell::Cell::new(trace_id),
        ..RequestCounters::default()
    };
    let (res, counters, statements) = COUNTERS
        .scope(counters, async move {
            let res = decision
                .effects
                .scope(serve(&state, decision, gate, start, req, next))
                .await;
            let statements = COUNTERS.with(|c| c.statements.take());
            (res, COUNTERS.with(RequestCounters::get), statements)
        })
        .await;
    let (parts, body) = res.into_parts();
    let guard = RecordOnDrop {
        truth,
        observation: Observation {
            route,
            // A reset sends no status line: its client saw none.
            answer: match reset {
                true => Answer::None(NoResponse::Reset),
                false => Answer::Status(parts.status.as_u16()),
            },
            elapsed: Duration::ZERO,
            work: counters,
        },
        start,
        link,
        evidence,
        trace_id,
        statements,
    };
    Response::from_parts(parts, Body::new(TimedBody { inner: body, guard }))
}

/// The request served as decided: admitted by its route's gate (in
/// arrival order, when the route has a ceiling), delayed, leaking, and
/// answered by the handler or by the fault.
async fn serve(
    state: &AppState,
    decision: Decision,
    gate: Option<Arc<Semaphore>>,
    start: Instant,
    req: Request,
    next: Next,
) -> Response {
    // Held until the response is built. A closed gate (never: gates are
    // not closed) would admit the request.
    let (_admitted, served_from) = match gate {
        Some(gate) => {
            let permit = gate.acquire_owned().await.ok();
            (permit, Instant::now())
        }
        None => (None, start),
    };
    if let Some(delay) = decision.delay {
        // Counted from the request head (or, behind a ceiling, from its
        // admission), so the delay is what was asked for.
        state.delayer.until(served_from + delay).await;
    }
    if let Some(amount) = decision.effects.leak {
        state.leak.leak(amount);
        let pause = state.leak.pause(amount);
        if !pause.is_zero() {
            state.delayer.until(Instant::now() + pause).await;
        }
    }
    match decision.fault {
        None => {
            stall(state, decision).await;
            next.run(req).await
        }
        Some(FaultKind::Status500) => {
            fault::problem(StatusCode::INTERNAL_SERVER_ERROR, "injected fault: 500")
        }
        Some(FaultKind::Status503) => {
            fault::problem(StatusCode::SERVICE_UNAVAILABLE, "injected fault: 503")
        }
        Some(FaultKind::Reset) => {
            if let Some(ConnectInfo(reset)) = req.extensions().get::<ConnectInfo<ConnReset>>() {
                reset.trigger();
            }
            fault::broken()
        }
        Some(FaultKind::Hang) => {
            let mut shutdown = state.shutdown.clone();
            let _ = tokio::time::timeout(HANG_FOR, shutdown.wait_for(|stop| *stop)).await;
            fault::problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "injected fault: hang ended",
            )
        }
        Some(FaultKind::Dribble(ms)) => {
            stall(state, decision).await;
            fault::dribble(next.run(req).await, ms).await
        }
    }
}

/// Waits out the stall window the request is in, if any, before its handler.
async fn stall(state: &AppState, decision: Decision) {
    let Some(stall) = decision.stall else {
        return;
    };
    if let Some(ends) = stall.ends(state.started.elapsed()) {
        state.delayer.until(state.started + ends).await;
    }
}
