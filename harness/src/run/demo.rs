//! `harness demo`: the README's main job. In: a scale and a seed. Out: the
//! same as `harness run`, against a mock-api started in-process on
//! 127.0.0.1 (a free port) over a fresh temporary SQLite database (1000
//! missions, seed 42), stopped afterwards. Only this module (behind the
//! `demo` feature, on by default) depends on mock-api.

use std::path::PathBuf;

use super::{run, RunOptions, RunResult};
use crate::error::Error;
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
    let dir = tempfile::tempdir().map_err(|source| Error::CreateDir {
        path: std::env::temp_dir(),
        source,
    })?;
    let config = mock_api::Config::ephemeral(&dir.path().join("demo.db"));
    let app = mock_api::Application::build(&config)
        .await
        .map_err(Error::Demo)?;
    let target = format!("http://{}", app.local_addr());
    progress::announce(
        Mode::detect(opts.quiet),
        format_args!(
            "demo: mock-api listening on {target} (fresh SQLite database in {}, {} missions, seed {})",
            dir.path().display(),
            config.missions,
            config.seed
        ),
    );
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = server_stopped.await;
    }));
    let result = run(&RunOptions {
        target,
        scenario: super::ScenarioSource::Builtin,
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
