//! HTTP/2 connections. In: an [`Endpoint`] asked for `--http2`. Out: a
//! sender for one request ([`H2Conn`]): from the endpoint's shared
//! connections (keep-alive users: requests multiplexed over
//! `connections`, at most `max_streams` in flight on each, as browsers and
//! gRPC clients do), or a connection of the caller's own (a new visitor's,
//! `per-iteration` or `per-request`). hyper's HTTP/2 client drives each
//! connection on a task of its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::{Mutex, Semaphore};

use crate::load::endpoint::Endpoint;
use crate::load::outcome::ErrorClass;
use crate::load::transport::{self, Phases};

/// One HTTP/2 connection's request handle and its stream limit.
#[derive(Debug, Clone)]
pub struct H2Conn {
    pub sender: http2::SendRequest<Full<Bytes>>,
    /// Permits for requests in flight on it (`max_streams`).
    pub streams: Arc<Semaphore>,
}

impl H2Conn {
    pub fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }
}

/// The connections keep-alive users share, taken round-robin; one that
/// closed is opened again by the next request that finds it so.
#[derive(Debug)]
pub struct H2Pool {
    slots: Vec<Mutex<Option<H2Conn>>>,
    next: AtomicUsize,
    max_streams: u32,
}

impl H2Pool {
    pub fn new(connections: u32, max_streams: u32) -> Self {
        H2Pool {
            slots: (0..connections.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            max_streams: max_streams.max(1),
        }
    }

    /// A shared connection, and the phases of opening it when this
    /// request had to.
    pub async fn get(&self, ep: &Endpoint) -> Result<(H2Conn, Phases), (ErrorClass, String)> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[i].lock().await;
        if let Some(conn) = slot.as_ref().filter(|c| c.is_open()) {
            return Ok((conn.clone(), Phases::default()));
        }
        let (conn, phases) = connect(ep, self.max_streams).await?;
        *slot = Some(conn.clone());
        Ok((conn, phases))
    }
}

/// Opens an HTTP/2 connection (TLS with ALPN `h2`, or h2c with prior
/// knowledge) whose handle allows `max_streams` requests at once.
pub async fn connect(
    ep: &Endpoint,
    max_streams: u32,
) -> Result<(H2Conn, Phases), (ErrorClass, String)> {
    let opened = transport::open(ep, ep.connect_timeout).await?;
    if let transport::Stream::Tls(tls) = &opened.stream {
        if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err((
                ErrorClass::Connect,
                "connect: the server did not agree to HTTP/2 (ALPN h2)".to_owned(),
            ));
        }
    }
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder.timer(TokioTimer::new());
    let (sender, connection) = builder
        .handshake(TokioIo::new(opened.stream))
        .await
        .map_err(|e| (ErrorClass::Connect, format!("HTTP/2 handshake: {e}")))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "HTTP/2 connection ended with an error");
        }
    });
    let conn = H2Conn {
        sender,
        streams: Arc::new(Semaphore::new(max_streams.max(1) as usize)),
    };
    Ok((conn, opened.phases))
}
