//! Logging and tracing. In: `RUST_LOG` (or a default filter) and, with
//! `--otlp-endpoint URL`, where to send spans. Out: log lines on stderr;
//! with an endpoint, each request's span (a child of the trace its
//! `traceparent` names), its store call's and its upstream call's,
//! exported over OTLP/HTTP (protobuf) by the `opentelemetry` crates.
//!
//! Without an endpoint the store and upstream spans are at `debug`, off
//! by default: a request then costs no span beyond the request's own.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans go to an OTLP endpoint (the request span is then at `info`
/// and continues the caller's trace).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Installs a stderr subscriber; `default` is the filter when `RUST_LOG` is unset.
/// Per-request lines are at `debug` (`RUST_LOG=tower_http=debug`).
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The exporter, flushed and shut down when dropped (at the process's end).
#[derive(Debug)]
pub struct Exporting {
    provider: SdkTracerProvider,
}

impl Drop for Exporting {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// As [`init`], and spans exported to `endpoint` (OTLP/HTTP, protobuf,
/// e.g. `http://127.0.0.1:4318/v1/traces`), in batches from a thread of
/// the exporter's own. Call it outside the async runtime (the exporter's
/// blocking HTTP client has a runtime of its own).
pub fn init_exporting(default: &str, endpoint: &str) -> Result<Exporting, String> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| format!("--otlp-endpoint {endpoint}: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("mock-api")
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("mock-api");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let spans = Targets::new()
        .with_target("mock_api", LevelFilter::DEBUG)
        .with_target("tower_http", LevelFilter::INFO);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(spans),
        )
        .try_init();
    EXPORTING.store(true, Ordering::Relaxed);
    Ok(Exporting { provider })
}

/// The W3C trace context of a request's headers, for its span's parent.
pub fn parent_context(headers: &axum::http::HeaderMap) -> opentelemetry::Context {
    use opentelemetry::propagation::TextMapPropagator;
    struct Headers<'a>(&'a axum::http::HeaderMap);
    impl opentelemetry::propagation::Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&Headers(headers))
}
