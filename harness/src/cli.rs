//! Command-line interface: flags and subcommands (clap), dispatched to the
//! library. Exit codes: 0 all SLOs pass, 1 an SLO fails, 2 usage, scenario,
//! target or input error.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::Error;
use crate::runner::{self, DemoOptions, RunOptions};

/// The built-in scenario lasts 40 min; this scale makes the demo about 90 s.
pub const DEMO_SCALE: f64 = 0.0375;

#[derive(Debug, Parser)]
#[command(
    name = "harness",
    version,
    about = "HTTP load harness: scenarios, stages, SLO verdicts, run records"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario against a target and judge it.
    Run(RunArgs),
    /// Start mock-api in-process and run the built-in scenario against it (about 90 s).
    Demo(DemoArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Base URL of the target.
    #[arg(long, env = "HARNESS_TARGET", default_value = "http://127.0.0.1:8080")]
    pub target: String,
    /// Scenario file (TOML); the built-in REQ-PERF-401 scenario when absent.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Multiply every stage's duration by this (think time and users unchanged).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub duration_scale: f64,
    /// Seed of every random choice (task, key, think time, body values).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to write the run record [default: results/<UTC timestamp>-<scenario>.json].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A label stored in the record (build, commit, machine...).
    #[arg(long)]
    pub label: Option<String>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
    /// Do not read the target's /__admin/stats (read by default when it answers).
    #[arg(long)]
    pub no_server_stats: bool,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Multiply the built-in scenario's stage durations by this.
    #[arg(long, default_value_t = DEMO_SCALE, allow_negative_numbers = true)]
    pub duration_scale: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to write the run record [default: results/<UTC timestamp>-req-perf-401.json].
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub quiet: bool,
    /// Do not read the mock-api's /__admin/stats.
    #[arg(long)]
    pub no_server_stats: bool,
}

/// Runs a parsed command; returns the exit code.
pub async fn dispatch(cli: Cli) -> Result<u8, Error> {
    let result = match cli.command {
        Command::Run(a) => {
            runner::run(&RunOptions {
                target: a.target,
                scenario: a.scenario,
                duration_scale: a.duration_scale,
                seed: a.seed,
                out: a.out,
                label: a.label,
                quiet: a.quiet,
                no_server_stats: a.no_server_stats,
            })
            .await?
        }
        Command::Demo(a) => {
            runner::demo(&DemoOptions {
                duration_scale: a.duration_scale,
                seed: a.seed,
                out: a.out,
                quiet: a.quiet,
                no_server_stats: a.no_server_stats,
            })
            .await?
        }
    };
    Ok(if result.passed { 0 } else { 1 })
}
