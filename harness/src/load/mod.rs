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
//! - [`endpoint`]: the target URL checked, connections to it.
//! - [`client`]: one request on one keep-alive connection; [`pool`]: the
//!   connections open-model arrivals share.
//! - [`outcome`]: what became of a request, its error classified
//!   ([`outcome::ErrorClass`]).
//! - [`collector`]: the one place results go.

pub mod client;
pub mod collector;
pub mod endpoint;
pub mod engine;
mod flow;
pub mod outcome;
pub mod placement;
pub mod plan;
pub mod pool;
mod shared;
