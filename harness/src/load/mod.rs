//! Applying load. In: a validated scenario, a target URL and a seed. Out:
//! what was measured ([`engine::RunOutput`]: histograms per task × stage,
//! error classes, a time series, stage times) and a live view for progress.
//!
//! - [`plan`]: stages → target users or arrival rate at time `t`.
//! - [`engine`]: virtual users (closed model) or the arrival scheduler
//!   (open model), user classes, think time, key choice.
//! - [`flow`]: one iteration of a task: its steps, checks and variables.
//! - `shared`: what a run's users and arrivals share: classes, destinations,
//!   the task picked, the reporting.
//! - [`placement`]: each user's class; weighted picks.
//! - [`endpoint`]: the target URL checked, how to connect to it, the
//!   connections and handshakes made; [`transport`]: a connection opened
//!   (plain or TLS) with its phases timed; [`tls`]: the client's trust.
//! - [`client`]: one request on a user's connection (HTTP/1.1 through
//!   the [`native`] engine or hyper's, or HTTP/2 through [`h2pool`]), its
//!   phases; [`pool`]: the connections
//!   open-model arrivals share.
//! - [`request`]: the request as hyper's engine takes it.
//! - [`outcome`]: what became of a request, its error classified
//!   ([`outcome::ErrorClass`]).
//! - [`collector`]: the one place results go; [`phases`]: where each
//!   request's time went.

pub mod client;
pub mod collector;
pub mod endpoint;
pub mod engine;
mod flow;
pub mod h2pool;
pub mod native;
pub mod outcome;
pub mod phases;
pub mod placement;
pub mod plan;
pub mod pool;
pub mod request;
mod shared;
pub mod slowest;
pub mod tls;
pub mod trace;
pub mod transport;
