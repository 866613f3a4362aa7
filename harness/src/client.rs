//! One request: send it, read the whole body, classify the outcome.
//!
//! Each virtual user owns one [`Connection`]: a single HTTP/1.1 keep-alive
//! connection (hyper's `client::conn::http1`, its I/O driven by the user's
//! own task), opened on first use and opened again after the server closes
//! it or a request fails, as one real user's browser does. There is no
//! pool, no per-request pool-key hashing and no URL re-parsing: on
//! `/healthz` those were most of the client's cost with reqwest's pooled
//! client (BENCHMARKS.md). Open-model arrivals share a [`ConnectionPool`]
//! of such connections.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use percent_encoding::{AsciiSet, CONTROLS};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

/// Why a request counted as an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The connection could not be made.
    Connect,
    /// No complete answer within the scenario's timeout.
    Timeout,
    /// A 4xx status other than the expected one.
    Status4xx,
    /// A 5xx status other than the expected one.
    Status5xx,
    /// Another unexpected status (1xx-3xx).
    StatusOther,
    /// The body could not be read to its end.
    Body,
    /// Any other transport failure (reset, protocol error).
    Request,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Status4xx,
        ErrorClass::Status5xx,
        ErrorClass::StatusOther,
        ErrorClass::Body,
        ErrorClass::Request,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Status4xx => "status_4xx",
            ErrorClass::Status5xx => "status_5xx",
            ErrorClass::StatusOther => "status_other",
            ErrorClass::Body => "body",
            ErrorClass::Request => "request",
        }
    }

    /// Whether the server answered (so the latency is a response time).
    pub fn has_response(self) -> bool {
        matches!(
            self,
            ErrorClass::Status4xx | ErrorClass::Status5xx | ErrorClass::StatusOther
        )
    }
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The expected status, body read to its end.
    Ok,
    /// An error of `class`, with a message for the samples.
    Error(ErrorClass, String),
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

/// Where requests go: the target's host and port, its `Host` header, and
/// the request timeout. Shared by every connection of a run.
#[derive(Debug)]
pub struct Endpoint {
    /// Host name or address, without IPv6 brackets (for connecting).
    host: String,
    port: u16,
    /// `http://HOST:PORT`, for messages.
    origin: String,
    host_header: HeaderValue,
    timeout: Duration,
    connect_timeout: Duration,
}

impl Endpoint {
    /// The endpoint of a checked `http://` target URL (its path prefix is
    /// the caller's to render).
    pub fn new(url: &reqwest::Url, timeout: Duration) -> Endpoint {
        let host = url.host_str().unwrap_or("localhost");
        let port = url.port_or_known_default().unwrap_or(80);
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        Endpoint {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            origin: format!("{}://{host}:{port}", url.scheme()),
            host_header: HeaderValue::from_str(&authority)
                .expect("a parsed URL's authority is a valid header value"),
            timeout,
            connect_timeout: timeout.min(Duration::from_secs(10)),
        }
    }

    /// A TCP connection to the target (no-delay set), within `within`.
    pub async fn tcp(&self, within: Duration) -> std::io::Result<TcpStream> {
        let connecting = TcpStream::connect((self.host.as_str(), self.port));
        let stream = tokio::time::timeout(within, connecting)
            .await
            .unwrap_or_else(|_| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "no connection within {}",
                        humantime::format_duration(within)
                    ),
                ))
            })?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

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
        let timeout = self.endpoint.timeout;
        match tokio::time::timeout(timeout, self.exchange(method, path, body, expect)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // The connection is mid-exchange: it cannot be reused.
                self.open = None;
                Outcome::Error(
                    ErrorClass::Timeout,
                    format!(
                        "{method} {}{path}: no complete answer within {}",
                        self.endpoint.origin,
                        humantime::format_duration(timeout)
                    ),
                )
            }
        }
    }

    async fn exchange(
        &mut self,
        method: &Method,
        path: &str,
        body: Option<String>,
        expect: u16,
    ) -> Outcome {
        let ep = Arc::clone(&self.endpoint);
        let what = || format!("{method} {}{path}", ep.origin);
        let path: Cow<'_, str> = percent_encoding::utf8_percent_encode(path, PATH_ENCODE).into();
        let uri = match Uri::try_from(path.as_ref()) {
            Ok(uri) => uri,
            Err(e) => return Outcome::Error(ErrorClass::Request, format!("{}: {e}", what())),
        };
        // Room for exactly the headers sent: hyper keeps the request's
        // header map on the connection for reuse (memory per idle user).
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(HOST, ep.host_header.clone());
        let body = match body {
            Some(b) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Full::new(Bytes::from(b))
            }
            None => Full::new(Bytes::new()),
        };
        let mut request = Request::new(body);
        *request.method_mut() = method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;

        // A kept-alive connection the server has closed gives the request
        // back unsent: send it once more on a fresh connection.
        let response = loop {
            let reused = match self.ready().await {
                Ok(reused) => reused,
                Err((class, msg)) => return Outcome::Error(class, format!("{}: {msg}", what())),
            };
            let Some(open) = self.open.as_mut() else {
                return Outcome::Error(ErrorClass::Connect, format!("{}: no connection", what()));
            };
            let sent = open.sender.try_send_request(request);
            tokio::pin!(sent);
            match self.finish(sent).await {
                Ok(response) => break response,
                Err(mut e) => {
                    self.open = None;
                    match e.take_message() {
                        Some(unsent) if reused => request = unsent,
                        _ => {
                            return Outcome::Error(
                                ErrorClass::Request,
                                format!("{}: {}", what(), describe(&e.into_error())),
                            )
                        }
                    }
                }
            }
        };
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let read = async {
            while let Some(frame) = body.frame().await {
                frame?;
            }
            Ok::<(), hyper::Error>(())
        };
        tokio::pin!(read);
        if let Err(e) = self.finish(read).await {
            self.open = None;
            return Outcome::Error(
                ErrorClass::Body,
                format!("{}: status {status}, body: {}", what(), describe(&e)),
            );
        }
        if status == expect {
            return Outcome::Ok;
        }
        let class = match status {
            400..=499 => ErrorClass::Status4xx,
            500..=599 => ErrorClass::Status5xx,
            _ => ErrorClass::StatusOther,
        };
        Outcome::Error(
            class,
            format!("{}: status {status}, expected {expect}", what()),
        )
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

/// Connections shared by open-model arrivals: an arrival takes an idle one
/// or opens a new one, and gives it back after its request. At most as many
/// as requests in flight.
#[derive(Debug)]
pub struct ConnectionPool {
    endpoint: Arc<Endpoint>,
    idle: Mutex<Vec<Connection>>,
}

impl ConnectionPool {
    pub fn new(endpoint: Arc<Endpoint>) -> ConnectionPool {
        ConnectionPool {
            endpoint,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle connection, or a new one.
    pub fn take(&self) -> Connection {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        idle.unwrap_or_else(|| Connection::new(Arc::clone(&self.endpoint)))
    }

    /// Gives a connection back for the next arrival.
    pub fn give_back(&self, connection: Connection) {
        if connection.open.is_some() {
            if let Ok(mut idle) = self.idle.lock() {
                idle.push(connection);
            }
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
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

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
