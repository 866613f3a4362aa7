//! Start-up configuration: flags, each with an environment variable.

use std::net::SocketAddr;

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

    /// Read connections in the pool (writes always use one connection).
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
        }
    }
}
