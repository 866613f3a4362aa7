//! One request. In: a method, path, headers and body for the target. Out:
//! its [`Outcome`] and [`Phases`], the body read to its end frame by frame
//! and not kept, unless a flow's step asks to keep it (up to
//! [`KEPT_BODY_MAX`]) to extract from or check, and any failure classified
//! ([`ErrorClass`]).
//!
//! Each virtual user owns one [`Connection`]. Over HTTP/1.1 it is a single
//! connection (hyper's `client::conn::http1`, plain or TLS, its I/O driven
//! by the user's own task), opened on first use and opened again after
//! the server closes it or a request fails, as one real user's browser
//! does; with [`Reuse::PerIteration`] or [`Reuse::PerRequest`] it is
//! closed after each iteration or request (a new visitor each time). Over
//! HTTP/2, keep-alive users share the endpoint's connections
//! ([`H2Pool`](crate::load::h2pool::H2Pool)); the other reuses open their
//! own. No pool sits in the way of an HTTP/1.1 user's requests (a pooled
//! client's key hashing and URL parsing cost more than the request on a
//! fast route: BENCHMARKS.md). Open-model arrivals share a
//! [`ConnectionPool`](crate::load::pool::ConnectionPool) of such
//! connections.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{HeaderMap, HeaderName};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

use crate::load::endpoint::{Endpoint, Protocol};
use crate::load::h2pool::{self, H2Conn};
use crate::load::native;
use crate::load::outcome::status_class;
pub use crate::load::outcome::{ErrorClass, Outcome};
use crate::load::request::request;
pub use crate::load::transport::Phases;
use crate::load::transport::{self, Stream};
pub use crate::scenario::transport::Reuse;

/// The most of a body kept for a flow's extractions and checks; the rest
/// is read and dropped.
pub const KEPT_BODY_MAX: usize = 4 << 20;

/// One request as a step sends it.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub method: &'a Method,
    /// Origin-form path and query.
    pub path: &'a str,
    pub headers: &'a [(HeaderName, String)],
    /// The statuses a success has.
    pub expect: &'a [u16],
    /// Keep the status, headers and body for the caller.
    pub keep: bool,
    /// The W3C `traceparent` value to send, unless `headers` has one.
    pub trace: Option<&'a [u8; crate::load::trace::HEADER_LEN]>,
}

impl Call<'_> {
    /// The `traceparent` value the harness adds: none when the step sets its own.
    pub fn traceparent(&self) -> Option<&[u8; crate::load::trace::HEADER_LEN]> {
        let own = self
            .headers
            .iter()
            .any(|(n, _)| n.as_str() == "traceparent");
        self.trace.filter(|_| !own)
    }
}

/// A response kept for a flow's step.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

type Sender = http1::SendRequest<Full<Bytes>>;
type Io = http1::Connection<TokioIo<Stream>, Full<Bytes>>;
type Response = hyper::Response<hyper::body::Incoming>;
type Failure = (ErrorClass, String);

/// One user's connection.
#[derive(Debug)]
pub struct Connection {
    endpoint: Arc<Endpoint>,
    open: Option<Open>,
    reuse: Reuse,
    /// The last request's phases.
    phases: Phases,
    /// The request timeout's timer, kept from request to request: moving
    /// its deadline later is an atomic store, where a new timer per
    /// request is an insertion into the timer wheel and a removal.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The last response's status (0: none came).
    status: u16,
}

/// An open connection. Over HTTP/1.1: the handle requests go through, and
/// the connection's I/O, driven by whoever has a request in flight, not by
/// a task of its own: a thinking user then holds no task, only the
/// connection's state (memory per idle user), and a request wakes one
/// task, not two. Over HTTP/2: a connection of the user's own.
#[derive(Debug)]
enum Open {
    H1 {
        sender: Sender,
        io: Pin<Box<Io>>,
    },
    H2(H2Conn),
    /// The native engine's: the stream alone.
    Native(Stream),
}

/// Polls `f` while driving the connection's I/O; `None` if the I/O ended
/// first (the server closed, or it failed).
async fn drive<F: Future>(io: &mut Pin<Box<Io>>, f: Pin<&mut F>) -> Option<F::Output> {
    tokio::select! {
        biased;
        out = f => Some(out),
        _ = io.as_mut() => None,
    }
}

impl Connection {
    /// Whether a connection is open (worth keeping for the next request).
    pub fn is_open(&self) -> bool {
        match &self.open {
            Some(Open::H1 { .. } | Open::Native(_)) => true,
            Some(Open::H2(c)) => c.is_open(),
            None => false,
        }
    }

    /// A keep-alive connection to `endpoint`, opened on the first request.
    pub fn new(endpoint: Arc<Endpoint>) -> Connection {
        Connection {
            endpoint,
            open: None,
            reuse: Reuse::KeepAlive,
            phases: Phases::default(),
            timer: None,
            status: 0,
        }
    }

    /// Sets when the connection is closed and a new one made.
    pub fn set_reuse(&mut self, reuse: Reuse) {
        self.reuse = reuse;
    }

    /// The last request's phases.
    pub fn phases(&self) -> Phases {
        self.phases
    }

    /// The last request's response status (0: no response came).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// An iteration ended: a `per-iteration` connection is closed.
    pub fn end_iteration(&mut self) {
        if self.reuse == Reuse::PerIteration {
            self.open = None;
        }
    }

    /// Sends one request (`path` is the origin-form path and query) and
    /// reads its body to the end, within the endpoint's timeout.
    pub async fn execute(
        &mut self,
        method: &Method,
        path: &str,
        body: Option<String>,
        expect: u16,
    ) -> Outcome {
        let call = Call {
            method,
            path,
            headers: &[],
            expect: &[expect],
            keep: false,
            trace: None,
        };
        self.call(call, body).await.0
    }

    /// Sends one request with its headers; with `call.keep`, what came
    /// back is kept (also when its status was not expected).
    pub async fn call(&mut self, call: Call<'_>, body: Option<String>) -> (Outcome, Option<Kept>) {
        self.phases = Phases::default();
        self.status = 0;
        let ep = Arc::clone(&self.endpoint);
        let what = || format!("{} {}{}", call.method, ep.origin, call.path);
        let deadline = Instant::now() + ep.timeout;
        let mut timer = self
            .timer
            .take()
            .unwrap_or_else(|| Box::pin(tokio::time::sleep_until(deadline)));
        timer.as_mut().reset(deadline);
        let exchange = async {
            if ep.is_native() {
                return self.exchange_native(&call, body.as_deref()).await;
            }
            match request(&ep, &call, body) {
                // Boxed: hyper's exchange is large, and the iteration's
                // future, which holds the native one inline, need not be.
                Ok(request) => Box::pin(self.exchange(request, call.expect, call.keep)).await,
                Err(e) => (Err((ErrorClass::Request, e)), None),
            }
        };
        let answered = tokio::select! {
            biased;
            out = exchange => Some(out),
            _ = timer.as_mut() => None,
        };
        self.timer = Some(timer);
        let out = match answered {
            Some((Ok(()), kept)) => (Outcome::Ok, kept),
            Some((Err((class, msg)), kept)) => {
                (Outcome::Error(class, format!("{}: {msg}", what())), kept)
            }
            None => {
                // The connection is mid-exchange: it cannot be reused.
                self.open = None;
                let within = humantime::format_duration(ep.timeout);
                let msg = format!("{}: no complete answer within {within}", what());
                (Outcome::Error(ErrorClass::Timeout, msg), None)
            }
        };
        if self.reuse == Reuse::PerRequest {
            self.open = None;
        }
        out
    }

    /// The native engine's exchange ([`native`]) on this user's connection.
    async fn exchange_native(
        &mut self,
        call: &Call<'_>,
        body: Option<&str>,
    ) -> (Result<(), Failure>, Option<Kept>) {
        let mut stream = match self.open.take() {
            Some(Open::Native(s)) => Some(s),
            _ => None,
        };
        let ep = &self.endpoint;
        let (status, kept) = native::exchange(&mut stream, ep, call, body, &mut self.phases).await;
        self.open = stream.map(Open::Native);
        if let Ok(s) = status {
            self.status = s;
        }
        (status.and_then(|s| judge(s, call.expect)), kept)
    }

    /// Sends the request and reads the whole body (keeping it when asked);
    /// an error is classed, with its message.
    async fn exchange(
        &mut self,
        request: Request<Full<Bytes>>,
        expect: &[u16],
        keep: bool,
    ) -> (Result<(), Failure>, Option<Kept>) {
        if self.endpoint.protocol == Protocol::H2 {
            return self.exchange_h2(request, expect, keep).await;
        }
        let response = match self.send(request).await {
            Ok(r) => r,
            Err(e) => return (Err(e), None),
        };
        let head = Instant::now();
        let (status, mut kept, body) = split(response, keep);
        self.status = status;
        let read = {
            let read = read_body(body, kept.as_mut());
            tokio::pin!(read);
            self.finish(read).await
        };
        self.phases.receiving = head.elapsed();
        if let Err(e) = read {
            self.open = None;
            let msg = format!("status {status}, body: {}", describe(&e));
            return (Err((ErrorClass::Body, msg)), kept);
        }
        (judge(status, expect), kept)
    }

    /// The same over HTTP/2: a shared connection (keep-alive) or the
    /// user's own, at most `max_streams` requests in flight on it.
    async fn exchange_h2(
        &mut self,
        request: Request<Full<Bytes>>,
        expect: &[u16],
        keep: bool,
    ) -> (Result<(), Failure>, Option<Kept>) {
        let conn = match self.h2().await {
            Ok(conn) => conn,
            Err(e) => return (Err(e), None),
        };
        let Ok(_stream) = conn.streams.acquire().await else {
            return (
                Err((ErrorClass::Request, "connection closed".to_owned())),
                None,
            );
        };
        let mut sender = conn.sender.clone();
        let sent = async {
            sender.ready().await?;
            let start = Instant::now();
            let response = sender.send_request(request).await?;
            Ok::<_, hyper::Error>((response, start.elapsed()))
        };
        let (response, waiting) = match sent.await {
            Ok(r) => r,
            Err(e) => {
                self.open = None;
                return (Err((ErrorClass::Request, describe(&e))), None);
            }
        };
        self.phases.waiting = waiting;
        let head = Instant::now();
        let (status, mut kept, body) = split(response, keep);
        self.status = status;
        let read = read_body(body, kept.as_mut()).await;
        self.phases.receiving = head.elapsed();
        if let Err(e) = read {
            let msg = format!("status {status}, body: {}", describe(&e));
            return (Err((ErrorClass::Body, msg)), kept);
        }
        (judge(status, expect), kept)
    }

    /// The HTTP/2 connection for the next request, opened if need be.
    async fn h2(&mut self) -> Result<H2Conn, Failure> {
        let ep = Arc::clone(&self.endpoint);
        if let (Reuse::KeepAlive, Some(pool)) = (self.reuse, &ep.h2) {
            let (conn, phases) = pool.get(&ep).await?;
            self.phases = phases;
            return Ok(conn);
        }
        if let Some(Open::H2(conn)) = self.open.as_ref().filter(|_| self.is_open()) {
            return Ok(conn.clone());
        }
        let (conn, phases) = h2pool::connect(&ep, 1).await?;
        self.phases = phases;
        self.open = Some(Open::H2(conn.clone()));
        Ok(conn)
    }

    /// Sends `request` on a ready connection. A kept-alive connection the
    /// server has closed gives the request back unsent: it is sent once
    /// more on a fresh connection.
    async fn send(&mut self, mut request: Request<Full<Bytes>>) -> Result<Response, Failure> {
        loop {
            let reused = self.ready().await?;
            let Some(Open::H1 { sender, .. }) = self.open.as_mut() else {
                return Err((ErrorClass::Connect, "no connection".to_owned()));
            };
            let start = Instant::now();
            let sent = sender.try_send_request(request);
            tokio::pin!(sent);
            match self.finish(sent).await {
                Ok(response) => {
                    self.phases.waiting = start.elapsed();
                    return Ok(response);
                }
                Err(mut e) => {
                    self.open = None;
                    match e.take_message() {
                        Some(unsent) if reused => request = unsent,
                        _ => return Err((ErrorClass::Request, describe(&e.into_error()))),
                    }
                }
            }
        }
    }

    /// Makes sure a connection ready for a request is open: `Ok(true)` if it
    /// is a kept-alive one, `Ok(false)` if it was just opened.
    async fn ready(&mut self) -> Result<bool, Failure> {
        let alive = match self.open.as_mut() {
            Some(Open::H1 { sender, io }) => {
                let ready = sender.ready();
                tokio::pin!(ready);
                matches!(drive(io, ready).await, Some(Ok(())))
            }
            _ => false,
        };
        if alive {
            return Ok(true);
        }
        self.open = None;
        self.open = Some(self.connect().await?);
        Ok(false)
    }

    /// Opens a new HTTP/1.1 connection, noting its phases.
    async fn connect(&mut self) -> Result<Open, Failure> {
        let ep = &self.endpoint;
        let opened = transport::open(ep, ep.connect_timeout).await?;
        self.phases = opened.phases;
        match http1::handshake(TokioIo::new(opened.stream)).await {
            Ok((sender, io)) => Ok(Open::H1 {
                sender,
                io: Box::pin(io),
            }),
            Err(e) => Err((ErrorClass::Connect, format!("handshake: {}", describe(&e)))),
        }
    }

    /// Polls `f` while driving this connection's I/O, if it is an open
    /// HTTP/1.1 one; if the I/O ends first, drops the connection (hyper
    /// then answers whatever was pending on it, giving an unsent request
    /// back) and finishes `f`.
    async fn finish<F: Future>(&mut self, mut f: Pin<&mut F>) -> F::Output {
        if let Some(Open::H1 { io, .. }) = self.open.as_mut() {
            if let Some(out) = drive(io, f.as_mut()).await {
                return out;
            }
            self.open = None;
        }
        f.await
    }
}

/// A response's status, what is kept of it (its headers now, its body as
/// it is read) and its body.
fn split(response: Response, keep: bool) -> (u16, Option<Kept>, hyper::body::Incoming) {
    let status = response.status().as_u16();
    let (parts, body) = response.into_parts();
    let kept = keep.then(|| Kept {
        status,
        headers: parts.headers,
        body: Vec::new(),
    });
    (status, kept, body)
}

/// Reads `body` to its end, keeping up to [`KEPT_BODY_MAX`] of it in `kept`.
async fn read_body(
    mut body: hyper::body::Incoming,
    mut kept: Option<&mut Kept>,
) -> Result<(), hyper::Error> {
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        if let (Some(k), Some(data)) = (kept.as_deref_mut(), frame.data_ref()) {
            let room = KEPT_BODY_MAX.saturating_sub(k.body.len());
            k.body.extend_from_slice(&data[..data.len().min(room)]);
        }
    }
    Ok(())
}

/// An answer's error, if its status is not one expected.
fn judge(status: u16, expect: &[u16]) -> Result<(), Failure> {
    match status_class(status, expect) {
        None => Ok(()),
        Some(class) => {
            let want = match expect {
                [one] => one.to_string(),
                many => format!("one of {many:?}"),
            };
            Err((class, format!("status {status}, expected {want}")))
        }
    }
}

/// An error with its chain of causes, on one line.
fn describe(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
