//! `harness demo`: the README's main job. In: a scenario (the built-in
//! REQ-PERF-401 unless named), a scale and a seed. Out: the same as
//! `harness run`, against a mock-api started in-process
//! ([`InProcess`]: 127.0.0.1, a free port, a fresh temporary SQLite
//! database, 1000 missions, seed 42), stopped afterwards.

use std::path::PathBuf;

use super::{run, RunOptions, RunResult};
use crate::error::Error;
pub use crate::in_process::InProcess;
use crate::output::progress::{self, Mode};

/// Options of `harness demo`.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// A built-in scenario's name or a file; the built-in REQ-PERF-401 when `None`.
    pub scenario: Option<PathBuf>,
    /// `None`: the scale that makes the scenario last about [`DEMO_SECONDS`].
    pub duration_scale: Option<f64>,
    pub seed: u64,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub no_server_stats: bool,
}

/// How long a demo lasts unless scaled otherwise (REQ-PERF-401's 40 min
/// at 0.0375).
pub const DEMO_SECONDS: f64 = 90.0;

/// Starts mock-api in-process, runs the scenario against it, and stops it.
pub async fn demo(opts: &DemoOptions) -> Result<RunResult, Error> {
    let (source, total) = match &opts.scenario {
        Some(path) => {
            let s = crate::scenario::Scenario::from_file(path)?;
            (
                super::ScenarioSource::File(path.clone()),
                s.total_duration(),
            )
        }
        None => {
            let s = crate::scenario::Scenario::builtin();
            (super::ScenarioSource::Builtin, s.total_duration())
        }
    };
    // Shortened to about 90 s; a scenario already shorter runs as written.
    let scale = opts
        .duration_scale
        .unwrap_or_else(|| (DEMO_SECONDS / total.as_secs_f64().max(1e-3)).min(1.0));
    let target = InProcess::start(None).await?;
    announce(&target, opts.quiet);
    let result = run(&RunOptions {
        target: target.url.clone(),
        more_targets: Vec::new(),
        server_stats: Vec::new(),
        scenario: source,
        slos: Vec::new(),
        duration_scale: scale,
        seed: opts.seed,
        out: opts.out.clone(),
        label: Some("demo".to_owned()),
        quiet: opts.quiet,
        no_server_stats: opts.no_server_stats,
        report: Some(PathBuf::new()),
        junit: None,
        summary: true,
        shard: None,
        start_at: None,
        start_in: None,
    })
    .await;
    target.stop().await;
    result
}

/// Says where the in-process mock-api listens (not with `--quiet`).
pub fn announce(target: &InProcess, quiet: bool) {
    progress::announce(
        Mode::detect(quiet),
        format_args!("demo: {}", target.about()),
    );
}
