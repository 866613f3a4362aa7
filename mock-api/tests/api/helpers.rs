//! `spawn_app()`: a real server on 127.0.0.1:0 over a fresh SQLite file.

use std::net::SocketAddr;
use std::path::PathBuf;

use mock_api::{Application, Config};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

/// Tests that load the machine or measure time take this first, so that one
/// test's load does not show up in another's timings.
pub(crate) static EXCLUSIVE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) struct TestApp {
    pub(crate) addr: SocketAddr,
    pub(crate) client: reqwest::Client,
    pub(crate) db_path: PathBuf,
    /// Emulated links (`--link`): name and address.
    pub(crate) links: Vec<(String, SocketAddr)>,
    /// The certificate mock-api serves (`--tls`).
    pub(crate) tls_cert: Option<PathBuf>,
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn put_json(&self, path: &str, body: &str) -> Response {
        self.client
            .put(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn mission(&self, id: &str) -> Value {
        let res = self.get(&format!("/api/missions/{id}")).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {id}");
        res.json().await.expect("json")
    }
}

pub(crate) fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        mock_api::telemetry::init("debug");
    }
}

/// A server seeded with `missions` missions (seed 42).
pub(crate) async fn spawn_app_with(missions: u32) -> TestApp {
    spawn_app_configured(|c| c.missions = missions).await
}

/// A server with its configuration adjusted by `adjust`.
pub(crate) async fn spawn_app_configured(adjust: impl FnOnce(&mut Config)) -> TestApp {
    init_logs();
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("api.db");
    let mut config = Config::ephemeral(&db_path);
    adjust(&mut config);
    let app = Application::build(&config).await.expect("build");
    let addr = app.local_addr();
    let tls_cert = app.tls_cert().map(|p| p.to_owned());
    let links = app
        .link_addrs()
        .into_iter()
        .map(|(name, addr)| (name.to_owned(), addr))
        .collect();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: reqwest::Client::new(),
        db_path,
        links,
        tls_cert,
        _dir: dir,
        _stop: stop,
    }
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(1000).await
}

/// Asserts a problem+json response with `status`, and returns its detail.
pub(crate) async fn assert_problem(res: Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], "about:blank");
    assert!(body["title"].is_string());
    let detail = body["detail"].as_str().expect("detail").to_owned();
    assert!(!detail.is_empty());
    detail
}

/// The real `mock-api` binary, started on 127.0.0.1:0 over `db`; killed
/// (SIGKILL) when dropped.
pub(crate) struct Binary {
    pub(crate) child: std::process::Child,
    pub(crate) base: String,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Binary {
    /// `GET path`: the body, read as JSON.
    pub(crate) async fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let url = format!("{}{path}", self.base);
        let res = reqwest::get(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        res.json().await.unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    /// The next line the server printed on stdout.
    pub(crate) fn next_line(&mut self) -> String {
        use std::io::BufRead;
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("mock-api stdout");
        line.trim().to_owned()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `extra` flags and reads its address from the
/// first line it prints.
pub(crate) fn start_binary(db: &std::path::Path, extra: &[&str]) -> Binary {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-api"))
        .args(["--listen", "127.0.0.1:0", "--database"])
        .arg(format!("sqlite://{}", db.display()))
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn mock-api");
    let stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut server = Binary {
        child,
        base: String::new(),
        stdout,
    };
    let line = server.next_line();
    let base = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(!base.ends_with(":0"), "the real port is printed: {base}");
    server.base = base;
    server
}
