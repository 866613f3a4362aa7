//! One request. In: a method, path, headers and body for the target. Out:
//! its [`Outcome`], the body read to its end frame by frame and not kept,
//! unless a flow's step asks to keep it (up to [`KEPT_BODY_MAX`]) to
//! extract from or check, and any failure classified ([`ErrorClass`]).
//!
//! Each virtual user owns one [`Connection`]: a single HTTP/1.1 keep-alive
//! connection (hyper's `client::conn::http1`, its I/O driven by the user's
//! own task), opened on first use and opened again after the server closes
//! it or a request fails, as one real user's browser does. No pool sits in
//! the way of a user's requests (a pooled client's key hashing and URL
//! parsing cost more than the request on a fast route: BENCHMARKS.md).
//! Open-model arrivals share a
//! [`ConnectionPool`](crate::load::pool::ConnectionPool) of such
//! connections.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use percent_encoding::{AsciiSet, CONTROLS};
use tokio::net::TcpStream;

use crate::load::endpoint::Endpoint;
use crate::load::outcome::status_class;
pub use crate::load::outcome::{ErrorClass, Outcome};

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
}

/// A response kept for a flow's step.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Bytes percent-encoded in a rendered path and query (as a browser would):
/// controls, space, and characters not allowed there.
const PATH_ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^');

type Sender = http1::SendRequest<Full<Bytes>>;
type Io = http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// One keep-alive connection, as one real user has.
#[derive(Debug)]
pub struct Connection {
    endpoint: Arc<Endpoint>,
    open: Option<Open>,
}

/// An open connection: the handle requests go through, and the connection's
/// I/O. The I/O is driven by whoever has a request in flight, not by a task
/// of its own: a thinking user then holds no task, only the connection's
/// state (memory per idle user), and a request wakes one task, not two.
#[derive(Debug)]
struct Open {
    sender: Sender,
    io: Pin<Box<Io>>,
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
        self.open.is_some()
    }

    /// A connection to `endpoint`, opened on the first request.
    pub fn new(endpoint: Arc<Endpoint>) -> Connection {
        Connection {
            endpoint,
            open: None,
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
        };
        self.call(call, body).await.0
    }

    /// Sends one request with its headers; with `call.keep`, what came
    /// back is kept (also when its status was not expected).
    pub async fn call(&mut self, call: Call<'_>, body: Option<String>) -> (Outcome, Option<Kept>) {
        let ep = Arc::clone(&self.endpoint);
        let what = || format!("{} {}{}", call.method, ep.origin, call.path);
        let request = match request(&ep, &call, body) {
            Ok(request) => request,
            Err(e) => {
                let msg = format!("{}: {e}", what());
                return (Outcome::Error(ErrorClass::Request, msg), None);
            }
        };
        let exchange = self.exchange(request, call.expect, call.keep);
        match tokio::time::timeout(ep.timeout, exchange).await {
            Ok((Ok(()), kept)) => (Outcome::Ok, kept),
            Ok((Err((class, msg)), kept)) => {
                (Outcome::Error(class, format!("{}: {msg}", what())), kept)
            }
            Err(_) => {
                // The connection is mid-exchange: it cannot be reused.
                self.open = None;
                let within = humantime::format_duration(ep.timeout);
                let msg = format!("{}: no complete answer within {within}", what());
                (Outcome::Error(ErrorClass::Timeout, msg), None)
            }
        }
    }

    /// Sends the request and reads the whole body (keeping it when asked);
    /// an error is classed, with its message.
    async fn exchange(
        &mut self,
        request: Request<Full<Bytes>>,
        expect: &[u16],
        keep: bool,
    ) -> (Result<(), (ErrorClass, String)>, Option<Kept>) {
        let response = match self.send(request).await {
            Ok(r) => r,
            Err(e) => return (Err(e), None),
        };
        let status = response.status().as_u16();
        let (parts, mut body) = response.into_parts();
        let mut kept = keep.then(|| Kept {
            status,
            headers: parts.headers,
            body: Vec::new(),
        });
        let read = async {
            while let Some(frame) = body.frame().await {
                let frame = frame?;
                if let (Some(k), Some(data)) = (kept.as_mut(), frame.data_ref()) {
                    let room = KEPT_BODY_MAX.saturating_sub(k.body.len());
                    k.body.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            Ok::<(), hyper::Error>(())
        };
        tokio::pin!(read);
        if let Err(e) = self.finish(read).await {
            self.open = None;
            let msg = format!("status {status}, body: {}", describe(&e));
            return (Err((ErrorClass::Body, msg)), kept);
        }
        match status_class(status, expect) {
            None => (Ok(()), kept),
            Some(class) => {
                let want = match expect {
                    [one] => one.to_string(),
                    many => format!("one of {many:?}"),
                };
                (
                    Err((class, format!("status {status}, expected {want}"))),
                    kept,
                )
            }
        }
    }

    /// Sends `request` on a ready connection. A kept-alive connection the
    /// server has closed gives the request back unsent: it is sent once
    /// more on a fresh connection.
    async fn send(
        &mut self,
        mut request: Request<Full<Bytes>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, (ErrorClass, String)> {
        loop {
            let reused = self.ready().await?;
            let Some(open) = self.open.as_mut() else {
                return Err((ErrorClass::Connect, "no connection".to_owned()));
            };
            let sent = open.sender.try_send_request(request);
            tokio::pin!(sent);
            match self.finish(sent).await {
                Ok(response) => return Ok(response),
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
    async fn ready(&mut self) -> Result<bool, (ErrorClass, String)> {
        let alive = match self.open.as_mut() {
            Some(Open { sender, io }) => {
                let ready = sender.ready();
                tokio::pin!(ready);
                matches!(drive(io, ready).await, Some(Ok(())))
            }
            None => false,
        };
        if alive {
            return Ok(true);
        }
        self.open = None;
        self.open = Some(self.connect().await?);
        Ok(false)
    }

    /// Opens a new connection.
    async fn connect(&self) -> Result<Open, (ErrorClass, String)> {
        let ep = &self.endpoint;
        let stream = ep
            .tcp(ep.connect_timeout)
            .await
            .map_err(|e| (ErrorClass::Connect, format!("connect: {e}")))?;
        match http1::handshake(TokioIo::new(stream)).await {
            Ok((sender, io)) => Ok(Open {
                sender,
                io: Box::pin(io),
            }),
            Err(e) => Err((ErrorClass::Connect, format!("handshake: {}", describe(&e)))),
        }
    }

    /// Polls `f` while driving this connection's I/O, if it is open; if the
    /// I/O ends first, drops the connection (hyper then answers whatever was
    /// pending on it, giving an unsent request back) and finishes `f`.
    async fn finish<F: Future>(&mut self, mut f: Pin<&mut F>) -> F::Output {
        if let Some(open) = self.open.as_mut() {
            if let Some(out) = drive(&mut open.io, f.as_mut()).await {
                return out;
            }
            self.open = None;
        }
        f.await
    }
}

/// The request for `path` (origin form, percent-encoded as a browser
/// would), with exactly the headers sent: hyper keeps the request's header
/// map on the connection for reuse (memory per idle user).
fn request(
    ep: &Endpoint,
    call: &Call<'_>,
    body: Option<String>,
) -> Result<Request<Full<Bytes>>, String> {
    let path: Cow<'_, str> = percent_encoding::utf8_percent_encode(call.path, PATH_ENCODE).into();
    let uri = Uri::try_from(path.as_ref()).map_err(|e| e.to_string())?;
    let mut headers = HeaderMap::with_capacity(2 + call.headers.len());
    headers.insert(HOST, ep.host_header.clone());
    for (name, value) in call.headers {
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("header {name}: {value:?} is not a valid header value"))?;
        headers.append(name, value);
    }
    let body = match body {
        Some(b) => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Full::new(Bytes::from(b))
        }
        None => Full::new(Bytes::new()),
    };
    let mut request = Request::new(body);
    *request.method_mut() = call.method.clone();
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
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
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A loopback HTTP/1.1 server that answers one request per connection
    /// and then closes it without saying so (no `Connection: close`), as a
    /// server with a short keep-alive timeout does to an idle client.
    async fn one_request_per_connection() -> (reqwest::Url, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url =
            reqwest::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                    // Then closes the idle connection a little later.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                });
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_is_replaced_without_an_error() {
        let (url, accepted) = one_request_per_connection().await;
        let endpoint = Arc::new(Endpoint::new(&url, Duration::from_secs(5)));
        let mut connection = Connection::new(endpoint);
        for i in 0..5 {
            // Give the server's close time to arrive, as after think time.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let outcome = connection.execute(&Method::GET, "/x", None, 200).await;
            assert_eq!(outcome, Outcome::Ok, "request {i}");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn error_classes_are_written_as_records_name_them() {
        for class in ErrorClass::ALL {
            assert_eq!(serde_json::to_value(class).unwrap(), class.as_str());
            let counts = std::collections::BTreeMap::from([(class, 3u64)]);
            let text = serde_json::to_string(&counts).unwrap();
            assert_eq!(text, format!("{{\"{class}\":3}}"));
            let back: std::collections::BTreeMap<ErrorClass, u64> =
                serde_json::from_str(&text).unwrap();
            assert_eq!(back, counts);
        }
    }

    #[tokio::test]
    async fn statuses_and_refused_connections_are_classed() {
        let (url, _) = one_request_per_connection().await;
        let endpoint = Arc::new(Endpoint::new(&url, Duration::from_secs(5)));
        let mut connection = Connection::new(endpoint);
        match connection.execute(&Method::GET, "/x", None, 404).await {
            Outcome::Error(ErrorClass::StatusOther, msg) => {
                assert!(msg.contains("status 200, expected 404"), "{msg}")
            }
            other => panic!("{other:?}"),
        }

        // A port nothing listens on: bind one, note it, close it.
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let url = reqwest::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let mut connection = Connection::new(Arc::new(Endpoint::new(&url, Duration::from_secs(5))));
        match connection.execute(&Method::GET, "/a b", None, 200).await {
            Outcome::Error(ErrorClass::Connect, msg) => {
                assert!(
                    msg.starts_with(&format!("GET http://127.0.0.1:{port}/a b: connect")),
                    "{msg}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
