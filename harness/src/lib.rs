//! A generic HTTP load harness: it knows scenarios, not missions.
//!
//! # Layout: the pipeline, one folder per stage, data flowing down
//! - [`scenario`]: TOML → validated [`Scenario`] (errors name file, line,
//!   field); key choice and request templates ([`scenario::template`]).
//! - [`load`]: the plan (stages → users or arrival rate at `t`), the engine
//!   (virtual users, open-model scheduler, think time), the client (one
//!   request, classified outcome), the collector (HdrHistograms per task ×
//!   stage, time series, error classes).
//! - [`server`]: the target's own statistics (`/__admin/stats`) read over
//!   HTTP and subtracted per window.
//! - [`record`]: the run record (JSON, `schema_version` 5), built once with
//!   its verdict; [`record::verdict`] judges any record, fresh or from disk;
//!   [`record::merge`] merges a sharded run's records exactly.
//! - [`analysis`]: history → trend, change points, severity, causes;
//!   compare two records on their distributions.
//! - [`output`]: everything printed or rendered: the summary, progress,
//!   text renderings, HTML and JUnit reports.
//! - [`run`]: `harness run` end to end (and `demo`, behind the `demo`
//!   feature); [`cli`]: flags → commands → exit codes.
//! - [`review`]: `harness review`: a scenario (and its target) against
//!   the seed document's governance checklist.
//! - [`capacity`]: `harness capacity`: steps of rising load, each run as
//!   `run` runs a stage and judged on the SLOs, until the target fails or
//!   saturates; one record with every step, the knee and a USL fit.
//! - [`score`]: `harness score`: a trial's behaviour on the target, another
//!   tool run against it, its output through its adapter, the server's
//!   truth over the same window, a scorecard.
//! - [`adapters`]: other tools' output (wrk, oha, hey, Locust, k6,
//!   vegeta, JMeter, Gatling, our own records) in one shape.
//! - [`import`]: `harness import`: other tools' results as run records
//!   (`source` names the tool), for history, analysis, compare, report.
//! - [`tools`]: the load tools the harness knows by name.
//! - [`histogram`]: the one histogram shape, merge and wire form;
//!   [`error`]: the one error type.
//!
//! No module imports one that imports it back. An order they build in:
//! the leaves (`error`, `histogram`, `tools`), `scenario`, `load`,
//! `server`, `record`, `analysis`; then what reads other tools' output,
//! scenarios and targets (`adapters`, `import`, `review`, `score`); then
//! `output`, which prints all of the above; then `run`, `capacity` and
//! `cli`, which drive them. Only [`in_process`] (behind the `demo` feature)
//! starts a mock-api, for `demo`, the regression story and `score`;
//! everything else talks HTTP.

pub mod adapters;
pub mod analysis;
pub mod capacity;
pub mod cli;
pub mod error;
pub mod histogram;
pub mod import;
#[cfg(feature = "demo")]
pub mod in_process;
pub mod live;
pub mod load;
pub mod output;
pub mod record;
pub mod review;
pub mod run;
pub mod scenario;
pub mod score;
pub mod server;
pub mod tools;

pub use error::Error;
pub use record::RunRecord;
pub use scenario::Scenario;
