//! `harness capacity`: its flags, the search run, the result printed, and
//! the exit code: 0 the capacity meets `--require` (without it: the first
//! step passed), 1 not, 2 usage, scenario or target error.

use super::RecordArgs;
use crate::error::Error;
use crate::output;
use crate::scenario::ScenarioRef;

#[derive(Debug, clap::Args)]
pub struct CapacityArgs {
    /// Base URL of the target.
    #[arg(long, env = "HARNESS_TARGET", default_value = "http://127.0.0.1:8080")]
    pub target: String,
    /// Scenario file (TOML) or a built-in's name: its tasks, keys, think
    /// time and SLOs (its stages are replaced by the steps) [default: the
    /// built-in REQ-PERF-401].
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: Option<ScenarioRef>,
    /// open: steps of arrivals per second; closed: steps of users
    /// [default: the model of the scenario's steady stage].
    #[arg(long, value_enum)]
    pub model: Option<crate::record::Model>,
    /// The first step's load (req/s or users) [default: 10].
    #[arg(long, allow_negative_numbers = true)]
    pub start: Option<f64>,
    /// How the load grows: N adds N each step, xF multiplies by F.
    #[arg(long, default_value = "x2", value_parser = crate::capacity::parse_step)]
    pub step: crate::record::capacity::StepRule,
    /// How long each step holds its load (judged over this).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub hold: std::time::Duration,
    /// How long each step ramps from nothing to its load before the hold
    /// (0s: none) [default: a sixth of --hold].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub ramp: Option<std::time::Duration>,
    /// The highest load to try [default: 100000 req/s open, 10000 users closed].
    #[arg(long, allow_negative_numbers = true)]
    pub max: Option<f64>,
    /// The most steps to run.
    #[arg(long, default_value_t = 30)]
    pub max_steps: u32,
    /// Exit 1 unless the capacity is at least this (req/s or users)
    /// [default: exit 1 only when not even the first step passes].
    #[arg(long, allow_negative_numbers = true)]
    pub require: Option<f64>,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub transport: super::run_args::TransportArgs,
}

pub(super) async fn handle_capacity(a: CapacityArgs) -> Result<u8, Error> {
    let record: crate::run::RecordOptions = a.record.into();
    let format = record.format;
    let done = crate::capacity::search(&crate::capacity::CapacityOptions {
        target: a.target,
        scenario: a.scenario,
        model: a.model,
        start: a.start,
        step: a.step,
        hold: a.hold,
        ramp: a.ramp,
        max: a.max,
        max_steps: a.max_steps,
        require: a.require,
        record,
        transport: a.transport.into(),
    })
    .await?;
    let _ = output::print_capacity(
        &mut std::io::stdout().lock(),
        &done.record,
        &done.written.path,
        done.written.report.as_deref(),
        format,
    );
    Ok(done.record.verdict.exit_code())
}
