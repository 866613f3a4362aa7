//! A generic HTTP load harness: it knows scenarios, not missions.
//!
//! # Layout (the pipeline, one module per step)
//! - [`scenario`]: TOML → validated [`Scenario`] (errors name file, line, field).
//! - [`template`]: key choice (uniform, zipf), path and body templates.
//! - [`plan`]: stages → target users or arrival rate at time `t`.
//! - [`engine`]: virtual users / open-model scheduler, think time.
//! - [`client`]: one request, classified outcome.
//! - [`collector`]: HdrHistograms per task × stage, time series, error classes.
//! - [`record`]: the run record (JSON, `schema_version` 1).
//! - [`verdict`]: SLOs → pass/fail.
//! - [`server`]: the target's own statistics (`/__admin/stats`) over the
//!   steady window and the run, when it offers them.
//! - [`analysis`], [`stats`]: history → trend, change points, severity, causes.
//! - [`compare`]: two records (or folders) compared on their full distributions.
//! - [`report`]: self-contained HTML (inline SVG) and JUnit XML.
//! - [`summary`], [`progress`]: printing (never measuring).
//! - [`runner`], [`cli`]: `harness run` and `harness demo`.
//!
//! Only `demo` starts a mock-api (in-process); everything else talks HTTP.

pub mod analysis;
pub mod cli;
pub mod client;
pub mod collector;
pub mod compare;
pub mod engine;
pub mod error;
pub mod plan;
pub mod progress;
pub mod record;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod server;
pub mod stats;
pub mod summary;
pub mod template;
pub mod verdict;

pub use error::Error;
pub use record::RunRecord;
pub use scenario::Scenario;
