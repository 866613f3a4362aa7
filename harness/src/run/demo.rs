//! `harness demo`: the README's main job. In: a scale and a seed. Out: the
//! same as `harness run`, against a mock-api started in-process
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
    pub duration_scale: f64,
    pub seed: u64,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub no_server_stats: bool,
}

/// Starts mock-api in-process, runs the built-in scenario against it, and
/// stops it.
pub async fn demo(opts: &DemoOptions) -> Result<RunResult, Error> {
    let target = InProcess::start(None).await?;
    announce(&target, opts.quiet);
    let result = run(&RunOptions {
        target: target.url.clone(),
        more_targets: Vec::new(),
        server_stats: Vec::new(),
        scenario: super::ScenarioSource::Builtin,
        duration_scale: opts.duration_scale,
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
