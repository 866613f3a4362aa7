//! `harness run` and `harness demo`: their flags, and the flags every
//! command that writes a record shares ([`RecordArgs`], also in
//! `capacity`), read once into the library's options. Values are parsed
//! here, at the edge: a scenario is a built-in's name or a file, a start
//! time a timestamp, a duration scale a number above 0.

use std::path::PathBuf;

use super::Format;
use crate::error::Error;
use crate::run::{self, RecordOptions, ReportAt, RunOptions, ScenarioSource, Start};
use crate::scenario::transport::{Engine, Reuse, TransportFlags};
use crate::scenario::{AdHocLoad, ScenarioRef, SloExpr};

/// What every command that writes a record takes: `run`, `demo` (and its
/// regression story), `capacity`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// Seed of every random choice (task, key, think time, body values).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to write the run record [default: results/<UTC
    /// timestamp>-<scenario>.json; with --regression a folder,
    /// results/regression-CAUSE-<stamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A label stored in the record (build, commit, machine...); the
    /// regression story's builds are labelled LABEL build-N.
    #[arg(long)]
    pub label: Option<String>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
    /// Do not read the target's /__admin/stats (read by default when it answers).
    #[arg(long)]
    pub no_server_stats: bool,
    /// Write the HTML report [default path: the record's, with .html;
    /// `demo` always writes one, the regression story as report.html in
    /// its folder].
    #[arg(long, num_args = 0..=1, value_name = "FILE")]
    pub report: Option<Option<PathBuf>>,
    /// What is printed at the end: text, or JSON (run and demo: the
    /// record's and report's paths, the verdict and each SLO; capacity:
    /// the capacity found; the regression story: its analysis).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Serve live metrics while it runs: Prometheus/OpenMetrics at
    /// /metrics, the live state at /live.json, a dashboard at / (port 0:
    /// any free port; the start prints `metrics listening on http://IP:PORT`).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// How requests travel, over what the scenario says: `run`, `capacity`,
/// `demo`, `score --target`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TransportArgs {
    /// Send over HTTP/2 (TLS with ALPN h2 on https://, h2c with prior
    /// knowledge on http://), requests multiplexed over --connections.
    #[arg(long)]
    pub http2: bool,
    /// HTTP/2 connections per target that keep-alive users share [default: 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: Option<u32>,
    /// Requests in flight at once on one HTTP/2 connection [default: 100].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_streams: Option<u32>,
    /// Trust only this certificate (PEM) for https:// targets, rather
    /// than the platform's roots (mock-api --tls writes one beside its database).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate of an https:// target. Never the default;
    /// said in the summary and the record.
    #[arg(long)]
    pub insecure: bool,
    /// Make a full TLS handshake on every new connection (no session resumption).
    #[arg(long)]
    pub no_tls_resumption: bool,
    /// When every class's users make a new connection: keep-alive,
    /// per-iteration (a new visitor each time) or per-request [default:
    /// the scenario's, else keep-alive].
    #[arg(long, value_name = "REUSE", value_parser = parse_reuse)]
    pub connection: Option<Reuse>,
    /// The HTTP/1.1 engine: native (the harness's own: a fixed buffer
    /// per exchange, no task per connection) or hyper (the reference it
    /// is tested against) [default: native]. HTTP/2 always uses hyper's.
    #[arg(long, value_name = "ENGINE", value_parser = parse_engine)]
    pub engine: Option<Engine>,
}

/// `--engine`: native or hyper.
fn parse_engine(s: &str) -> Result<Engine, String> {
    Engine::parse(s).ok_or_else(|| "expected native or hyper".to_owned())
}

/// `--connection`: keep-alive, per-iteration or per-request.
fn parse_reuse(s: &str) -> Result<Reuse, String> {
    Reuse::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Reuse::ALL.iter().map(|r| r.name()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

impl From<TransportArgs> for TransportFlags {
    fn from(a: TransportArgs) -> Self {
        TransportFlags {
            http2: a.http2,
            ca_cert: a.ca_cert,
            insecure: a.insecure,
            no_resumption: a.no_tls_resumption,
            connections: a.connections,
            max_streams: a.max_streams,
            connection: a.connection,
            engine: a.engine,
        }
    }
}

impl From<RecordArgs> for RecordOptions {
    fn from(a: RecordArgs) -> Self {
        RecordOptions {
            seed: a.seed,
            out: a.out,
            label: a.label,
            quiet: a.quiet,
            no_server_stats: a.no_server_stats,
            report: ReportAt::from_flag(a.report),
            format: a.format,
            metrics_listen: a.metrics_listen,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Base URL of the target; repeat it to spread users and arrivals over
    /// several instances, round-robin.
    #[arg(long, env = "HARNESS_TARGET", default_value = "http://127.0.0.1:8080")]
    pub target: Vec<String>,
    /// Where to read a target's own statistics (its base URL, serving
    /// /__admin/stats; repeatable) [default: each target that serves them].
    #[arg(long, value_name = "URL")]
    pub server_stats: Vec<String>,
    /// Scenario file (TOML), or a built-in scenario's name (see `harness
    /// scenarios`) [default: req-perf-401].
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: Option<ScenarioRef>,
    /// Instead of a scenario, GET this path (e.g. /healthz) for --duration,
    /// with --users (closed model, default 50) or at --rate (open model).
    #[arg(long, conflicts_with = "scenario")]
    pub path: Option<String>,
    /// With --path: this many users, each sending its next request when
    /// the last is answered.
    #[arg(long, requires = "path", conflicts_with = "rate")]
    pub users: Option<u32>,
    /// With --path: this many arrivals per second, whatever the answers.
    #[arg(long, requires = "path")]
    pub rate: Option<f64>,
    /// With --path: how long (e.g. 30s).
    #[arg(long, requires = "path", default_value = "30s", value_parser = humantime::parse_duration)]
    pub duration: std::time::Duration,
    /// Multiply every stage's duration by this (think time and users unchanged).
    #[arg(long, default_value = "1", allow_negative_numbers = true, value_parser = parse_scale)]
    pub duration_scale: f64,
    /// An SLO to judge the run on, as k6 writes thresholds: METRIC OP
    /// BOUND (p50 p95 p99 max in us/ms/s, error_rate as a fraction or %,
    /// errors, rps), optionally task=NAME and class=NAME, over the steady
    /// stages; repeatable, added to the scenario's. Without any, the run
    /// is not judged (verdict NOT JUDGED, exit 0). E.g. --slo 'p95<200ms'
    /// --slo 'errors<=0' --slo 'rps>=100'.
    #[arg(long = "slo", value_name = "SLO", value_parser = clap::value_parser!(SloExpr))]
    pub slos: Vec<SloExpr>,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub transport: TransportArgs,
    /// Write JUnit XML, one test case per SLO.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Run shard I of N (1-based; `auto/N` reads the 0-based
    /// JOB_COMPLETION_INDEX a Kubernetes Indexed Job sets): each stage's
    /// users, rate and max_in_flight divided so the N shards apply exactly
    /// the scenario; merge the records with `harness merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Start at this time (RFC 3339), so shards start together; more than
    /// a second past is an error.
    #[arg(long, value_name = "TIME", conflicts_with = "start_in", value_parser = parse_time)]
    pub start_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Start this long from now (e.g. 30s).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub start_in: Option<std::time::Duration>,
}

#[cfg(feature = "demo")]
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The scenario to demonstrate: a built-in's name (see `harness
    /// scenarios`) or a file [default: req-perf-401].
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "regression")]
    pub scenario: Option<ScenarioRef>,
    /// Multiply the scenario's stage durations by this (with
    /// --regression: each build's 8 s) [default: about 90 s in all
    /// (0.0375 for req-perf-401); 1 with --regression].
    #[arg(long, allow_negative_numbers = true, value_parser = parse_scale)]
    pub duration_scale: Option<f64>,
    /// Tell the seed's regression story instead: builds made a step worse
    /// each by CAUSE, then analysed (none: the control, nothing changes).
    /// --out is then a folder [default: results/regression-CAUSE-<stamp>].
    #[arg(long, value_enum, value_name = "CAUSE")]
    pub regression: Option<run::regression::Injected>,
    /// Builds in the regression story (fewer than the trend test needs to
    /// see a trend are refused, saying why).
    #[arg(long, default_value_t = run::regression::DEFAULT_RUNS, requires = "regression")]
    pub runs: u32,
    #[command(flatten)]
    pub record: RecordArgs,
}

/// `--duration-scale`: a number above 0.
fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("must be a number above 0, got {s:?}")),
    }
}

/// `--start-at`: an RFC 3339 time.
fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("not an RFC 3339 time (2026-11-28T12:00:00Z): {e}"))
}

/// `run`'s flags as options; `--shard` read here (with the job index).
pub(super) fn run_options(a: RunArgs) -> Result<RunOptions, Error> {
    let job_index = std::env::var("JOB_COMPLETION_INDEX").ok();
    let shard = a
        .shard
        .as_deref()
        .map(|s| run::shard::parse_shard(s, job_index.as_deref()))
        .transpose()?;
    let mut targets = a.target.into_iter();
    Ok(RunOptions {
        target: targets.next().unwrap_or_default(),
        more_targets: targets.collect(),
        server_stats: a.server_stats,
        scenario: match a.path {
            Some(path) => ScenarioSource::AdHoc {
                path,
                load: match a.rate {
                    Some(rate) => AdHocLoad::Rate(rate),
                    None => AdHocLoad::Users(a.users.unwrap_or(50)),
                },
                duration: a.duration,
            },
            None => ScenarioSource::Named(a.scenario.unwrap_or_default()),
        },
        slos: a.slos,
        duration_scale: a.duration_scale,
        record: a.record.into(),
        transport: a.transport.into(),
        junit: a.junit,
        summary: true,
        shard,
        start: match (a.start_at, a.start_in) {
            (Some(at), _) => Start::At(at),
            (None, Some(d)) => Start::In(d),
            (None, None) => Start::Now,
        },
    })
}
