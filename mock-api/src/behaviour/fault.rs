//! Faults: what a request gets instead of (or besides) its answer. In: the
//! fault drawn for a request. Out: its response: a 500 or 503 problem, a
//! reset connection, a hang until the client gives up, or the real body
//! dribbled out slowly.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::Problem;

/// Longest a `hang` fault holds a request (or until shutdown).
pub const HANG_FOR: Duration = Duration::from_secs(300);

/// What a fault does instead of (or to) the response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// 500 problem+json, the handler not run.
    Status500,
    /// 503 problem+json with `Retry-After: 1`, the handler not run.
    Status503,
    /// The connection is reset (TCP RST) before any byte of a response.
    Reset,
    /// No answer until the client gives up (at most 5 minutes, or shutdown).
    Hang,
    /// The real response, its body dribbled out over this many milliseconds.
    Dribble(u64),
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "500" => FaultKind::Status500,
            "503" => FaultKind::Status503,
            "reset" => FaultKind::Reset,
            "hang" => FaultKind::Hang,
            other => {
                match other
                    .strip_prefix("dribble(")
                    .and_then(|r| r.strip_suffix(')'))
                    .and_then(|n| n.trim().parse().ok())
                {
                    Some(ms) => FaultKind::Dribble(ms),
                    None => {
                        return Err(format!(
                        "unknown fault {other:?}; expected 500, 503, reset, hang or dribble(MS)"
                    ))
                    }
                }
            }
        })
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Status500 => f.write_str("500"),
            FaultKind::Status503 => f.write_str("503"),
            FaultKind::Reset => f.write_str("reset"),
            FaultKind::Hang => f.write_str("hang"),
            FaultKind::Dribble(ms) => write!(f, "dribble({ms})"),
        }
    }
}
string_serde!(FaultKind);

/// A fault with its probability, on a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// A route name or `all`.
    pub route: String,
    pub kind: FaultKind,
    pub probability: f64,
}

/// A problem+json response; a 503 says when to retry.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    let mut res = Problem::new(status, detail).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    res
}

/// The body of a response, sent in ten pieces spread over `ms` milliseconds.
pub async fn dribble(res: Response, ms: u64) -> Response {
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

/// A response whose body fails at once: the connection is dropped
/// mid-response (the listener has been told to reset it).
pub fn broken() -> Response {
    let body = Body::from_stream(futures_util::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset fault injected",
        ))
    }));
    let mut res = Response::new(body);
    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    res
}
