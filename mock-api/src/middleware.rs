//! The layer every API route goes through: ground-truth timing and
//! counting around behaviour (added latency, faults, leak) around the
//! handler.
//!
//! The added latency is a timer (`tokio::time::sleep`) before the handler
//! runs: it holds no database connection and no worker thread.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::behaviour::{Cause, FaultKind, Route};
use crate::error::Problem;
use crate::listener::ConnReset;
use crate::state::AppState;
use crate::truth::{Observation, RequestCounters, Truth, COUNTERS};

/// Longest a `hang` fault holds a request (or until shutdown).
pub const HANG_FOR: Duration = Duration::from_secs(300);

/// Records the observation when the response body is dropped: after its
/// last byte was handed to the connection, or when the client went away.
struct RecordOnDrop {
    truth: Arc<Truth>,
    observation: Observation,
    start: Instant,
}

impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        let mut o = self.observation;
        o.elapsed = self.start.elapsed();
        self.truth.record(o);
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

fn problem(status: StatusCode, detail: &str) -> Response {
    let mut res = Problem::new(status, detail).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    res
}

/// The body of a response, sent in ten pieces spread over `ms` milliseconds.
async fn dribble(res: Response, ms: u64) -> Response {
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let pieces = bytes.len().clamp(1, 10);
    let size = bytes.len().div_ceil(pieces).max(1);
    let pause = Duration::from_millis(ms) / pieces as u32;
    let stream = futures_util::stream::unfold((bytes, 0usize), move |(b, at)| async move {
        if at >= b.len() {
            return None;
        }
        tokio::time::sleep(pause).await;
        let end = (at + size).min(b.len());
        Some((Ok::<_, std::io::Error>(b.slice(at..end)), (b, end)))
    });
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_stream(stream))
}

/// A body that fails at once: the connection is dropped mid-response.
fn broken_body() -> Body {
    Body::from_stream(futures_util::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset fault injected",
        ))
    }))
}

pub async fn behaviour_and_truth(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| Route::from_pattern(req.method().as_str(), p.as_str()));
    let Some(route) = route else {
        return next.run(req).await;
    };
    let behaviour = state.behaviour.current();
    let decision = behaviour.decide(route, state.behaviour.next_draw(route));
    let reset = req
        .extensions()
        .get::<ConnectInfo<ConnReset>>()
        .map(|c| c.0.clone());
    let mut shutdown = state.shutdown.clone();
    let truth = Arc::clone(&state.truth);

    let (res, counters) = COUNTERS
        .scope(RequestCounters::default(), async move {
            if let Some(delay) = decision.delay {
                // Counted from the request head, so the delay is what was asked for.
                state.delayer.until(start + delay).await;
            }
            if behaviour.is_on(Cause::MemoryLeak) {
                state
                    .leak
                    .leak(behaviour.leak_bytes, behaviour.leak_cap_bytes);
            }
            let res = match decision.fault {
                None => next.run(req).await,
                Some(FaultKind::Status500) => {
                    problem(StatusCode::INTERNAL_SERVER_ERROR, "injected fault: 500")
                }
                Some(FaultKind::Status503) => {
                    problem(StatusCode::SERVICE_UNAVAILABLE, "injected fault: 503")
                }
                Some(FaultKind::Reset) => {
                    if let Some(r) = &reset {
                        r.trigger();
                    }
                    let mut res = Response::new(broken_body());
                    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    res
                }
                Some(FaultKind::Hang) => {
                    let _ = tokio::time::timeout(HANG_FOR, shutdown.wait_for(|stop| *stop)).await;
                    problem(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "injected fault: hang ended",
                    )
                }
                Some(FaultKind::Dribble(ms)) => dribble(next.run(req).await, ms).await,
            };
            let counters = COUNTERS.with(|c| {
                (
                    c.db_queries.get(),
                    c.db_us.get(),
                    c.upstream_calls.get(),
                    c.upstream_us.get(),
                )
            });
            (res, counters)
        })
        .await;

    let (parts, body) = res.into_parts();
    let guard = RecordOnDrop {
        truth,
        observation: Observation {
            route,
            status: parts.status.as_u16(),
            elapsed: Duration::ZERO,
            db_queries: counters.0,
            db_us: counters.1,
            upstream_calls: counters.2,
            upstream_us: counters.3,
        },
        start,
    };
    Response::from_parts(parts, Body::new(TimedBody { inner: body, guard }))
}
