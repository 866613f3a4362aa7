//! Where requests go and how. In: the `--target` URL and the run's
//! [`Transport`] (protocol, TLS trust, HTTP/2 connections and streams).
//! Out: a checked [`Endpoint`] (host, port, `Host` header, timeouts, the
//! TLS client configuration, HTTP/2's shared connections) and the counts
//! of connections and TLS handshakes the run made; a target that is not
//! `http(s)://HOST[:PORT][/prefix]` or does not answer at start (its TLS
//! handshake included) is a one-line error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::header::HeaderValue;
use rustls_pki_types::ServerName;

use crate::error::Error;
use crate::load::h2pool::H2Pool;
use crate::load::tls::{client_config, server_name};
use crate::load::transport::{self, Opened};
pub use crate::scenario::transport::{Engine, Protocol, Transport};

/// What ALPN offers for `protocol`.
fn alpn(protocol: Protocol) -> &'static [u8] {
    match protocol {
        Protocol::H1 => b"http/1.1",
        Protocol::H2 => b"h2",
    }
}

/// Checks the target URL's form: `http(s)://HOST[:PORT]` with an optional path prefix.
pub fn parse_target(target: &str) -> Result<reqwest::Url, Error> {
    let url = reqwest::Url::parse(target)
        .map_err(|e| Error::Usage(format!("--target {target:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::Usage(format!(
            "--target {target:?} must be an http:// or https:// URL with a host"
        )));
    }
    Ok(url)
}

/// Fails fast, in one line, when nothing listens at the target or its TLS
/// handshake fails (an untrusted certificate, say, named with its reason).
pub async fn check_reachable(url: &reqwest::Url, transport: &Transport) -> Result<(), Error> {
    let within = Duration::from_secs(5);
    let endpoint = Endpoint::new(url, within, transport);
    if let Some(Err(e)) = endpoint.tls.as_ref().map(|t| &t.setup) {
        return Err(Error::Usage(e.clone()));
    }
    transport::open(&endpoint, within)
        .await
        .map(drop)
        .map_err(|(_, reason)| Error::Unreachable {
            url: url.to_string(),
            source: std::io::Error::other(reason),
        })
}

/// Connections and TLS handshakes a run made to one endpoint.
#[derive(Debug, Default)]
pub struct Counts {
    pub opened: AtomicU64,
    pub tls_full: AtomicU64,
    pub tls_resumed: AtomicU64,
}

impl Counts {
    pub(super) fn count(&self, opened: &Opened) {
        self.opened.fetch_add(1, Ordering::Relaxed);
        match opened.resumed {
            Some(true) => self.tls_resumed.fetch_add(1, Ordering::Relaxed),
            Some(false) => self.tls_full.fetch_add(1, Ordering::Relaxed),
            None => 0,
        };
    }
}

/// Connections and TLS handshakes a run made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionTotals {
    pub opened: u64,
    pub tls_full: u64,
    pub tls_resumed: u64,
}

impl ConnectionTotals {
    pub fn add(&mut self, other: &ConnectionTotals) {
        self.opened += other.opened;
        self.tls_full += other.tls_full;
        self.tls_resumed += other.tls_resumed;
    }
}

/// TLS for an `https://` endpoint: its configuration and the name to
/// verify, or why there is none (a `--ca-cert` file that cannot be read):
/// each connection then fails with that reason.
#[derive(Debug)]
pub(super) struct TlsClient {
    pub(super) setup: Result<(Arc<rustls::ClientConfig>, ServerName<'static>), String>,
}

/// Where requests go: the target's host and port, its `Host` header, the
/// request timeout, and how to connect. Shared by every connection of a
/// run to it.
#[derive(Debug)]
pub struct Endpoint {
    /// Host name or address, without IPv6 brackets (for connecting).
    pub(super) host: String,
    pub(super) port: u16,
    /// `http://HOST:PORT`, for messages.
    pub(super) origin: String,
    pub(super) host_header: HeaderValue,
    pub(super) timeout: Duration,
    pub(super) connect_timeout: Duration,
    pub(super) tls: Option<TlsClient>,
    pub(super) protocol: Protocol,
    pub(super) engine: Engine,
    /// HTTP/2's shared connections (keep-alive users).
    pub(super) h2: Option<H2Pool>,
    pub counts: Counts,
}

impl Endpoint {
    /// The endpoint of a checked `http(s)://` target URL (its path prefix
    /// is the caller's to render).
    pub fn new(url: &reqwest::Url, timeout: Duration, transport: &Transport) -> Endpoint {
        let host = url.host_str().unwrap_or("localhost");
        let port = url.port_or_known_default().unwrap_or(80);
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let tls = match url.scheme() {
            "https" => Some(TlsClient {
                setup: client_config(&transport.tls, alpn(transport.protocol))
                    .and_then(|config| Ok((config, server_name(bare)?)))
                    .map_err(|e| e.to_string()),
            }),
            _ => None,
        };
        Endpoint {
            host: bare.to_owned(),
            port,
            origin: format!("{}://{host}:{port}", url.scheme()),
            host_header: HeaderValue::from_str(&authority)
                .expect("a parsed URL's authority is a valid header value"),
            timeout,
            connect_timeout: timeout.min(Duration::from_secs(10)),
            tls,
            protocol: transport.protocol,
            engine: transport.engine,
            h2: (transport.protocol == Protocol::H2)
                .then(|| H2Pool::new(transport.h2_connections, transport.max_streams)),
            counts: Counts::default(),
        }
    }

    /// Whether HTTP/1.1 requests go through the native engine.
    pub(super) fn is_native(&self) -> bool {
        self.engine == Engine::Native && self.protocol == Protocol::H1
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}
