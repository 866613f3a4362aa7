//! `harness demo`: the README's main job. In: a scenario (the built-in
//! REQ-PERF-401 unless named), a scale and a seed. Out: the same as
//! `harness run`, against a mock-api started in-process
//! ([`InProcess`]: 127.0.0.1, a free port, a fresh temporary SQLite
//! database, 1000 missions, seed 42), stopped afterwards.

use super::{run, RecordOptions, RunOptions, RunResult, ScenarioSource, Start};
use crate::error::Error;
pub use crate::in_process::InProcess;
use crate::output::progress::{self, Mode};
use crate::scenario::ScenarioRef;

/// Options of `harness demo`.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The built-in REQ-PERF-401 when `None`.
    pub scenario: Option<ScenarioRef>,
    /// `None`: the scale that makes the scenario last about [`DEMO_SECONDS`].
    pub duration_scale: Option<f64>,
    /// Where the record goes; its report is always written; label `demo`
    /// unless given.
    pub record: RecordOptions,
}

/// How long a demo lasts unless scaled otherwise (REQ-PERF-401's 40 min
/// at 0.0375).
pub const DEMO_SECONDS: f64 = 90.0;

/// Starts mock-api in-process, runs the scenario against it, and stops it.
pub async fn demo(opts: &DemoOptions) -> Result<RunResult, Error> {
    let named = opts.scenario.clone().unwrap_or_default();
    let total = named.load()?.total_duration();
    // Shortened to about 90 s; a scenario already shorter runs as written.
    let scale = opts
        .duration_scale
        .unwrap_or_else(|| (DEMO_SECONDS / total.as_secs_f64().max(1e-3)).min(1.0));
    let target = InProcess::start(None).await?;
    announce(&target, opts.record.quiet);
    let mut record = opts.record.clone();
    record.label = record.label.or_else(|| Some("demo".to_owned()));
    record.report = record.report.always();
    let result = run(&RunOptions {
        target: target.url.clone(),
        more_targets: Vec::new(),
        server_stats: Vec::new(),
        scenario: ScenarioSource::Named(named),
        slos: Vec::new(),
        duration_scale: scale,
        record,
        transport: Default::default(),
        junit: None,
        summary: true,
        shard: None,
        start: Start::Now,
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
