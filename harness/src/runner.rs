//! `harness run` and `harness demo`: scenario → plan → engine → record →
//! verdict, with progress, Ctrl-C handling, the summary and the record file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::client::Endpoint;
use crate::collector::Live;
use crate::engine::{self, StageChange};
use crate::error::Error;
use crate::progress::{self, Mode};
use crate::record::{RunMeta, RunRecord};
use crate::scenario::Scenario;
use crate::server::{self, StatsSnapshot, StatsSource};
use crate::summary::write_summary;
use crate::verdict;

/// What a run needs, from flags.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub target: String,
    pub scenario: Option<PathBuf>,
    pub duration_scale: f64,
    pub seed: u64,
    pub out: Option<PathBuf>,
    pub label: Option<String>,
    pub quiet: bool,
    /// Skip the target's `/__admin/stats` even if it answers.
    pub no_server_stats: bool,
    /// Write the HTML report here.
    pub report: Option<PathBuf>,
    /// Write JUnit XML (one test case per SLO) here.
    pub junit: Option<PathBuf>,
}

/// How a run ended.
#[derive(Debug)]
pub struct RunResult {
    pub record: RunRecord,
    pub path: PathBuf,
    pub passed: bool,
}

/// Checks the target URL's form: `http://HOST:PORT` with an optional path prefix.
pub fn parse_target(target: &str) -> Result<reqwest::Url, Error> {
    let url = reqwest::Url::parse(target)
        .map_err(|e| Error::Usage(format!("--target {target:?} is not a URL: {e}")))?;
    if url.scheme() != "http" || url.host_str().is_none() {
        return Err(Error::Usage(format!(
            "--target {target:?} must be an http:// URL with a host (the harness speaks plain HTTP/1.1)"
        )));
    }
    Ok(url)
}

/// Fails fast, in one line, when nothing listens at the target.
pub async fn check_reachable(url: &reqwest::Url) -> Result<(), Error> {
    let within = Duration::from_secs(5);
    Endpoint::new(url, within)
        .tcp(within)
        .await
        .map(drop)
        .map_err(|e| Error::Target(format!("cannot reach target {url}: {e}")))
}

/// `results/20261126T230512Z-req-perf-401.json`.
pub fn default_record_path(scenario: &str) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let safe: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    Path::new("results").join(format!("{stamp}-{safe}.json"))
}

/// Runs a scenario and writes its record; an SLO failure is `passed: false`, not an error.
pub async fn run(opts: &RunOptions) -> Result<RunResult, Error> {
    let scenario = match &opts.scenario {
        Some(path) => Scenario::from_file(path)?,
        None => Scenario::builtin(),
    };
    if !(opts.duration_scale.is_finite() && opts.duration_scale > 0.0) {
        return Err(Error::Usage(format!(
            "--duration-scale must be a number above 0, got {}",
            opts.duration_scale
        )));
    }
    let url = parse_target(&opts.target)?;
    check_reachable(&url).await?;
    let scaled = scenario.scaled(opts.duration_scale);

    let (stop_tx, stop_rx) = watch::channel(false);
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop_tx.send(true);
        }
    });
    let live = Arc::new(Mutex::new(Live::default()));
    let mode = Mode::detect(opts.quiet);
    let stages: Vec<String> = scaled.stages.iter().map(|s| s.name.clone()).collect();
    if mode != Mode::Quiet {
        eprintln!(
            "harness: {} ({}) against {}: {} stages, {:.0} s, seed {}",
            scaled.name,
            scaled.requirement.id,
            opts.target,
            stages.len(),
            scaled.total_duration().as_secs_f64(),
            opts.seed
        );
    }
    let stats = if opts.no_server_stats {
        None
    } else {
        StatsSource::probe(&opts.target).await
    };
    let run_start = match &stats {
        Some(s) => s.snapshot().await,
        None => None,
    };
    let (changes_tx, changes_rx) = tokio::sync::mpsc::unbounded_channel();
    let steady_snapshots = tokio::spawn(steady_window(
        stats.clone(),
        steady_bounds(&scaled),
        changes_rx,
    ));

    let shown = progress::spawn(mode, Arc::clone(&live), stages, scaled.total_duration());
    let output = engine::run(
        &scaled,
        opts.target.as_str(),
        opts.seed,
        stop_rx,
        live,
        Some(changes_tx),
    )
    .await;
    shown.stop();
    ctrl_c.abort();
    let (steady_start, steady_end) = steady_snapshots.await.unwrap_or((None, None));
    let run_end = match &stats {
        Some(s) => s.snapshot().await,
        None => None,
    };

    let meta = RunMeta {
        target: opts.target.clone(),
        label: opts.label.clone(),
        seed: opts.seed,
        duration_scale: opts.duration_scale,
    };
    let mut record = RunRecord::build(&scaled, &meta, &output);
    if let (Some(src), Some(start), Some(end)) = (&stats, &run_start, &run_end) {
        record.server = Some(server::record(
            src.url(),
            start,
            steady_start.as_ref(),
            steady_end.as_ref(),
            end,
        ));
    }
    let passed = verdict::judge(&scaled, &mut record);
    let path = opts
        .out
        .clone()
        .unwrap_or_else(|| default_record_path(&scaled.name));
    record.write(&path)?;
    // `--report` without a path: beside the record.
    let report = opts.report.as_ref().map(|r| {
        if r.as_os_str().is_empty() {
            path.with_extension("html")
        } else {
            r.clone()
        }
    });
    if let Some(report) = &report {
        write_file(report, &crate::report::html(&record, None, None))?;
    }
    if let Some(junit) = &opts.junit {
        write_file(junit, &crate::report::junit(&record))?;
    }

    let mut stdout = std::io::stdout().lock();
    let _ = write_summary(&mut stdout, &record);
    let _ = writeln!(stdout, "record: {}", path.display());
    if let Some(report) = &report {
        let _ = writeln!(stdout, "report: {}", report.display());
    }
    let _ = stdout.flush();
    Ok(RunResult {
        record,
        path,
        passed,
    })
}

/// Writes a text file, creating its folder.
pub fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Io(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
}

/// The first and last steady stage.
fn steady_bounds(s: &Scenario) -> Option<(usize, usize)> {
    let first = s.stages.iter().position(|st| st.steady)?;
    let last = s.stages.iter().rposition(|st| st.steady)?;
    Some((first, last))
}

/// Snapshots the target's statistics when the steady window opens and closes.
async fn steady_window(
    stats: Option<StatsSource>,
    bounds: Option<(usize, usize)>,
    mut changes: tokio::sync::mpsc::UnboundedReceiver<StageChange>,
) -> (Option<StatsSnapshot>, Option<StatsSnapshot>) {
    let (Some(stats), Some((first, last))) = (stats, bounds) else {
        while changes.recv().await.is_some() {}
        return (None, None);
    };
    let (mut start, mut end) = (None, None);
    while let Some(change) = changes.recv().await {
        if change.to == Some(first) && start.is_none() {
            start = stats.snapshot().await;
        }
        if change.from == Some(last) && end.is_none() {
            end = stats.snapshot().await;
        }
    }
    (start, end)
}

/// Options of `harness demo`.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub duration_scale: f64,
    pub seed: u64,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub no_server_stats: bool,
}

/// Starts mock-api in-process on 127.0.0.1:0 over a fresh temporary SQLite
/// database (1000 missions, seed 42), runs the built-in scenario against it,
/// and stops it.
pub async fn demo(opts: &DemoOptions) -> Result<RunResult, Error> {
    let dir = tempfile::tempdir()
        .map_err(|e| Error::Io(format!("cannot create a temporary directory: {e}")))?;
    let config = mock_api::Config::ephemeral(&dir.path().join("demo.db"));
    let app = mock_api::Application::build(&config)
        .await
        .map_err(|e| Error::Target(format!("cannot start the demo mock-api: {e}")))?;
    let target = format!("http://{}", app.local_addr());
    if !opts.quiet {
        eprintln!(
            "demo: mock-api listening on {target} (fresh SQLite database in {}, {} missions, seed {})",
            dir.path().display(),
            config.missions,
            config.seed
        );
    }
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = server_stopped.await;
    }));
    let result = run(&RunOptions {
        target,
        scenario: None,
        duration_scale: opts.duration_scale,
        seed: opts.seed,
        out: opts.out.clone(),
        label: Some("demo".to_owned()),
        quiet: opts.quiet,
        no_server_stats: opts.no_server_stats,
        report: Some(PathBuf::new()),
        junit: None,
    })
    .await;
    let _ = stop_server.send(());
    let _ = server.await;
    result
}
