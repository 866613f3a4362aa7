//! The mission-planning API on SQLite: the *known target* that the harness
//! (or any load tool) is pointed at.
//!
//! # Layout
//! - [`config`]: start-up flags ([`Config`]).
//! - [`startup`]: [`app`] (the router, testable without a socket) and
//!   [`Application`] (store + listener, graceful shutdown).
//! - [`route`]: the route registry: every API route's name, method and
//!   path, declared once; the router, the behaviour's draws and the
//!   truth's tables are built from it.
//! - [`routes`]: one module per resource (`missions`, `health`, `openapi`, `admin`).
//! - [`store`]: schema (embedded migrations), queries, bulk loading; the
//!   emulated causes switch the query path ([`store::QueryPlan`]).
//! - [`behaviour`]: added latency, faults and emulated causes (flags, file, admin API).
//! - [`middleware`]: truth (timing, counting) around behaviour around each API route.
//! - [`truth`]: the server's own statistics (`/metrics`, `/__admin/stats`), the leak.
//! - [`upstream`]: the emulated upstream service (slow-dependency).
//! - [`delay`]: a precise timer thread for injected latency.
//! - [`serve`]: the accept loop: HTTP/1.1 and HTTP/2, plain or TLS, with
//!   header and body timeouts, a connection cap, HTTP/2 stream bounds,
//!   graceful drain.
//! - [`tls`]: HTTPS: the certificate (made or given), ALPN, the handshake
//!   and its emulated delay.
//! - [`listener`]: connections a fault can reset.
//! - [`link`]: emulated network paths (`--link`): a link listener's
//!   connections carried with delay, bandwidth and loss.
//! - [`state`]: what handlers share.
//! - [`extract`]: extractors whose rejections are problem+json; `ETag`/`If-Match`.
//! - [`error`]: the crate's one error type, mapped to `application/problem+json`.
//! - [`telemetry`]: `tracing` set-up.

pub mod behaviour;
pub mod config;
pub mod delay;
pub mod error;
pub mod extract;
pub mod link;
pub mod listener;
pub mod middleware;
pub mod route;
pub mod routes;
pub mod serve;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod truth;
pub mod upstream;

pub use behaviour::Behaviour;
pub use config::Config;
pub use error::{Error, Problem};
pub use startup::{app, Application};
pub use state::AppState;
pub use store::Store;
