//! Where requests go. In: the `--target` URL. Out: a checked [`Endpoint`]
//! (host, port, `Host` header, timeouts) and TCP connections to it; a
//! target that is not `http://HOST[:PORT][/prefix]` or does not answer at
//! start is a one-line error.

use std::time::Duration;

use hyper::header::HeaderValue;
use tokio::net::TcpStream;

use crate::error::Error;

/// Checks the target URL's form: `http://HOST:PORT` with an optional path prefix.
pub fn parse_target(target: &str) -> Result<reqwest::Url, Error> {
    let url = reqwest::Url::parse(target)
        .map_err(|e| Error::Usage(format!("--target {target:?} is not a URL: {e}")))?;
    if url.scheme() != "http" || url.host_str().is_none() {
        return Err(Error::Usage(format!(
            "--target {target:?} must be an http:// URL with a host (the harness speaks plain HTTP/1.1)"
        )));
    }
    Ok(url)
}

/// Fails fast, in one line, when nothing listens at the target.
pub async fn check_reachable(url: &reqwest::Url) -> Result<(), Error> {
    let within = Duration::from_secs(5);
    Endpoint::new(url, within)
        .tcp(within)
        .await
        .map(drop)
        .map_err(|source| Error::Unreachable {
            url: url.to_string(),
            source,
        })
}

/// Where requests go: the target's host and port, its `Host` header, and
/// the request timeout. Shared by every connection of a run.
#[derive(Debug)]
pub struct Endpoint {
    /// Host name or address, without IPv6 brackets (for connecting).
    host: String,
    port: u16,
    /// `http://HOST:PORT`, for messages.
    pub(super) origin: String,
    pub(super) host_header: HeaderValue,
    pub(super) timeout: Duration,
    pub(super) connect_timeout: Duration,
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
