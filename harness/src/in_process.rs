//! A mock-api running inside the harness, for `demo`, the regression story
//! and `score`. In: an optional admin token. Out: a server on 127.0.0.1
//! (a free port) over a fresh temporary SQLite database (1000 missions,
//! seed 42), until stopped. Only this module (behind the `demo` feature,
//! on by default) depends on mock-api; it prints nothing.

use crate::error::Error;

/// A mock-api running in this process over a fresh temporary database;
/// stopped by [`InProcess::stop`].
pub struct InProcess {
    pub url: String,
    /// The certificate it serves, when it serves HTTPS.
    pub tls_cert: Option<std::path::PathBuf>,
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
    pub async fn start(admin_token: Option<String>) -> Result<Self, Error> {
        Self::start_with(admin_token, false).await
    }

    /// As [`InProcess::start`]; with `tls`, serving HTTPS (HTTP/1.1 and
    /// HTTP/2) with the certificate it makes, at [`InProcess::tls_cert`].
    pub async fn start_with(admin_token: Option<String>, tls: bool) -> Result<Self, Error> {
        let dir = tempfile::tempdir().map_err(|source| Error::CreateDir {
            path: std::env::temp_dir(),
            source,
        })?;
        let mut config = mock_api::Config::ephemeral(&dir.path().join("demo.db"));
        config.admin_token = admin_token.map(Into::into);
        config.tls = tls;
        let app = mock_api::Application::build(&config)
            .await
            .map_err(Error::Demo)?;
        let url = app.base_url();
        let tls_cert = app.tls_cert().map(std::path::Path::to_owned);
        let store = app.store().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Ok(InProcess {
            url,
            tls_cert,
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
            .map_err(|e| Error::Demo(e.into()))
    }

    /// Where it listens and on what data, in words.
    pub fn about(&self) -> String {
        format!(
            "mock-api listening on {} (fresh SQLite database in {}, {} missions, seed {})",
            self.url,
            self.dir.path().display(),
            self.missions,
            self.seed
        )
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}
