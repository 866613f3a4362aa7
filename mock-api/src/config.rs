//! Start-up configuration: flags, each with an environment variable.

use std::net::SocketAddr;
use std::time::Duration;

use crate::behaviour::{Behaviour, Cause};
use crate::error::Error;

/// The default database: a file in the working directory.
pub const DEFAULT_DATABASE: &str = "sqlite://mock-api.db";

/// How to start the mock API.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "mock-api",
    version,
    about = "The mission-planning API on SQLite: a known target for load testing"
)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port; the chosen one is printed).
    #[arg(long, env = "MOCK_API_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Also listen here for the admin and truth endpoints (/__admin/*,
    /// /metrics), which the API address then no longer serves.
    #[arg(long, env = "MOCK_API_ADMIN_LISTEN", value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,

    /// A request head must arrive within this (a client dribbling headers
    /// is dropped); also how long an idle keep-alive connection is kept.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub header_timeout: Duration,

    /// A request body must arrive within this (408 past it).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub body_timeout: Duration,

    /// Connections served at once; past it a new connection is answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = 16_384,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// SQLite database, as sqlite://PATH; created and migrated if missing.
    #[arg(long, env = "MOCK_API_DATABASE", default_value = DEFAULT_DATABASE)]
    pub database: String,

    /// Missions to seed when the database is empty (or with --reset).
    #[arg(long, env = "MOCK_API_MISSIONS", default_value_t = 1000)]
    pub missions: u32,

    /// Seed of the generated missions.
    #[arg(long, env = "MOCK_API_SEED", default_value_t = 42)]
    pub seed: u64,

    /// Delete the database first, then migrate and seed it afresh.
    #[arg(long)]
    pub reset: bool,

    /// Behaviour file (TOML): latency, faults, emulated causes; flags below add to it.
    #[arg(long, env = "MOCK_API_BEHAVIOUR")]
    pub behaviour: Option<std::path::PathBuf>,

    /// Added latency, ROUTE=DIST (repeatable). ROUTE: get_mission, update_waypoint,
    /// search_missions, create_mission, delete_mission or all. DIST (ms): fixed(50),
    /// uniform(10,90), normal(50,5), lognormal(20,200) (median, p99), exponential(30).
    #[arg(long = "latency", value_name = "ROUTE=DIST")]
    pub latency: Vec<String>,

    /// A concurrency ceiling, ROUTE=N (repeatable): the route serves at most
    /// N requests at once, the others wait in arrival order.
    #[arg(long = "concurrency", value_name = "ROUTE=N")]
    pub concurrency: Vec<String>,

    /// An emulated network path, NAME=PORT:rtt(300ms),jitter(30ms),bandwidth(2mbit),loss(0.5%)
    /// (repeatable; each part optional; port 0: a free one): an extra
    /// listener whose connections cross it both ways.
    #[arg(long = "link", value_name = "NAME=PORT:PARTS")]
    pub link: Vec<String>,

    /// A fault, ROUTE=KIND:PROBABILITY (repeatable). KIND: 500, 503, reset, hang, dribble(MS).
    #[arg(long = "fault", value_name = "ROUTE=KIND:P")]
    pub fault: Vec<String>,

    /// An emulated regression cause (repeatable): missing-index, n-plus-one,
    /// memory-leak, slow-dependency.
    #[arg(long = "emulate", value_name = "CAUSE")]
    pub emulate: Vec<String>,

    /// Bytes each request retains under memory-leak [default: 65536].
    #[arg(long)]
    pub leak_bytes: Option<u64>,

    /// Cap on leaked bytes [default: 536870912 = 512 MiB].
    #[arg(long)]
    pub leak_cap_bytes: Option<u64>,

    /// Latency of the emulated upstream service (slow-dependency) [default: fixed(20)].
    #[arg(long, value_name = "DIST")]
    pub dependency_latency: Option<String>,

    /// Calls the emulated upstream service serves at once, the others
    /// waiting in arrival order [default: unlimited].
    #[arg(long, value_name = "N")]
    pub dependency_concurrency: Option<u32>,

    /// Stall windows, EVERY:FOR[:PHASE] (e.g. 10s:1s): requests reaching a
    /// handler during the first FOR of every EVERY wait until it ends.
    #[arg(long, value_name = "EVERY:FOR")]
    pub stall: Option<String>,

    /// An emulated storage condition: none, full (writes needing a new page
    /// fail) or read-only (every write fails); refused writes are 503.
    #[arg(long, value_name = "FAULT")]
    pub storage_fault: Option<String>,

    /// Seed of every latency and fault draw [default: 0].
    #[arg(long)]
    pub behaviour_seed: Option<u64>,

    /// Enables the writing admin endpoints (PUT /__admin/behaviour, POST
    /// /__admin/reset), which then demand `Authorization: Bearer TOKEN`.
    #[arg(long, env = "MOCK_API_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<Secret>,

    /// Serve HTTPS (rustls): with no --tls-cert, a certificate for
    /// localhost, 127.0.0.1 and ::1 is made at start and written beside the
    /// database as DATABASE.cert.pem (its path is printed).
    #[arg(long, env = "MOCK_API_TLS")]
    pub tls: bool,

    /// The certificate chain to serve (PEM); implies --tls, needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Serve HTTP/1.1 only (ALPN offers only http/1.1; no h2c).
    #[arg(long, conflicts_with = "http2_only")]
    pub http1_only: bool,

    /// Serve HTTP/2 only (ALPN offers only h2; on a plain listener, h2c
    /// with prior knowledge).
    #[arg(long)]
    pub http2_only: bool,

    /// Added to each TLS handshake, as DIST in ms (e.g. fixed(20)): a far
    /// or slow TLS terminator. Same as the behaviour's tls_handshake_delay.
    #[arg(long, value_name = "DIST")]
    pub tls_handshake_delay: Option<String>,

    /// Read connections: the search pool, idle mission-read connections, and
    /// slow emulated mission reads at once (writes always use one connection).
    #[arg(long, env = "MOCK_API_READ_CONNECTIONS", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub read_connections: u32,

    /// Requests at or over this service time are kept, with their trace id
    /// and statements, in the ring at /__admin/slow.
    #[arg(long, value_name = "MS", default_value_t = crate::truth::evidence::SLOW_REQUEST_MS)]
    pub slow_request_ms: u64,

    /// Log store calls at or over this time ("slow statement": kind, time,
    /// trace id, SQL with its placeholders) [default: off].
    #[arg(long, value_name = "MS")]
    pub slow_query_ms: Option<u64>,

    /// Slow requests /__admin/slow keeps (the oldest go first).
    #[arg(long, value_name = "N", default_value_t = crate::truth::evidence::SLOW_RING,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub slow_ring: u32,

    /// Export spans (each request's, continuing its traceparent's trace,
    /// with its store and upstream calls) over OTLP/HTTP to this URL, e.g.
    /// http://127.0.0.1:4318/v1/traces.
    #[arg(long, env = "MOCK_API_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

/// A value that is never printed: its `Debug` shows only its length, so a
/// configuration or state logged whole does not leak the admin token.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(redacted, {} bytes)", self.0.len())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// `30s`, `500ms`, `2m`: a positive duration.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e} (e.g. 30s, 500ms)"))?;
    if d.is_zero() {
        return Err(format!("{s:?}: must be more than 0"));
    }
    Ok(d)
}

impl Config {
    /// The limits on what one client may hold.
    pub fn limits(&self) -> crate::serve::Limits {
        crate::serve::Limits {
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            max_connections: self.max_connections as usize,
        }
    }

    /// A configuration for tests and embedding: port 0 on loopback, the given database file.
    pub fn ephemeral(database: &std::path::Path) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_listen: None,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            max_connections: 16_384,
            database: format!("sqlite://{}", database.display()),
            missions: 1000,
            seed: 42,
            reset: false,
            read_connections: 8,
            slow_request_ms: crate::truth::evidence::SLOW_REQUEST_MS,
            slow_query_ms: None,
            slow_ring: crate::truth::evidence::SLOW_RING,
            otlp_endpoint: None,
            behaviour: None,
            latency: Vec::new(),
            concurrency: Vec::new(),
            link: Vec::new(),
            fault: Vec::new(),
            emulate: Vec::new(),
            leak_bytes: None,
            leak_cap_bytes: None,
            dependency_latency: None,
            dependency_concurrency: None,
            behaviour_seed: None,
            stall: None,
            storage_fault: None,
            admin_token: None,
            tls: false,
            tls_cert: None,
            tls_key: None,
            http1_only: false,
            http2_only: false,
            tls_handshake_delay: None,
        }
    }

    /// Whether the API listener serves HTTPS.
    pub fn serves_tls(&self) -> bool {
        self.tls || self.tls_cert.is_some()
    }

    /// The HTTP versions served.
    pub fn protocols(&self) -> crate::tls::Protocols {
        use crate::tls::Protocols;
        match (self.http1_only, self.http2_only) {
            (true, _) => Protocols::Http1Only,
            (_, true) => Protocols::Http2Only,
            _ => Protocols::Both,
        }
    }

    /// The start-up behaviour: the file's, then the flags on top. Errors name
    /// the file (with its line) or the flag.
    pub fn behaviour(&self) -> Result<Behaviour, Error> {
        let bad = |m: String| Error::Config(m);
        let mut b = match &self.behaviour {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| bad(format!("--behaviour {}: {e}", path.display())))?;
                let b: Behaviour = toml::from_str(&text).map_err(|e| {
                    let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
                    bad(format!(
                        "--behaviour {}{}: {}",
                        path.display(),
                        line.map(|l| format!(":{l}")).unwrap_or_default(),
                        e.message()
                    ))
                })?;
                b.validate()
                    .map_err(|e| bad(format!("--behaviour {}: {e}", path.display())))?;
                b
            }
            None => Behaviour::default(),
        };
        for flag in &self.latency {
            b.add_latency_flag(flag).map_err(bad)?;
        }
        for flag in &self.concurrency {
            b.add_concurrency_flag(flag).map_err(bad)?;
        }
        for flag in &self.link {
            b.add_link_flag(flag).map_err(bad)?;
        }
        for flag in &self.fault {
            b.add_fault_flag(flag).map_err(bad)?;
        }
        for cause in &self.emulate {
            let c: Cause = cause.parse().map_err(|e| bad(format!("--emulate: {e}")))?;
            b.emulate.insert(c);
        }
        if let Some(n) = self.leak_bytes {
            b.leak_bytes = n;
        }
        if let Some(n) = self.leak_cap_bytes {
            b.leak_cap_bytes = n;
        }
        if let Some(d) = &self.dependency_latency {
            b.dependency_latency = d
                .parse()
                .map_err(|e| bad(format!("--dependency-latency: {e}")))?;
        }
        if let Some(n) = self.dependency_concurrency {
            b.dependency_concurrency = Some(n);
        }
        if let Some(stall) = &self.stall {
            b.stall = Some(stall.parse().map_err(bad)?);
        }
        if let Some(fault) = &self.storage_fault {
            b.storage = fault
                .parse()
                .map_err(|e| bad(format!("--storage-fault: {e}")))?;
        }
        if let Some(d) = &self.tls_handshake_delay {
            b.tls_handshake_delay = Some(
                d.parse()
                    .map_err(|e| bad(format!("--tls-handshake-delay: {e}")))?,
            );
        }
        if let Some(seed) = self.behaviour_seed {
            b.seed = seed;
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_token_is_never_printed() {
        let mut config = Config::ephemeral(std::path::Path::new("x.db"));
        config.admin_token = Some("hunter2-admin-token".into());
        let printed = format!("{config:?} {config:#?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("redacted"));
    }
}
