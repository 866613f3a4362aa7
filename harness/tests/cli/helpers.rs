//! Spawning a target and running the harness binary against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tokio::sync::oneshot;

/// Tests that put load on the machine take this first, so that one test's
/// load does not show up as another's latency (test threads run in parallel).
pub(crate) static EXCLUSIVE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) struct Target {
    pub(crate) url: String,
    /// Emulated links (`--link`): name and base URL.
    pub(crate) links: Vec<(String, String)>,
    /// The admin listener's base URL (`--admin-listen`), if it has one.
    pub(crate) admin: Option<String>,
    /// The certificate it serves (`--tls`).
    pub(crate) tls_cert: Option<PathBuf>,
    pub(crate) dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

/// A mock-api with 1000 missions (seed 42) on a fresh SQLite file.
pub(crate) async fn spawn_target() -> Target {
    spawn_target_with(|_| {}).await
}

/// A mock-api with its configuration adjusted (behaviour flags and so on).
pub(crate) async fn spawn_target_with(adjust: impl FnOnce(&mut mock_api::Config)) -> Target {
    let dir = tempfile::tempdir().unwrap();
    let mut config = mock_api::Config::ephemeral(&dir.path().join("target.db"));
    adjust(&mut config);
    let app = mock_api::Application::build(&config).await.unwrap();
    let url = app.base_url();
    let links = app
        .link_addrs()
        .into_iter()
        .map(|(name, addr)| (name.to_owned(), format!("{}://{addr}", app.scheme())))
        .collect();
    let admin = app.admin_addr().map(|a| format!("http://{a}"));
    let tls_cert = app.tls_cert().map(Path::to_owned);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    Target {
        url,
        links,
        admin,
        tls_cert,
        dir,
        _stop: stop,
    }
}

impl Target {
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a scenario file `name` holding `text` beside the target's
    /// database; returns its path as an argument.
    pub(crate) fn scenario(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

/// Runs the harness binary (blocking, off the runtime's worker).
pub(crate) async fn harness(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(&args)
            .output()
            .expect("run harness")
    })
    .await
    .unwrap()
}

/// `harness run --target TARGET --quiet --out OUT` and `extra` flags.
pub(crate) async fn run_against(target: &Target, out: &Path, extra: &[&str]) -> Output {
    let mut a = args(&[
        "run",
        "--target",
        &target.url,
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    a.extend(extra.iter().map(|s| s.to_string()));
    harness(a).await
}

pub(crate) fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub(crate) fn read_record(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What is wrong with a record by docs/run-record.schema.json (empty: valid).
pub(crate) fn schema_errors(record: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/run-record.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(record)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

/// Every record in `paths` validates against docs/run-record.schema.json.
pub(crate) fn assert_schema_valid(paths: &[PathBuf]) {
    for p in paths {
        let errors = schema_errors(&read_record(p));
        assert!(errors.is_empty(), "{}: {errors:?}", p.display());
    }
}

/// The record's row of `task` at `stage`.
pub(crate) fn task_row<'a>(
    r: &'a serde_json::Value,
    task: &str,
    stage: &str,
) -> &'a serde_json::Value {
    r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == task && t["stage"] == stage)
        .unwrap_or_else(|| panic!("no row of {task:?} at stage {stage:?}"))
}

/// Rows of `task` over every stage: (requests, errors).
pub(crate) fn task_totals(r: &serde_json::Value, task: &str) -> (u64, u64) {
    r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["name"] == task)
        .fold((0, 0), |(n, e), t| {
            (
                n + t["requests"].as_u64().unwrap(),
                e + t["errors"].as_u64().unwrap(),
            )
        })
}

/// The record's `classes[]` entry of class `name`.
pub(crate) fn class_named<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    r["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no class {name}: {}", r["classes"]))
}
