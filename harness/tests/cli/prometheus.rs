//! A real Prometheus (Debian's package) scrapes the harness's live
//! exposition and mock-api's `/metrics` during a run; its
//! `histogram_quantile(0.95, ...)` over the steady stage agrees with the
//! record's p95 within one bucket. `promtool` checks the shipped
//! configuration and rules (`deploy/prometheus/`).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::helpers::{read_record, spawn_target_with, EXCLUSIVE};
use crate::observe::{get, watched_run, SCENARIO};
use crate::score::tool_dir;

fn deploy(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/prometheus")
        .join(file)
}

#[test]
#[cfg_attr(
    missing_promtool,
    ignore = "promtool is not installed (apt-get install prometheus)"
)]
fn promtool_passes_the_shipped_configuration_and_rules() {
    let promtool = Path::new(tool_dir("promtool")).join("promtool");
    let o = Command::new(&promtool)
        .arg("check")
        .arg("config")
        .arg(deploy("prometheus.yml"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    assert!(text.contains("SUCCESS: 4 rules found"), "{text}");
}

/// A port free now, for Prometheus's own listener (it prints no port it chose).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An instant query's single value, if any.
async fn query(base: &str, promql: &str) -> Option<f64> {
    let url =
        reqwest::Url::parse_with_params(&format!("{base}/api/v1/query"), &[("query", promql)])
            .unwrap();
    let v: serde_json::Value = serde_json::from_str(&get(url.as_str()).await).ok()?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    missing_prometheus,
    ignore = "prometheus is not installed (apt-get install prometheus)"
)]
async fn prometheus_scrapes_both_and_its_p95_agrees_with_the_record() {
    let _x = EXCLUSIVE.lock().await;
    let prometheus = Path::new(tool_dir("prometheus")).join("prometheus");
    let target =
        spawn_target_with(|c| c.latency = vec!["get_mission=lognormal(4,120)".into()]).await;
    let out = target.path("scraped.json");
    let (mut run, base) = watched_run(&target, SCENARIO, &out).await;
    let harness_at = base.trim_start_matches("http://");
    let mock_at = target.url.trim_start_matches("http://");
    let config = target.path("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: harness\n    static_configs:\n      - targets: [\"{harness_at}\"]\n  - job_name: mock-api\n    static_configs:\n      - targets: [\"{mock_at}\"]\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let web = format!("http://127.0.0.1:{port}");
    let mut server = Command::new(&prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            target.path("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || run.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    let r = read_record(&out);
    let p95_s = r["steady"]["p95_ms"].as_f64().unwrap() / 1000.0;
    // The steady stage's series stopped changing when it ended; the last
    // scrape of each (before the run's end) holds the whole window.
    let steady = "harness_request_duration_seconds_bucket{stage=\"steady\"}";
    let promql = format!("histogram_quantile(0.95, sum by (le) (last_over_time({steady}[5m])))");
    let scraped = query(&web, &promql).await;
    let requests = query(
        &web,
        "sum(last_over_time(harness_requests_total{stage=\"steady\"}[5m]))",
    )
    .await;
    let server_requests = query(&web, "sum(last_over_time(mockapi_http_requests_total[5m]))").await;
    let _ = server.kill();
    let _ = server.wait();
    let scraped = scraped.expect("Prometheus computed no p95");
    assert_eq!(
        requests,
        r["steady"]["requests"].as_f64(),
        "steady requests"
    );
    assert!(
        server_requests.unwrap_or(0.0) >= requests.unwrap(),
        "mock-api was not scraped"
    );
    // The bucket holding the record's p95 (0.5 ms growing by 1.25).
    let mut hi = harness::live::FIRST_BUCKET_S;
    while hi < p95_s {
        hi *= harness::live::BUCKET_FACTOR;
    }
    let width = hi - hi / harness::live::BUCKET_FACTOR;
    eprintln!("Prometheus histogram_quantile(0.95) {scraped:.6} s, the record's p95 {p95_s:.6} s, bucket width {width:.6} s");
    assert!(
        (scraped - p95_s).abs() <= width,
        "Prometheus {scraped} s, the record {p95_s} s, bucket width {width} s"
    );
}
