//! mock-api `--otlp-endpoint`: a run's slowest requests, by the trace ids
//! the harness sent in `traceparent`, are among the spans the target
//! exported over OTLP/HTTP, each with its store call as a child; the
//! receiver decodes the protobuf with the OpenTelemetry project's own
//! definitions (scripts/otlp-receiver.py, `opentelemetry-proto`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{args, harness, read_record, EXCLUSIVE};

/// The mock-api binary beside this test's (cargo builds it for the
/// workspace's tests: `cargo test --workspace`, or `cargo build -p mock-api`).
fn mock_api_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = dir.join("mock-api");
    assert!(
        bin.is_file(),
        "{} is missing: build it (cargo build -p mock-api, or run cargo test --workspace)",
        bin.display()
    );
    bin
}

/// Starts `cmd` and reads its stdout until a line starting with `prefix`;
/// returns the rest of that line.
fn started(cmd: &mut Command, prefix: &str) -> (Child, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let found = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix(prefix).map(str::to_owned))
        .unwrap_or_else(|| panic!("no line starting {prefix:?}"));
    // Keep reading (and dropping) what it prints, so that it never blocks.
    std::thread::spawn(move || lines.for_each(drop));
    (child, found)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    missing_otlp_proto,
    ignore = "opentelemetry-proto is not installed in the tools' venv (pip install opentelemetry-proto, as .ci/run does)"
)]
async fn the_target_exports_spans_with_the_trace_ids_of_the_harnesss_slowest() {
    let _x = EXCLUSIVE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let spans = dir.path().join("spans.jsonl");
    let receiver_script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/otlp-receiver.py");
    let python = option_env!("MISSION_LAB_OTLP_PYTHON").unwrap_or_else(|| {
        panic!("opentelemetry-proto is required (MISSION_LAB_REQUIRE_TOOLS) but not installed")
    });
    let (receiver, otlp) = started(
        Command::new(python)
            .arg(&receiver_script)
            .arg(&spans)
            .args(["--seconds", "120"]),
        "listening on ",
    );
    let _receiver = Killed(receiver);
    let db = dir.path().join("target.db");
    let (target, url) = started(
        Command::new(mock_api_binary())
            .args(["--listen", "127.0.0.1:0", "--missions", "100"])
            .arg(format!("--database=sqlite://{}", db.display()))
            .args(["--latency", "get_mission=lognormal(4,120)"])
            .arg(format!("--otlp-endpoint={otlp}/v1/traces"))
            // Export every 200 ms rather than every 5 s.
            .env("OTEL_BSP_SCHEDULE_DELAY", "200")
            .env_remove("RUST_LOG"),
        "listening on ",
    );
    let _target = Killed(target);
    let out = dir.path().join("run.json");
    let o = harness(args(&[
        "run",
        "--target",
        &url,
        "--path",
        "/api/missions/MISSION-0001",
        "--users",
        "4",
        "--duration",
        "3s",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]))
    .await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = read_record(&out);
    let slowest: Vec<String> = r["slowest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["trace_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slowest.len(), 10, "{}", r["slowest"]);

    // Wait for the batches to arrive (at most 10 s).
    let deadline = Instant::now() + Duration::from_secs(10);
    let exported = loop {
        let text = std::fs::read_to_string(&spans).unwrap_or_default();
        let all: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let has_all = slowest.iter().all(|id| {
            all.iter()
                .any(|s| s["trace_id"] == *id.as_str() && s["name"] == "store")
        });
        if has_all || Instant::now() > deadline {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for id in &slowest {
        let of_trace: Vec<&serde_json::Value> = exported
            .iter()
            .filter(|s| s["trace_id"] == *id.as_str())
            .collect();
        let request = of_trace
            .iter()
            .find(|s| s["name"] == "GET /api/missions/MISSION-0001")
            .unwrap_or_else(|| panic!("no request span of trace {id}: {of_trace:?}"));
        assert_eq!(request["service"], "mock-api");
        // SERVER (2), continuing the harness's span: it has a parent.
        assert_eq!(request["kind"], 2, "{request}");
        assert_ne!(request["parent_span_id"], "", "{request}");
        let store = of_trace
            .iter()
            .find(|s| s["name"] == "store")
            .unwrap_or_else(|| panic!("no store span of trace {id}: {of_trace:?}"));
        assert_eq!(store["parent_span_id"], request["span_id"], "{store}");
        assert_eq!(store["attributes"]["kind"], "mission_read", "{store}");
        assert_eq!(store["attributes"]["statements"], 2, "{store}");
        assert!(
            store["attributes"]["sql"]
                .as_str()
                .unwrap()
                .contains("FROM waypoints"),
            "{store}"
        );
    }
}
