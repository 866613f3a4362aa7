//! The mission-planning API on SQLite: the *known target* that the harness
//! (or any load tool) is pointed at.
//!
//! # Layout
//! - [`config`]: start-up flags ([`Config`]).
//! - [`startup`]: [`app`] (the router, testable without a socket) and
//!   [`Application`] (store + listener, graceful shutdown).
//! - [`routes`]: one module per resource (`missions`, `health`, `openapi`).
//! - [`store`]: schema (embedded migrations), queries, bulk loading.
//! - [`extract`]: extractors whose rejections are problem+json; `ETag`/`If-Match`.
//! - [`error`]: the crate's one error type, mapped to `application/problem+json`.
//! - [`telemetry`]: `tracing` set-up.

pub mod config;
pub mod error;
pub mod extract;
pub mod routes;
pub mod startup;
pub mod store;
pub mod telemetry;

pub use config::Config;
pub use error::{Error, Problem};
pub use startup::{app, AppState, Application};
pub use store::Store;
