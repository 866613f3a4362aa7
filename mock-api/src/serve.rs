//! Serving connections. In: a bound listener, a router, how to serve
//! ([`Serving`]: limits, protocols, TLS, the truth) and a stop signal. Out:
//! HTTP/1.1 and HTTP/2 (by ALPN under TLS, by the client's preface on a
//! plain listener, or the one forced) served on every accepted connection
//! until the signal, then a graceful drain (in-flight requests finish, idle
//! connections close). Each connection, handshake and request is counted
//! in the truth by protocol.
//!
//! Hostile clients are bounded here: a connection's first request head
//! (its TLS handshake included) must arrive within `header_timeout`, and
//! HTTP/1.1's next ones too (a client dribbling its headers is dropped;
//! hyper starts the same wait when a keep-alive connection goes idle, so
//! it also bounds how long an idle connection is kept); a request body
//! must arrive within `body_timeout` (408); and at most `max_connections`
//! are served at once: past the cap a new connection's request head is
//! read (for at most a second) and answered `503` problem+json with
//! `Retry-After: 1` and `Connection: close`, outside the router, so that
//! the connections already open keep their service. HTTP/2 is bounded per
//! connection: [`H2_MAX_STREAMS`] streams at once, each buffering at most
//! [`H2_SEND_BUFFER`] of response a client does not read, and a flood of
//! streams opened and cancelled at once (rapid reset, CVE-2023-44487) ends
//! the connection with `GOAWAY` after [`H2_MAX_PENDING_RESETS`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{StatusCode, Version};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

use crate::behaviour::SharedBehaviour;
use crate::error::Problem;
use crate::link::{Link, LinkName};
use crate::listener::{ConnReset, ResettableStream};
use crate::tls::{Protocol, Protocols, Tls};
use crate::truth::Truth;

/// Connections past the cap answered 503 at once (each for at most 2 s);
/// past this many, a new one is closed without an answer, so that a flood
/// cannot hold more descriptors than the cap allows plus these.
const MAX_REFUSING: usize = 256;
/// HTTP/2 streams one connection may have open at once.
pub const H2_MAX_STREAMS: u32 = 128;
/// Response bytes buffered per HTTP/2 stream for a client that does not read.
pub const H2_SEND_BUFFER: usize = 64 * 1024;
/// Streams a client may open and reset before the server reads them
/// (rapid reset) before the connection is ended with `GOAWAY`.
pub const H2_MAX_PENDING_RESETS: usize = 20;

/// How much a client may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
}

/// How a listener serves its connections.
#[derive(Debug, Clone)]
pub struct Serving {
    pub limits: Limits,
    pub protocols: Protocols,
    /// HTTPS when set.
    pub tls: Option<Arc<Tls>>,
    pub truth: Arc<Truth>,
    /// Whether connections and requests are counted in the truth (not
    /// the admin listener's: the truth is the API's traffic).
    pub counted: bool,
    /// For the TLS handshake delay.
    pub behaviour: SharedBehaviour,
}

/// hyper's connection builders: one per set of protocols served.
fn builder(limits: &Limits, protocols: Protocols) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_STREAMS)
        .max_send_buf_size(H2_SEND_BUFFER)
        .max_pending_accept_reset_streams(H2_MAX_PENDING_RESETS)
        .keep_alive_interval(limits.header_timeout)
        .keep_alive_timeout(Duration::from_secs(20));
    match protocols {
        Protocols::Both => b,
        Protocols::Http1Only => b.http1_only(),
        Protocols::Http2Only => b.http2_only(),
    }
}

/// What one connection's task needs.
struct Conn {
    serving: Serving,
    router: Router,
    reset: ConnReset,
    link: Option<LinkName>,
    /// Taken by the connection's task when it serves HTTP.
    watcher: Option<Watcher>,
    /// The builder for plain connections (TLS ones choose by ALPN).
    plain: auto::Builder<TokioExecutor>,
    /// A connection past the cap, answered 503 (under TLS).
    refused: bool,
    permit: Option<OwnedSemaphorePermit>,
}

/// Serves `router` on `listener` until `stop` turns true, then drains.
/// With `link`, every connection crosses that emulated link first.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    serving: Serving,
    mut stop: watch::Receiver<bool>,
    link: Option<Arc<Link>>,
) {
    let limits = serving.limits;
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
    let plain = builder(&limits, serving.protocols);
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
        if serving.counted {
            serving.truth.connections.accepted();
        }
        let permit = Arc::clone(&permits).try_acquire_owned().ok();
        if permit.is_none() {
            // Past the cap: answered 503, unless a flood of them is being
            // answered already; then closed at once.
            let Ok(refusing) = Arc::clone(&refusals).try_acquire_owned() else {
                continue;
            };
            if serving.tls.is_none() {
                tokio::spawn(async move {
                    refuse(stream, limits.max_connections).await;
                    drop(refusing);
                });
                continue;
            }
            // Under TLS the answer needs a handshake: served below by a
            // router that answers only that, within 2 s.
            let conn = Conn {
                serving: serving.clone(),
                router: refusal_router(limits.max_connections),
                reset: ConnReset::default(),
                link: None,
                watcher: Some(graceful.watcher()),
                plain: plain.clone(),
                refused: true,
                permit: None,
            };
            tokio::spawn(async move {
                let io = ResettableStream::new(stream, conn.reset.clone());
                let _ = tokio::time::timeout(Duration::from_secs(2), connection(io, conn)).await;
                drop(refusing);
            });
            continue;
        }
        let _ = stream.set_nodelay(true);
        let conn = Conn {
            serving: serving.clone(),
            router: router.clone(),
            reset: ConnReset::default(),
            link: link.as_ref().map(|l| LinkName::of(l)),
            watcher: Some(graceful.watcher()),
            plain: plain.clone(),
            refused: false,
            permit,
        };
        match &link {
            Some(link) => {
                let io = link.carry(stream, conn.reset.clone());
                tokio::spawn(connection(io, conn));
            }
            None => {
                let io = ResettableStream::new(stream, conn.reset.clone());
                tokio::spawn(connection(io, conn));
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves one connection: its TLS handshake first, if any, then HTTP
/// until it ends. A connection whose first request head does not arrive
/// within the header timeout (its handshake included) is dropped.
async fn connection<IO>(io: IO, mut conn: Conn)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let header_timeout = conn.serving.limits.header_timeout;
    let Some(watcher) = conn.watcher.take() else {
        return;
    };
    let first_seen = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let seen = Arc::clone(&first_seen);
        async move {
            tokio::time::sleep(header_timeout).await;
            if seen.load(Ordering::Relaxed) {
                std::future::pending::<()>().await;
            }
        }
    };
    let serving = async {
        match conn.serving.tls.clone() {
            Some(tls) => {
                let truth = &conn.serving.truth;
                match tls.accept(io, &conn.serving.behaviour).await {
                    Ok((stream, handshake)) => {
                        truth
                            .connections
                            .handshake(handshake.protocol, handshake.resumed);
                        let builder = builder(
                            &conn.serving.limits,
                            match handshake.protocol {
                                Protocol::Http2 => Protocols::Http2Only,
                                Protocol::Http1 => Protocols::Http1Only,
                            },
                        );
                        http(stream, &builder, &conn, watcher, &first_seen).await;
                    }
                    Err(e) => {
                        truth.connections.tls_failed();
                        tracing::debug!(error = %e, "TLS handshake failed");
                    }
                }
            }
            None => http(io, &conn.plain, &conn, watcher, &first_seen).await,
        }
    };
    tokio::select! {
        () = serving => {}
        () = watchdog => tracing::debug!("no request head within the header timeout: dropped"),
    }
    drop(conn.permit);
}

/// Serves HTTP on `io` until the connection ends; each request is counted
/// by protocol and carries the connection's reset switch and link name.
async fn http<IO>(
    io: IO,
    builder: &auto::Builder<TokioExecutor>,
    conn: &Conn,
    watcher: Watcher,
    first_seen: &Arc<AtomicBool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (marks, name, truth) = (
        conn.reset.clone(),
        conn.link.clone(),
        Arc::clone(&conn.serving.truth),
    );
    let (seen, counted) = (
        Arc::clone(first_seen),
        !conn.refused && conn.serving.counted,
    );
    // The first request the truth counts (not the truth's own reads).
    let carried = Arc::new(AtomicBool::new(false));
    let service = conn
        .router
        .clone()
        .map_request(move |mut req: Request<Incoming>| {
            let protocol = match req.version() {
                Version::HTTP_2 => Protocol::Http2,
                _ => Protocol::Http1,
            };
            seen.store(true, Ordering::Relaxed);
            // Reads of the truth itself (a load tool's scorer polling
            // /__admin/stats on the API address) are not its traffic.
            let path = req.uri().path();
            if counted && !path.starts_with("/__admin/") && path != "/metrics" {
                let first = !carried.swap(true, Ordering::Relaxed);
                truth.connections.request(protocol, first);
            }
            req.extensions_mut().insert(ConnectInfo(marks.clone()));
            if let Some(name) = &name {
                req.extensions_mut().insert(name.clone());
            }
            req.map(Body::new)
        });
    let service = TowerToHyperService::new(service);
    let served = builder
        .serve_connection(TokioIo::new(io), service)
        .into_owned();
    if let Err(e) = watcher.watch(served).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// The 503 every request of a connection past the cap gets (under TLS).
fn refusal_router(cap: usize) -> Router {
    Router::new().fallback(move |req: Request| async move {
        let mut response = axum::response::IntoResponse::into_response(refusal(cap));
        let headers = response.headers_mut();
        headers.insert("retry-after", axum::http::HeaderValue::from_static("1"));
        // HTTP/2 has no `Connection` header: the 2 s bound ends it.
        if req.version() != Version::HTTP_2 {
            headers.insert("connection", axum::http::HeaderValue::from_static("close"));
        }
        response
    })
}

fn refusal(cap: usize) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "mock-api is serving its cap of {cap} connections (--max-connections); retry shortly"
        ),
    )
}

/// Answers a connection past the cap with 503 and closes it: reads the
/// request head first (for at most a second), so that an HTTP client sees
/// an answer to the request it sent rather than an unsolicited message,
/// then drains what else arrives, so that the close is a FIN the client
/// can read the answer before, not a reset.
async fn refuse(mut stream: TcpStream, cap: usize) {
    let problem = refusal(cap);
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
