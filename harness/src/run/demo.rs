//! `harness demo`: the README's main job. In: a scale and a seed. Out: the
//! same as `harness run`, against a mock-api started in-process on
//! 127.0.0.1 (a free port) over a fresh temporary SQLite database (1000
//! missions, seed 42), stopped afterwards. [`InProcess`] is that mock-api
//! for `score` and the regression story too: only this module (behind the
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

/// A mock-api running in this process over a fresh temporary database;
/// stopped by [`InProcess::stop`].
pub struct InProcess {
    pub url: String,
    pub dir: tempfile::TempDir,
    /// Missions seeded at start (numbered 1 to this).
    pub missions: u32,
    store: mock_api::Store,
    seed: u64,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), mock_api::Error>>,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcess").field("url", &self.url).finish()
    }
}

impl InProcess {
    /// Starts one on 127.0.0.1 port 0 (1000 missions, seed 42), with
    /// `admin_token` enabling its writing admin endpoints.
    pub async fn start(admin_token: Option<String>, quiet: bool) -> Result<Self, Error> {
        let dir = tempfile::tempdir().map_err(|source| Error::CreateDir {
            path: std::env::temp_dir(),
            source,
        })?;
        let mut config = mock_api::Config::ephemeral(&dir.path().join("demo.db"));
        config.admin_token = admin_token;
        let app = mock_api::Application::build(&config)
            .await
            .map_err(Error::Demo)?;
        let url = format!("http://{}", app.local_addr());
        progress::announce(
            Mode::detect(quiet),
            format_args!(
                "demo: mock-api listening on {url} (fresh SQLite database in {}, {} missions, seed {})",
                dir.path().display(),
                config.missions,
                config.seed
            ),
        );
        let store = app.store().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Ok(InProcess {
            url,
            dir,
            store,
            missions: config.missions,
            seed: config.seed,
            stop,
            server,
        })
    }

    /// Adds the seed's missions `first..=last` (as seeded, skew and all).
    pub async fn add_missions(&self, first: u32, last: u32) -> Result<u64, Error> {
        self.store
            .load(seed_data::Generator::range(self.seed, first, last), |_| {})
            .await
            .map_err(Error::Demo)
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

/// Starts mock-api in-process, runs the built-in scenario against it, and
/// stops it.
pub async fn demo(opts: &DemoOptions) -> Result<RunResult, Error> {
    let target = InProcess::start(None, opts.quiet).await?;
    let result = run(&RunOptions {
        target: target.url.clone(),
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
    })
    .await;
    target.stop().await;
    result
}
