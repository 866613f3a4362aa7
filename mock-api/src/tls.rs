//! HTTPS and the protocols a listener speaks. In: `--tls`, `--tls-cert` and
//! `--tls-key` (or a certificate made at start with rcgen for `localhost`,
//! `127.0.0.1` and `::1`, written beside the database as PEM so that any
//! client can trust it), `--http1-only`/`--http2-only`, and the behaviour's
//! `tls_handshake_delay`. Out: a [`Tls`] that completes a handshake on an
//! accepted connection and says how it went ([`Handshake`]): the protocol
//! ALPN chose, full or resumed.
//!
//! ALPN offers `h2` and `http/1.1` (or the one forced). TLS 1.3 and 1.2,
//! rustls on ring; sessions resume by ticket (TLS 1.3) or session id
//! (TLS 1.2), so that a client's resumption can be counted.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rustls::server::Acceptor;
use rustls::{HandshakeKind, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::LazyConfigAcceptor;

use crate::behaviour::SharedBehaviour;
use crate::error::Error;

/// The HTTP versions a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocols {
    /// HTTP/1.1 and HTTP/2 (by ALPN under TLS; by the client's preface,
    /// h2c with prior knowledge, on a plain listener).
    #[default]
    Both,
    Http1Only,
    Http2Only,
}

impl Protocols {
    fn alpn(self) -> Vec<Vec<u8>> {
        match self {
            Protocols::Both => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            Protocols::Http1Only => vec![b"http/1.1".to_vec()],
            Protocols::Http2Only => vec![b"h2".to_vec()],
        }
    }
}

/// An HTTP version a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

impl Protocol {
    /// Its key in `/__admin/stats` and its `protocol` label in `/metrics`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http1 => "http1",
            Protocol::Http2 => "h2",
        }
    }
}

/// How a handshake went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// What ALPN chose (HTTP/1.1 when the client offered no ALPN).
    pub protocol: Protocol,
    /// A session resumed rather than a full handshake.
    pub resumed: bool,
}

/// The server side of TLS: its configuration and certificate.
#[derive(Debug)]
pub struct Tls {
    config: Arc<ServerConfig>,
    cert_path: PathBuf,
    /// Handshakes so far: the index of each one's delay draw.
    draws: AtomicU64,
}

/// Where a made certificate and its key go: beside the database,
/// `mock-api.db` → `mock-api.db.cert.pem` and `mock-api.db.key.pem`.
pub fn made_paths(database: &Path) -> (PathBuf, PathBuf) {
    let with = |suffix: &str| {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    (with(".cert.pem"), with(".key.pem"))
}

impl Tls {
    /// Loads `cert` and `key` (PEM), or with `None` makes a self-signed
    /// certificate for `localhost`, `127.0.0.1` and `::1` and writes it
    /// (and its key, readable by the owner only) beside `database`.
    pub fn new(
        given: Option<(&Path, &Path)>,
        database: &Path,
        protocols: Protocols,
    ) -> Result<Tls, Error> {
        let bad = |what: String| Error::Config(what);
        let (certs, key, cert_path) = match given {
            Some((cert, key)) => {
                let certs = CertificateDer::pem_file_iter(cert)
                    .and_then(|c| c.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| bad(format!("--tls-cert {}: {e}", cert.display())))?;
                if certs.is_empty() {
                    return Err(bad(format!(
                        "--tls-cert {}: no CERTIFICATE in it",
                        cert.display()
                    )));
                }
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| bad(format!("--tls-key {}: {e}", key.display())))?;
                (certs, key, cert.to_owned())
            }
            None => {
                let made = rcgen::generate_simple_self_signed(vec![
                    "localhost".to_owned(),
                    "127.0.0.1".to_owned(),
                    "::1".to_owned(),
                ])
                .map_err(|e| Error::Internal(format!("cannot make a certificate: {e}")))?;
                let (cert_path, key_path) = made_paths(database);
                write_private(&key_path, made.signing_key.serialize_pem().as_bytes())?;
                std::fs::write(&cert_path, made.cert.pem()).map_err(|e| {
                    bad(format!(
                        "cannot write the certificate {}: {e}",
                        cert_path.display()
                    ))
                })?;
                let key = PrivateKeyDer::try_from(made.signing_key.serialize_der())
                    .map_err(|e| Error::Internal(format!("the made key: {e}")))?;
                (vec![made.cert.der().clone()], key, cert_path)
            }
        };
        let mut config = ServerConfig::builder_with_provider(Arc::new(provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Internal(format!("TLS versions: {e}")))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| bad(format!("the certificate and key do not fit: {e}")))?;
        config.alpn_protocols = protocols.alpn();
        config.ticketer = rustls::crypto::ring::Ticketer::new()
            .map_err(|e| Error::Internal(format!("TLS tickets: {e}")))?;
        Ok(Tls {
            config: Arc::new(config),
            cert_path,
            draws: AtomicU64::new(0),
        })
    }

    /// The certificate clients can trust (`--cacert` for curl).
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Completes the server's side of a handshake on `io`: reads the
    /// client's hello, waits the behaviour's `tls_handshake_delay` (drawn
    /// per handshake from the seed), then answers.
    pub async fn accept<IO>(
        &self,
        io: IO,
        behaviour: &SharedBehaviour,
    ) -> io::Result<(TlsStream<IO>, Handshake)>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let start = LazyConfigAcceptor::new(Acceptor::default(), io).await?;
        let current = behaviour.current();
        if let Some(dist) = &current.tls_handshake_delay {
            let k = self.draws.fetch_add(1, Ordering::Relaxed);
            let mut rng = ChaCha8Rng::seed_from_u64(current.seed ^ k.wrapping_mul(0x7f4a_7c15));
            let ms = dist.sample(&mut rng);
            tokio::time::sleep(Duration::from_secs_f64(ms / 1000.0)).await;
        }
        let stream = start.into_stream(Arc::clone(&self.config)).await?;
        let (_, conn) = stream.get_ref();
        let handshake = Handshake {
            protocol: match conn.alpn_protocol() {
                Some(b"h2") => Protocol::Http2,
                _ => Protocol::Http1,
            },
            resumed: conn.handshake_kind() == Some(HandshakeKind::Resumed),
        };
        Ok((stream, handshake))
    }
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, pem: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(pem))
        .map_err(|e| Error::Config(format!("cannot write the key {}: {e}", path.display())))
}

/// rustls on ring. rustls 0.23.48 deprecates ring's provider for lacking
/// post-quantum key exchange and points to aws-lc-rs, whose C build needs
/// cmake and minutes on a 2-core CI machine; a loopback test target needs
/// no post-quantum secrecy, and the suites and groups are rustls' defaults.
#[allow(deprecated)]
pub fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}
