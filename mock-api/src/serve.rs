//! Serving connections. In: a bound listener, a router, the [`Limits`] and
//! a stop signal. Out: HTTP/1.1 served on every accepted connection until
//! the signal, then a graceful drain (in-flight requests finish, idle
//! connections close).
//!
//! Hostile clients are bounded here: a request head must arrive within
//! `header_timeout` (a client dribbling its headers is dropped; hyper
//! starts the same wait when a keep-alive connection goes idle, so it also
//! bounds how long an idle connection is kept); a request body must arrive
//! within `body_timeout` (408); and at most `max_connections` are served at
//! once: past the cap a new connection's request head is read (for at most
//! a second) and answered `503` problem+json with `Retry-After: 1` and
//! `Connection: close`, outside the router, so that the connections
//! already open keep their service.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use crate::error::Problem;
use crate::link::{Link, LinkName};
use crate::listener::{ConnReset, ResettableStream};

/// Connections past the cap answered 503 at once (each for at most 2 s);
/// past this many, a new one is closed without an answer, so that a flood
/// cannot hold more descriptors than the cap allows plus these.
const MAX_REFUSING: usize = 256;

/// How much a client may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `stop` turns true, then drains.
/// With `link`, every connection crosses that emulated link first.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    link: Option<Arc<Link>>,
) {
    let router = router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_timeout,
    ));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSING));
    let graceful = GracefulShutdown::new();
    let stopped = async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
    tokio::pin!(stopped);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait and retry.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stopped => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            // Past the cap: answered 503, unless a flood of them is being
            // answered already; then closed at once.
            if let Ok(refusing) = Arc::clone(&refusals).try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream, limits.max_connections).await;
                    drop(refusing);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let reset = ConnReset::default();
        let (marks, name) = (reset.clone(), link.as_ref().map(|l| LinkName::of(l)));
        let service = router
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(marks.clone()));
                if let Some(name) = &name {
                    req.extensions_mut().insert(name.clone());
                }
                req.map(Body::new)
            });
        let service = TowerToHyperService::new(service);
        let ended = |conn| async move {
            if let Err(e) = conn {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        };
        match &link {
            Some(link) => {
                let io = TokioIo::new(link.carry(stream, reset));
                let conn = graceful.watch(http.serve_connection(io, service));
                tokio::spawn(async move { ended(conn.await).await });
            }
            None => {
                let io = TokioIo::new(ResettableStream::new(stream, reset));
                let conn = graceful.watch(http.serve_connection(io, service));
                tokio::spawn(async move { ended(conn.await).await });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Answers a connection past the cap with 503 and closes it: reads the
/// request head first (for at most a second), so that an HTTP client sees
/// an answer to the request it sent rather than an unsolicited message,
/// then drains what else arrives, so that the close is a FIN the client
/// can read the answer before, not a reset.
async fn refuse(mut stream: TcpStream, cap: usize) {
    let problem = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "mock-api is serving its cap of {cap} connections (--max-connections); retry shortly"
        ),
    );
    let body = serde_json::to_string(&problem).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let mut buf = [0u8; 4096];
    let read_head = async {
        let mut seen = Vec::new();
        while seen.len() < 16 * 1024 && !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), read_head).await;
    let answer = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await?;
        let mut drained = 0;
        while drained < 64 * 1024 {
            match stream.read(&mut buf).await? {
                0 => break,
                n => drained += n,
            }
        }
        std::io::Result::Ok(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}
