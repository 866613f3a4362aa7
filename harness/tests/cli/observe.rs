//! Seen while it runs, and traced to the cause: `--metrics-listen` serves
//! the exposition, the live state and the dashboard during a run; the
//! latency histogram's `histogram_quantile` lands within a bucket of the
//! record's p95; the record's slowest requests carry trace ids that the
//! target's `/__admin/slow` shows with their statements; `/__admin/queries`
//! explains each statement kind.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{read_record, schema_errors, spawn_target_with, Target, EXCLUSIVE};

/// A steady stage, then a cool-down long enough to scrape the steady
/// stage's final series while the listener still serves.
pub(crate) const SCENARIO: &str = r#"
name = "observed"
slowest = 5
[requirement]
id = "REQ-OBS-1"
text = "Mission reads answer in under two seconds."
[keys.mission_id]
distribution = "uniform"
n = 1000
format = "MISSION-{:04}"
[[tasks]]
name = "read"
path = "/api/missions/{mission_id}"
[[stages]]
name = "steady"
users = 6
duration = "4s"
steady = true
[[stages]]
name = "cool"
users = 1
duration = "3s"
[[slos]]
metric = "p95"
bound = 2000
"#;

/// Prometheus' `histogram_quantile` over cumulative `(le, count)` buckets
/// (the same linear interpolation within the bucket).
pub(crate) fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
    let total = buckets.last().unwrap().1;
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return prev.0;
            }
            return prev.0 + (le - prev.0) * (rank - prev.1) / (count - prev.1);
        }
        prev = (le, count);
    }
    prev.0
}

/// `harness run --metrics-listen 127.0.0.1:0` of `scenario` against
/// `target`, started: the process and the listener's base URL, read from
/// its first line on stderr.
pub(crate) async fn watched_run(target: &Target, scenario: &str, out: &Path) -> (Child, String) {
    let scenario = target.scenario("observed.toml", scenario);
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            "--target",
            &target.url,
            "--scenario",
            &scenario,
            "--quiet",
            "--metrics-listen",
            "127.0.0.1:0",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stderr).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let base = first
        .trim()
        .strip_prefix("metrics listening on ")
        .unwrap_or_else(|| panic!("no start line: {first:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    (child, base)
}

/// The series names in expositions (`name{labels} value` or `name
/// value`), and those each `# TYPE` line declares, so that a family with
/// no series yet (no error so far) still counts.
fn series_names(a: &str, b: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for line in a.lines().chain(b.lines()).filter(|l| !l.is_empty()) {
        if let Some(declared) = line.strip_prefix("# TYPE ") {
            let mut parts = declared.split(' ');
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap_or(""));
            let suffixes: &[&str] = match kind {
                "counter" => &["", "_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[""],
            };
            names.extend(suffixes.iter().map(|s| format!("{name}{s}")));
        } else if !line.starts_with('#') {
            names.insert(line.split(['{', ' ']).next().unwrap().to_owned());
        }
    }
    names
}

/// The harness's and mock-api's series a dashboard or rules file queries.
fn queried_names(text: &str) -> std::collections::BTreeSet<String> {
    let re = regex::Regex::new(r"\b(?:harness|mockapi)_[a-z0-9_]+").unwrap();
    re.find_iter(text)
        // Recording rules' own names (`task:harness_requests:rate10s`) are not series.
        .filter(|m| !text[m.end()..].starts_with(':'))
        .map(|m| m.as_str().to_owned())
        .collect()
}

pub(crate) async fn get(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_watched_run_agrees_with_its_record_and_the_target_knows_its_slowest() {
    let _x = EXCLUSIVE.lock().await;
    let target = spawn_target_with(|c| {
        // A tail: about one read in twenty over 30 ms.
        c.latency = vec!["get_mission=lognormal(4,120)".into()];
        c.slow_request_ms = 30;
    })
    .await;
    let out = target.path("observed.json");
    let (mut child, base) = watched_run(&target, SCENARIO, &out).await;

    // The dashboard page, self-contained, and the live state moving.
    let page = get(&format!("{base}/")).await;
    assert!(
        page.contains("live.json") && !page.contains("src=\"http"),
        "{page}"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let early: serde_json::Value =
        serde_json::from_str(&get(&format!("{base}/live.json")).await).unwrap();
    assert_eq!(early["schema_version"], 1);
    assert_eq!(early["phase"], "running");
    assert_eq!(early["stages"].as_array().unwrap().len(), 2);
    let seconds = early["series"].as_array().unwrap().len();
    assert!(seconds >= 1, "{early}");
    assert_eq!(early["slos"][0]["slo"], "p95 < 2000");

    // In the cool-down: the steady stage's series are final.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let later: serde_json::Value =
        serde_json::from_str(&get(&format!("{base}/live.json")).await).unwrap();
    assert!(
        later["series"].as_array().unwrap().len() > seconds,
        "{later}"
    );
    assert_eq!(later["slos"][0]["state"], "holding", "{later}");
    let metrics = get(&format!("{base}/metrics")).await;
    assert!(metrics.ends_with("# EOF\n"), "not OpenMetrics: {metrics}");
    let steady = "scenario=\"observed\",stage=\"steady\",task=\"read\",shard=\"\"";
    let mut buckets = Vec::new();
    let mut count = 0.0;
    for line in metrics.lines() {
        // prometheus-client writes `le` first.
        let bucket = line
            .strip_prefix("harness_request_duration_seconds_bucket{le=\"")
            .and_then(|rest| rest.split_once(&format!("\",{steady}}} ")));
        if let Some((le, value)) = bucket {
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            buckets.push((le, value.parse::<f64>().unwrap()));
        }
        if let Some(v) = line.strip_prefix(&format!("harness_requests_total{{{steady}}} ")) {
            count = v.parse().unwrap();
        }
    }
    assert!(buckets.len() > 50, "{metrics}");
    assert!(
        metrics.contains(
            "harness_stage_active{scenario=\"observed\",stage=\"cool\",steady=\"false\",shard=\"\"} 1"
        ),
        "{metrics}"
    );
    // Every series the shipped Grafana dashboard and Prometheus rules
    // query is one the harness or mock-api really exposes.
    let server = get(&format!("{}/metrics", target.url)).await;
    let exposed = series_names(&metrics, &server);
    for file in [
        "deploy/grafana/mission-lab.json",
        "deploy/prometheus/rules.yml",
    ] {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file))
                .unwrap();
        let queried = queried_names(&text);
        assert!(queried.len() >= 4, "{file}: {queried:?}");
        let missing: Vec<&String> = queried.iter().filter(|n| !exposed.contains(*n)).collect();
        assert!(
            missing.is_empty(),
            "{file} queries {missing:?}, which nothing exposes"
        );
    }
    // Users ramp from the steady stage's 6 down to 1 over the cool-down.
    assert!(metrics.contains(
        "harness_users{scenario=\"observed\",stage=\"steady\",steady=\"true\",shard=\"\"} 0"
    ));

    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    let r = read_record(&out);
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    assert_eq!(r["steady"]["requests"].as_f64().unwrap(), count);

    // histogram_quantile(0.95) against the record's p95: within the width
    // of the bucket holding it.
    let p95_s = r["steady"]["p95_ms"].as_f64().unwrap() / 1000.0;
    let promql = histogram_quantile(0.95, &buckets);
    let (lo, hi) = buckets
        .windows(2)
        .map(|w| (w[0].0, w[1].0))
        .find(|&(_, hi)| hi >= p95_s)
        .unwrap();
    eprintln!("histogram_quantile(0.95) {promql:.6} s, the record's p95 {p95_s:.6} s, bucket {lo:.6}..{hi:.6}");
    assert!(
        (promql - p95_s).abs() <= hi - lo,
        "histogram_quantile {promql} s against the record's p95 {p95_s} s (bucket {lo}..{hi})"
    );

    // The slowest requests: five, slowest first, each known to the target
    // by its trace id, with its statements.
    let slowest = r["slowest"].as_array().unwrap();
    assert_eq!(slowest.len(), 5, "{slowest:?}");
    let latencies: Vec<f64> = slowest
        .iter()
        .map(|s| s["latency_ms"].as_f64().unwrap())
        .collect();
    assert!(latencies.windows(2).all(|w| w[0] >= w[1]), "{latencies:?}");
    assert!(
        latencies[4] > 30.0,
        "the tail was too short to test: {latencies:?}"
    );
    for s in slowest {
        let id = s["trace_id"].as_str().unwrap();
        let body = get(&format!("{}/__admin/slow?trace_id={id}", target.url)).await;
        let slow: serde_json::Value = serde_json::from_str(&body).unwrap();
        let found = slow["requests"].as_array().unwrap();
        assert_eq!(found.len(), 1, "{id} not in /__admin/slow: {body}");
        assert_eq!(found[0]["route"], "get_mission");
        assert_eq!(found[0]["statements"][0]["kind"], "mission_read", "{body}");
        assert!(found[0]["ms"].as_f64().unwrap() <= s["latency_ms"].as_f64().unwrap() + 1.0);
    }

    // The database's own evidence: each kind with its plan, in the record too.
    let queries: serde_json::Value =
        serde_json::from_str(&get(&format!("{}/__admin/queries", target.url)).await).unwrap();
    let read = queries["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "mission_read")
        .unwrap();
    let plans = read["plans"].to_string();
    assert!(
        plans.contains("SEARCH waypoints USING COVERING INDEX"),
        "{plans}"
    );
    let in_record = r["server"]["queries"].to_string();
    assert!(
        in_record.contains("SEARCH waypoints USING COVERING INDEX"),
        "{in_record}"
    );

    // The listener is gone with the run.
    let started = Instant::now();
    assert!(reqwest::get(format!("{base}/metrics")).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
}
