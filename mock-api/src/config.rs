//! Start-up configuration: flags, each with an environment variable.

use std::net::SocketAddr;

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
    pub admin_token: Option<String>,

    /// Read connections: the search pool, idle mission-read connections, and
    /// slow emulated mission reads at once (writes always use one connection).
    #[arg(long, env = "MOCK_API_READ_CONNECTIONS", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub read_connections: u32,
}

impl Config {
    /// A configuration for tests and embedding: port 0 on loopback, the given database file.
    pub fn ephemeral(database: &std::path::Path) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: format!("sqlite://{}", database.display()),
            missions: 1000,
            seed: 42,
            reset: false,
            read_connections: 8,
            behaviour: None,
            latency: Vec::new(),
            fault: Vec::new(),
            emulate: Vec::new(),
            leak_bytes: None,
            leak_cap_bytes: None,
            dependency_latency: None,
            behaviour_seed: None,
            stall: None,
            storage_fault: None,
            admin_token: None,
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
        if let Some(stall) = &self.stall {
            b.stall = Some(stall.parse().map_err(bad)?);
        }
        if let Some(fault) = &self.storage_fault {
            b.storage = fault
                .parse()
                .map_err(|e| bad(format!("--storage-fault: {e}")))?;
        }
        if let Some(seed) = self.behaviour_seed {
            b.seed = seed;
        }
        Ok(b)
    }
}
