//! Building and running the application: `app(state)` is the router (usable
//! without a socket); [`Application`] opens the store, seeds it, binds the
//! listener and serves until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use seed_data::Generator;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::behaviour::{Leak, SharedBehaviour};
use crate::config::Config;
use crate::delay::Delayer;
use crate::error::{Error, Problem};
use crate::link::Link;
use crate::routes;
use crate::serve::{serve, Limits, Serving};
use crate::state::{AppState, AppStateInner};
use crate::store::{database_path, Store};
use crate::tls::{Protocols, Tls};
use crate::truth::Truth;
use crate::upstream::Upstream;

/// Largest request body accepted (413 past it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole API as a router: the API, health, the document, and the
/// admin and truth endpoints.
pub fn app(state: AppState) -> Router {
    router(state, Surface::All)
}

/// Which endpoints a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    /// Everything (one listener).
    All,
    /// The API, health and the document (the admin has its own listener).
    Api,
    /// The admin and truth endpoints, and health.
    Admin,
}

fn router(state: AppState, surface: Surface) -> Router {
    let mut router = Router::new().merge(routes::health::router());
    if surface != Surface::Admin {
        router = router
            .merge(routes::api_router(&state))
            .merge(routes::openapi::router(surface == Surface::All));
    }
    if surface != Surface::Api {
        router = router.merge(routes::admin::router());
    }
    router
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(CatchPanicLayer::custom(|_| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server failed to handle this request; it has been logged",
            )
            .into_response()
        }))
        .with_state(state)
}

/// Each request's span, with the trace id of its `traceparent` (`-`
/// without one), so that its log lines name the trace.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let trace_id = req
        .headers()
        .get("traceparent")
        .and_then(|v| crate::truth::evidence::parse_traceparent(v.as_bytes()))
        .map_or_else(|| "-".to_owned(), crate::truth::evidence::trace_id_hex);
    if !crate::telemetry::exporting() {
        return tracing::debug_span!(
            "request",
            method = %req.method(),
            uri = %req.uri(),
            trace_id = %trace_id,
        );
    }
    // Exported: a server span continuing the caller's trace.
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let span = tracing::info_span!(
        "request",
        otel.name = %format!("{} {}", req.method(), req.uri().path()),
        otel.kind = "server",
        method = %req.method(),
        uri = %req.uri(),
        trace_id = %trace_id,
    );
    let _ = span.set_parent(crate::telemetry::parent_context(req.headers()));
    span
}

async fn route_not_found(req: Request) -> Error {
    Error::RouteNotFound(format!("{} {}", req.method(), req.uri().path()))
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

/// A store opened, migrated and seeded, and bound listeners.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    /// The admin and truth endpoints' own listener (`--admin-listen`).
    admin: Option<(TcpListener, SocketAddr)>,
    /// Emulated links' listeners (`--link`), by name.
    links: Vec<(String, TcpListener, SocketAddr)>,
    limits: Limits,
    protocols: Protocols,
    /// HTTPS on the API listener and links (`--tls`).
    tls: Option<Arc<Tls>>,
    state: AppState,
    local_addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// Pending connections the kernel queues for accept. Tokio's `bind` asks
/// for 128 (libc's SOMAXCONN): a burst of new connections from a load
/// tool (a spike of users, or 10,000 idle ones) overflowed it, the kernel
/// dropped SYNs, and each dropped one cost its client a one-second
/// retransmission. The kernel caps it at `net.core.somaxconn`.
const ACCEPT_BACKLOG: u32 = 4096;

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), Error> {
    let cannot = || Error::io(format!("cannot listen on {addr}"));
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(cannot())?;
    socket.set_reuseaddr(true).map_err(cannot())?;
    socket.bind(addr).map_err(cannot())?;
    let listener = socket.listen(ACCEPT_BACKLOG).map_err(cannot())?;
    let local = listener
        .local_addr()
        .map_err(Error::io("no local address"))?;
    Ok((listener, local))
}

impl Application {
    /// Opens (or with `reset`, recreates) the database, migrates it, seeds it
    /// when empty, and binds the listener.
    pub async fn build(config: &Config) -> Result<Self, Error> {
        let behaviour = config.behaviour()?;
        let path = database_path(&config.database)?;
        if config.reset {
            Store::remove_files(&path)
                .map_err(Error::io(format!("cannot remove {}", path.display())))?;
        }
        let store = Store::open(&path, config.read_connections).await?;
        store.evidence.configure(
            config.slow_request_ms,
            config.slow_query_ms.unwrap_or(0),
            config.slow_ring as usize,
        );
        let existing = store.mission_count().await?;
        if existing == 0 && config.missions > 0 {
            let started = Instant::now();
            let n = store
                .load(Generator::new(config.seed, config.missions), |_| {})
                .await?;
            tracing::info!(
                missions = n,
                seed = config.seed,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "seeded the database"
            );
        } else {
            tracing::info!(missions = existing, path = %path.display(), "using the existing database");
        }
        let tls = if config.serves_tls() {
            let given = config.tls_cert.as_deref().zip(config.tls_key.as_deref());
            Some(Arc::new(Tls::new(given, &path, config.protocols())?))
        } else {
            None
        };
        let (listener, local_addr) = bind(config.listen).await?;
        let admin = match config.admin_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let mut behaviour = behaviour;
        let mut links = Vec::new();
        for (name, spec) in &mut behaviour.links {
            let (l, addr) = bind(SocketAddr::new(config.listen.ip(), spec.port)).await?;
            // The behaviour shows the port chosen.
            spec.port = addr.port();
            links.push((name.clone(), l, addr));
        }
        store.set_storage_fault(behaviour.storage).await?;
        let behaviour = SharedBehaviour::new(behaviour);
        let delayer = Delayer::start();
        let upstream = Upstream::start(behaviour.clone(), delayer.clone()).await?;
        let mut shown = (*behaviour.current()).clone();
        shown.upstream = Some(upstream.base().to_owned());
        behaviour.replace(shown);
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let link_ports = links
            .iter()
            .map(|(n, _, a)| (n.clone(), a.port()))
            .collect();
        Ok(Self {
            listener,
            admin,
            links,
            limits: config.limits(),
            protocols: config.protocols(),
            tls,
            state: AppState::new(AppStateInner {
                store,
                behaviour,
                truth: Arc::new(Truth::default()),
                leak: Arc::new(Leak::default()),
                upstream,
                admin_token: config
                    .admin_token
                    .clone()
                    .filter(|t| !t.expose().is_empty()),
                shutdown: shutdown_rx,
                delayer,
                started: Instant::now(),
                links: link_ports,
            }),
            local_addr,
            shutdown,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `https` under `--tls`, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The API's base URL: `http://127.0.0.1:PORT` or `https://...`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme(), self.local_addr)
    }

    /// The certificate clients can trust, under `--tls`.
    pub fn tls_cert(&self) -> Option<&std::path::Path> {
        self.tls.as_deref().map(Tls::cert_path)
    }

    /// The emulated upstream service's base URL.
    pub fn upstream_url(&self) -> &str {
        self.state.upstream.base()
    }

    /// Each emulated link's name and address (`--link`).
    pub fn link_addrs(&self) -> Vec<(&str, SocketAddr)> {
        self.links
            .iter()
            .map(|(name, _, addr)| (name.as_str(), *addr))
            .collect()
    }

    /// The admin listener's address, when it has its own (`--admin-listen`).
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|(_, addr)| *addr)
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish
    /// and closes the database.
    pub async fn run_until_stopped(self) -> Result<(), Error> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then drains and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let store = self.state.store.clone();
        let stopping = self.shutdown;
        let stop = stopping.subscribe();
        let serving = Serving {
            limits: self.limits,
            protocols: self.protocols,
            tls: self.tls,
            truth: Arc::clone(&self.state.truth),
            counted: true,
            behaviour: self.state.behaviour.clone(),
        };
        let admin = self.admin.map(|(listener, _)| {
            let router = router(self.state.clone(), Surface::Admin);
            // The admin listener stays plain HTTP/1.1 (and h2c).
            let plain = Serving {
                tls: None,
                protocols: Protocols::Both,
                counted: false,
                ..serving.clone()
            };
            tokio::spawn(serve(listener, router, plain, stop.clone(), None))
        });
        let surface = if admin.is_some() {
            Surface::Api
        } else {
            Surface::All
        };
        let links: Vec<_> = self
            .links
            .into_iter()
            .map(|(name, listener, _)| {
                let s = &self.state;
                let link = Link::new(&name, s.behaviour.clone(), Arc::clone(&s.truth));
                let router = router(s.clone(), surface);
                tokio::spawn(serve(
                    listener,
                    router,
                    serving.clone(),
                    stop.clone(),
                    Some(link),
                ))
            })
            .collect();
        let api = tokio::spawn(serve(
            self.listener,
            router(self.state, surface),
            serving,
            stop,
            None,
        ));
        shutdown.await;
        // Stops accepting, ends `hang` faults so that draining does not
        // wait on them, and drains.
        let _ = stopping.send(true);
        let served = api.await;
        if let Some(admin) = admin {
            let _ = admin.await;
        }
        for link in links {
            let _ = link.await;
        }
        store.close().await;
        tracing::info!("stopped; database closed");
        served.map_err(|e| Error::Internal(format!("the server task failed: {e}")))
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; draining in-flight requests");
}

/// Responses built outside handlers (e.g. by tests) use the same shape.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    Problem::new(status, detail).into_response()
}
