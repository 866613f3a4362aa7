//! The client's TLS. In: [`TlsOptions`] (`--ca-cert`, `--insecure`, session
//! resumption) and the protocol to ask ALPN for. Out: a rustls
//! `ClientConfig` shared by every connection to a target (so sessions
//! resume across connections), trusting the platform's roots by default
//! (rustls-native-certs), only `--ca-cert FILE`'s when given, or nothing
//! at all with `--insecure` (said in the summary and the record).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::Error;
pub use crate::scenario::transport::TlsOptions;

/// rustls on ring. rustls 0.23.48 deprecates ring's provider for lacking
/// post-quantum key exchange and points to aws-lc-rs, whose C build needs
/// cmake and minutes on a 2-core CI machine; the suites and groups are
/// rustls' defaults. A load tool measures what TLS costs, it guards no
/// secrets.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client configuration for one target; `alpn` is what to offer
/// (`h2` or `http/1.1`).
pub fn client_config(options: &TlsOptions, alpn: &[u8]) -> Result<Arc<ClientConfig>, Error> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Usage(format!("TLS versions: {e}")))?;
    let mut config = if options.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(TrustAnything(provider)))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(roots(options.ca_cert.as_ref())?)
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![alpn.to_vec()];
    if !options.resumption {
        config.resumption = Resumption::disabled();
    }
    Ok(Arc::new(config))
}

/// `--ca-cert FILE`'s certificates, or the platform's.
fn roots(ca_cert: Option<&PathBuf>) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    match ca_cert {
        Some(path) => {
            let bad = |e: String| Error::Usage(format!("--ca-cert {}: {e}", path.display()));
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|c| c.collect::<Result<Vec<_>, _>>())
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no CERTIFICATE in it".to_owned()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| bad(e.to_string()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                tracing::warn!(errors = ?found.errors, "no platform root certificates found");
            }
        }
    }
    Ok(roots)
}

/// The server name to verify: the URL's host (a name or an address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(host.to_owned())
        .map_err(|e| Error::Usage(format!("{host:?} is not a TLS server name: {e}")))
}

/// `--insecure`: every certificate accepted, signatures still checked as
/// well-formed so that the handshake is a real one.
#[derive(Debug)]
struct TrustAnything(Arc<CryptoProvider>);

impl ServerCertVerifier for TrustAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A reqwest client builder trusting what the run trusts (`--ca-cert`,
/// `--insecure`): for reading a target's statistics and the like.
pub fn reqwest_builder(options: &TlsOptions) -> Result<reqwest::ClientBuilder, Error> {
    let mut builder = reqwest::Client::builder();
    if options.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    if let Some(path) = &options.ca_cert {
        let bad = |e: String| Error::Usage(format!("--ca-cert {}: {e}", path.display()));
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
        builder = builder.tls_built_in_root_certs(false);
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    Ok(builder)
}
