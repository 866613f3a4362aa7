//! Opening a connection. In: an [`Endpoint`]. Out: an [`Opened`] stream
//! (plain TCP or TLS over it) with the time each phase took (name
//! resolution when the host is a name, TCP connect, TLS handshake) and
//! whether the TLS session was resumed; a failure as a `connect` error
//! naming its phase and reason (an untrusted certificate among them).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::HandshakeKind;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::load::endpoint::Endpoint;
use crate::load::outcome::ErrorClass;

/// A connection's bytes: plain or TLS.
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// The time each phase of a request took, as k6 names them. A request on
/// a reused connection has zero `dns`, `connect` and `tls`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    pub dns: Duration,
    pub connect: Duration,
    pub tls: Duration,
    /// Request written to the response head's arrival.
    pub waiting: Duration,
    /// Response head to the body's end.
    pub receiving: Duration,
}

/// A connection just opened.
#[derive(Debug)]
pub struct Opened {
    pub stream: Stream,
    /// Its dns, connect and tls phases.
    pub phases: Phases,
    /// `Some(resumed)` under TLS.
    pub resumed: Option<bool>,
}

/// Opens a connection to `ep` within `within`, counting it.
pub async fn open(ep: &Endpoint, within: Duration) -> Result<Opened, (ErrorClass, String)> {
    let opening = async {
        let mut phases = Phases::default();
        let start = Instant::now();
        let addr = match ep.host.parse::<std::net::IpAddr>() {
            Ok(ip) => std::net::SocketAddr::new(ip, ep.port),
            Err(_) => {
                let mut found = tokio::net::lookup_host((ep.host.as_str(), ep.port))
                    .await
                    .map_err(|e| format!("dns: {e}"))?;
                let addr = found
                    .next()
                    .ok_or_else(|| format!("dns: no address for {}", ep.host))?;
                phases.dns = start.elapsed();
                addr
            }
        };
        let connecting = Instant::now();
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        phases.connect = connecting.elapsed();
        let Some(tls) = &ep.tls else {
            return Ok(Opened {
                stream: Stream::Plain(tcp),
                phases,
                resumed: None,
            });
        };
        let (config, name) = tls.setup.as_ref().map_err(|e| format!("TLS: {e}"))?;
        let handshaking = Instant::now();
        let connector = TlsConnector::from(std::sync::Arc::clone(config));
        let stream = connector
            .connect(name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS handshake: {}", describe_tls(&e)))?;
        phases.tls = handshaking.elapsed();
        let resumed = stream.get_ref().1.handshake_kind() == Some(HandshakeKind::Resumed);
        Ok(Opened {
            stream: Stream::Tls(Box::new(stream)),
            phases,
            resumed: Some(resumed),
        })
    };
    let opened = match tokio::time::timeout(within, opening).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(msg)) => return Err((ErrorClass::Connect, msg)),
        Err(_) => {
            let within = humantime::format_duration(within);
            return Err((
                ErrorClass::Connect,
                format!("connect: no connection within {within}"),
            ));
        }
    };
    ep.counts.count(&opened);
    Ok(opened)
}

/// A TLS failure in words, with a hint when the certificate is not trusted.
fn describe_tls(e: &io::Error) -> String {
    let inner = e
        .get_ref()
        .map(|i| i.to_string())
        .unwrap_or_else(|| e.to_string());
    if inner.contains("certificate") {
        format!("{inner} (trust it with --ca-cert FILE, or skip the check with --insecure)")
    } else {
        inner
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
