//! `harness run` (and `demo`, in [`demo`]): the pipeline end to end. In:
//! options from flags. Out: the run record on disk (and the HTML report
//! and JUnit file when asked), the summary on stdout, and the verdict.
//!
//! scenario → plan → engine (with progress and Ctrl-C) → the server's
//! truth over the run and the steady window → record (judged as it is
//! built) → files → summary.

#[cfg(feature = "demo")]
pub mod demo;
mod record_options;
#[cfg(feature = "demo")]
pub mod regression;
pub mod shard;

pub use record_options::{
    default_record_path, stamp, write_record, RecordOptions, ReportAt, Written,
};

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use crate::error::{write_file, Error};
use crate::live::LiveExport;
use crate::load::collector::Live;
use crate::load::endpoint::{check_reachable, parse_target};
use crate::load::engine::{self, RunOutput, StageChange};
use crate::output::progress::{self, Mode};
use crate::output::{self, report};
use crate::record::{RunMeta, RunRecord, Shard};
use crate::scenario::{AdHocLoad, Scenario, ScenarioRef, SloExpr};
use crate::server::stats_source::StatsSource;
use crate::server::{self, ServerRecord, StatsSnapshot};

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub enum ScenarioSource {
    /// A built-in scenario or a file (`--scenario`).
    Named(ScenarioRef),
    /// A scenario built in code (`harness demo --regression`).
    Given(Box<Scenario>),
    /// One GET path, one steady stage (`harness run --path`).
    AdHoc {
        path: String,
        load: AdHocLoad,
        duration: std::time::Duration,
    },
}

/// When the run starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Start {
    Now,
    /// At this time (`--start-at`), so shards start together.
    At(chrono::DateTime<chrono::FixedOffset>),
    /// This long from now (`--start-in`).
    In(std::time::Duration),
}

/// What a run needs, from flags.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub target: String,
    /// More targets (`--target` repeated): users and arrivals are spread
    /// over all of them, round-robin.
    pub more_targets: Vec<String>,
    /// Where to read the targets' truth (`--server-stats`, repeatable)
    /// [default: each target that serves `/__admin/stats`].
    pub server_stats: Vec<String>,
    pub scenario: ScenarioSource,
    /// SLOs given on the command line (`--slo`), added to the scenario's.
    pub slos: Vec<SloExpr>,
    /// Every stage's duration multiplied by this (above 0).
    pub duration_scale: f64,
    /// The seed, where the record goes, and what is shown along the way.
    pub record: RecordOptions,
    /// `--http2`, `--ca-cert`, `--insecure`... over the scenario's transport.
    pub transport: crate::scenario::transport::TransportFlags,
    /// Write JUnit XML (one test case per SLO) here.
    pub junit: Option<PathBuf>,
    /// Print the summary on stdout (the regression story prints its own).
    pub summary: bool,
    /// Run only this shard's part of the scenario.
    pub shard: Option<shard::Shard>,
    pub start: Start,
}

/// How a run ended.
#[derive(Debug)]
pub struct RunResult {
    pub record: RunRecord,
    /// Where the record (and its report) went.
    pub written: Written,
}

/// The scenario to run: named, given or ad hoc; with `--slo` added;
/// scaled; this shard's part.
fn scenario(opts: &RunOptions) -> Result<Scenario, Error> {
    let scenario = match &opts.scenario {
        ScenarioSource::Named(r) => r.load()?,
        ScenarioSource::Given(s) => (**s).clone(),
        ScenarioSource::AdHoc {
            path,
            load,
            duration,
        } => Scenario::ad_hoc(path, *load, *duration)?,
    };
    let mut scenario = scenario.with_slos(&opts.slos)?.scaled(opts.duration_scale);
    opts.transport.apply_to(&mut scenario);
    Ok(match opts.shard {
        Some(shard) => shard.apply(&scenario),
        None => scenario,
    })
}

/// Waits for `--start-at` or `--start-in`, announcing it.
async fn wait_for_start(start: Start, mode: Mode) -> Result<(), Error> {
    let wait = match start {
        Start::At(at) => shard::wait_until(at, chrono::Utc::now())?,
        Start::In(d) => d,
        Start::Now => return Ok(()),
    };
    progress::announce(
        mode,
        format_args!("harness: starting in {:.1} s", wait.as_secs_f64()),
    );
    tokio::time::sleep(wait).await;
    Ok(())
}

/// Runs a scenario and writes its record; an SLO failure is a verdict,
/// not an error.
pub async fn run(opts: &RunOptions) -> Result<RunResult, Error> {
    let scenario = scenario(opts)?;
    let targets: Vec<&String> = std::iter::once(&opts.target)
        .chain(&opts.more_targets)
        .collect();
    let mut urls = Vec::new();
    for t in &targets {
        let url = parse_target(t)?;
        check_reachable(&url, &scenario.transport).await?;
        urls.push(url);
    }
    let rec = &opts.record;
    let mode = Mode::detect(rec.quiet);
    let export = match rec.metrics_listen {
        Some(addr) => Some(LiveExport::listen(addr).await?),
        None => None,
    };
    if scenario.transport.tls.insecure && urls.iter().any(|u| u.scheme() == "https") {
        // Said even with --quiet: a run that checked nothing must not pass for one that did.
        eprintln!(
            "harness: WARNING: --insecure: the TLS certificates of the targets are NOT checked"
        );
    }
    progress::announce(
        mode,
        format_args!(
            "harness: {} ({}) against {}: {} stages, {:.0} s, seed {}",
            scenario.name,
            scenario.requirement.id,
            opts.target,
            scenario.stages.len(),
            scenario.total_duration().as_secs_f64(),
            rec.seed
        ),
    );
    let stats = stats_sources(opts, &targets, &scenario.transport.tls).await?;
    wait_for_start(opts.start, mode).await?;
    let seed = opts.shard.map_or(rec.seed, |s| s.seed(rec.seed));
    let watched = export.as_ref().map(|l| (&l.export, opts.shard));
    let (output, server) = measure(&scenario, &urls, seed, mode, stats, watched).await;
    let meta = RunMeta {
        target: targets
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        label: rec.label.clone(),
        seed: rec.seed,
        duration_scale: opts.duration_scale,
        shard: opts.shard,
    };
    let record = RunRecord::build(&scenario, &meta, &output, server);
    let written = write_record(&record, rec, &scenario.name)?;
    if let Some(junit) = &opts.junit {
        write_file(junit, report::junit(&record))?;
    }
    if opts.summary {
        let _ = output::print_run(
            &mut std::io::stdout().lock(),
            &record,
            &written.path,
            written.report.as_deref(),
            rec.format,
        );
    }
    Ok(RunResult { record, written })
}

/// Where the truth is read: `--server-stats` (each must answer), else
/// every target that serves it; none with `--no-server-stats`.
async fn stats_sources(
    opts: &RunOptions,
    targets: &[&String],
    tls: &crate::scenario::transport::TlsOptions,
) -> Result<Vec<StatsSource>, Error> {
    if opts.record.no_server_stats {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    if opts.server_stats.is_empty() {
        for t in targets {
            out.extend(StatsSource::probe(t, tls).await);
        }
        return Ok(out);
    }
    for s in &opts.server_stats {
        let source = StatsSource::probe(s, tls).await.ok_or_else(|| {
            Error::Usage(format!(
                "--server-stats {s}: no /__admin/stats answers there"
            ))
        })?;
        out.push(source);
    }
    Ok(out)
}

/// Runs the engine with progress and Ctrl-C, and reads the servers' truth
/// around the run and its steady window: one instance's record, or with
/// several, their exact sum holding each one.
pub(crate) async fn measure(
    scenario: &Scenario,
    urls: &[reqwest::Url],
    seed: u64,
    mode: Mode,
    stats: Vec<StatsSource>,
    export: Option<(&Arc<LiveExport>, Option<Shard>)>,
) -> (RunOutput, Option<ServerRecord>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop_tx.send(true);
        }
    });
    let run_start = snapshot(&stats).await;
    let (changes_tx, changes_rx) = mpsc::unbounded_channel();
    let steady = tokio::spawn(steady_window(
        stats.clone(),
        steady_bounds(scenario),
        changes_rx,
    ));
    let live = Arc::new(Mutex::new(Live::default()));
    let stages: Vec<String> = scenario.stages.iter().map(|s| s.name.clone()).collect();
    let shown = progress::spawn(mode, Arc::clone(&live), stages, scenario.total_duration());
    let watcher = export.map(|(e, shard)| {
        Box::new(e.begin(scenario, seed, shard)) as Box<dyn crate::load::collector::Watcher>
    });
    let output = engine::run(
        scenario,
        urls,
        seed,
        stop_rx,
        live,
        watcher,
        Some(changes_tx),
    )
    .await;
    shown.stop();
    ctrl_c.abort();
    let n = stats.len();
    let (steady_start, steady_end) = steady.await.unwrap_or((vec![None; n], vec![None; n]));
    let run_end = snapshot(&stats).await;
    let records: Vec<ServerRecord> = (0..n)
        .filter_map(|i| {
            let (start, end) = (run_start[i].as_ref()?, run_end[i].as_ref()?);
            let (a, b) = (steady_start[i].as_ref(), steady_end[i].as_ref());
            Some(server::record(stats[i].url(), start, a, b, end))
        })
        .collect();
    let mut server = match records.len() {
        0 => None,
        1 => records.into_iter().next(),
        _ => server::sum_instances(&records.iter().collect::<Vec<_>>()),
    };
    if let (Some(s), [source]) = (server.as_mut(), stats.as_slice()) {
        s.queries = source.queries().await;
    }
    (output, server)
}

/// Every source's statistics now (`None` where one did not answer).
async fn snapshot(stats: &[StatsSource]) -> Vec<Option<StatsSnapshot>> {
    let mut out = Vec::new();
    for s in stats {
        out.push(s.snapshot().await);
    }
    out
}

/// The first and last steady stage.
fn steady_bounds(s: &Scenario) -> Option<(usize, usize)> {
    let first = s.stages.iter().position(|st| st.steady)?;
    let last = s.stages.iter().rposition(|st| st.steady)?;
    Some((first, last))
}

type Snapshots = Vec<Option<StatsSnapshot>>;

/// Snapshots the targets' statistics when the steady window opens and closes.
async fn steady_window(
    stats: Vec<StatsSource>,
    bounds: Option<(usize, usize)>,
    mut changes: mpsc::UnboundedReceiver<StageChange>,
) -> (Snapshots, Snapshots) {
    let n = stats.len();
    let (mut start, mut end) = (None, None);
    while let Some(change) = changes.recv().await {
        let Some((first, last)) = bounds else {
            continue;
        };
        if change.to == Some(first) && start.is_none() {
            start = Some(snapshot(&stats).await);
        }
        if change.from == Some(last) && end.is_none() {
            end = Some(snapshot(&stats).await);
        }
    }
    (
        start.unwrap_or_else(|| vec![None; n]),
        end.unwrap_or_else(|| vec![None; n]),
    )
}
