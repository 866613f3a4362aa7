//! Judging records from disk: analyze names the cause the target was told
//! to emulate, compare sees the difference in the distributions, and the
//! reports (HTML, JUnit) are what they claim to be.

use serde_json::{json, Value};

use crate::helpers::{args, harness, run_against, spawn_target_with, stderr, Target};

const TOKEN: &str = "t0ken";

const SCENARIO: &str = r#"
name = "reads"
[requirement]
id = "REQ-READS"
text = "Mission reads stay fast."
[keys.mission_id]
distribution = "uniform"
n = 1000
format = "MISSION-{:04}"
[[tasks]]
name = "get mission"
path = "/api/missions/{mission_id}"
[[stages]]
name = "warm"
users = 10
duration = "1s"
[[stages]]
name = "hold"
users = 10
duration = "3s"
steady = true
[[slos]]
metric = "p95"
bound = 500
[[slos]]
metric = "errors"
bound = 0
"#;

async fn set_behaviour(target: &Target, behaviour: Value) {
    let res = reqwest::Client::new()
        .put(format!("{}/__admin/behaviour", target.url))
        .bearer_auth(TOKEN)
        .json(&behaviour)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Two runs against one target: a baseline, then with `behaviour` in force.
async fn two_runs(behaviour: Value) -> (Target, String, String) {
    let target = spawn_target_with(|c| c.admin_token = Some(TOKEN.into())).await;
    let scenario = target.scenario("reads.toml", SCENARIO);
    let mut paths = Vec::new();
    for (label, b) in [("base", json!({})), ("changed", behaviour)] {
        set_behaviour(&target, b).await;
        let out = target.path(&format!("{label}.json"));
        let junit = target.path(&format!("{label}.xml"));
        let o = run_against(
            &target,
            &out,
            &[
                "--scenario",
                &scenario,
                "--label",
                label,
                "--junit",
                junit.to_str().unwrap(),
            ],
        )
        .await;
        // p95 < 500 ms and no errors hold for both: what differs is how.
        assert_eq!(o.status.code(), Some(0), "{label}: {}", stderr(&o));
        paths.push(out.display().to_string());
    }
    let (a, b) = (paths[0].clone(), paths[1].clone());
    (target, a, b)
}

async fn analyze(a: &str, b: &str) -> (Option<i32>, Value) {
    let o = harness(args(&["analyze", a, b, "--format", "json"])).await;
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    (o.status.code(), v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_plus_one_is_named_first_with_the_query_count_evidence() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    // Each of a read's queries a network hop away (0.5 ms): N+1 costs
    // about 5 ms a read, far beyond two runs' noise.
    let (target, base, changed) =
        two_runs(json!({"emulate": ["n-plus-one"], "db_round_trip_us": 500, "seed": 1})).await;
    let (code, a) = analyze(&base, &changed).await;
    assert_eq!(a["verdict"], "regression", "{a:#}");
    assert_eq!(code, Some(1), "a regression exits 1");
    // Far below the 500 ms bound and crossing it only after many runs.
    assert_eq!(a["severity"], "medium", "{a:#}");
    assert!(a["runs_to_threshold"].as_u64().unwrap() > 5, "{a:#}");
    assert!(
        a["metrics"]["p95"]["latest_ms"].as_f64().unwrap()
            > a["metrics"]["p95"]["baseline_ms"].as_f64().unwrap(),
        "{a:#}"
    );
    let first = &a["likely_causes"][0];
    assert_eq!(first["cause"], "N+1 queries", "{a:#}");
    assert!(
        first["evidence"]
            .as_str()
            .unwrap()
            .contains("db_queries_per_request"),
        "{first}"
    );
    assert_eq!(first["confidence"], "high");
    assert_eq!(a["runs"], 2);
    assert_eq!(a["threshold_ms"], 500.0, "from the records' p95 SLO");
    for key in ["verdict", "severity", "metrics", "runs_to_threshold"] {
        assert!(a.get(key).is_some(), "{key}");
    }
    for m in ["p50", "p95", "p99"] {
        for f in [
            "baseline_ms",
            "latest_ms",
            "change_pct",
            "trend",
            "p_value",
            "change_points",
        ] {
            assert!(a["metrics"][m].get(f).is_some(), "{m}.{f}");
        }
    }

    // The JUnit files are valid XML with one test case per SLO.
    for label in ["base", "changed"] {
        let xml = std::fs::read_to_string(target.path(&format!("{label}.xml"))).unwrap();
        let doc = roxmltree::Document::parse(&xml).expect("valid XML");
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 2, "{xml}");
        assert!(cases
            .iter()
            .all(|c| c.attribute("classname") == Some("REQ-READS")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_dependency_is_named_first_and_compare_sees_a_real_regression() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let (target, base, changed) =
        two_runs(json!({"emulate": ["slow-dependency"], "dependency_latency": "fixed(25)"})).await;
    let (code, a) = analyze(&base, &changed).await;
    assert_eq!(a["likely_causes"][0]["cause"], "slow dependency", "{a:#}");
    assert!(a["likely_causes"][0]["evidence"]
        .as_str()
        .unwrap()
        .contains("upstream_ms_per_request"));
    assert_eq!(a["verdict"], "regression");
    assert_eq!(code, Some(1));

    let o = harness(args(&["compare", &base, &changed, "--format", "json"])).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["stage"] == "hold" && r["task"] == "get mission")
        .unwrap();
    assert_eq!(row["p95"]["real"], true);
    assert!(row["p95"]["change_pct"].as_f64().unwrap() > 100.0);
    // A record compared with itself shows nothing real.
    let o = harness(args(&["compare", &base, &base, "--format", "json"])).await;
    assert_eq!(o.status.code(), Some(0));
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["p95"]["real"] == false));

    // The HTML report is self-contained: inline SVG, nothing to fetch.
    let html_path = target.path("report.html");
    let o = harness(args(&[
        "report",
        &changed,
        "--baseline",
        &base,
        "--history",
        target.dir.path().to_str().unwrap(),
        "-o",
        html_path.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.matches("<svg").count() >= 5, "charts");
    for needle in [
        "Client vs server",
        "Against the baseline",
        "History",
        "threshold",
        "REQ-READS",
        // Time axes in m:ss with the stages marked on every time chart,
        // and each task's percentile spectrum.
        "elapsed (m:ss)",
        ">0:02<",
        ">hold</text>",
        "Percentile spectrum (steady window)",
        "99.9%",
        // The 500 ms p95 bound is far above 10 users' reads: noted, not
        // drawn across a flattened chart.
        "p95 bound 500 (above the scale)",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    let time_charts = html.matches("elapsed (m:ss)").count();
    assert_eq!(html.matches(">hold</text>").count(), time_charts);
    for fetch in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(fetch), "{fetch} would fetch something");
    }
}

#[tokio::test]
async fn bad_input_exits_2_naming_the_line_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("h.txt");
    std::fs::write(
        &text,
        "Run 1: p50=1ms, p95=2ms, p99=3ms\nRun 2: p50=1ms, p95=two, p99=3ms\n",
    )
    .unwrap();
    let o = harness(args(&["analyze", "--text", text.to_str().unwrap()])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("h.txt:2"), "{}", stderr(&o));
    let o = harness(args(&[
        "analyze",
        dir.path().join("missing.json").to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.json"));
}

#[tokio::test]
async fn the_seed_documents_history_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("doc.txt");
    std::fs::write(&text, "Run 1 (baseline):  p50=150ms, p95=450ms, p99=800ms\nRun 2 (+1 week):   p50=155ms, p95=460ms, p99=810ms\nRun 3 (+2 weeks):  p50=165ms, p95=520ms, p99=950ms\nRun 4 (+3 weeks):  p50=180ms, p95=600ms, p99=1100ms\nRun 5 (+4 weeks):  p50=210ms, p95=750ms, p99=1400ms\n").unwrap();
    let o = harness(args(&[
        "analyze",
        "--text",
        text.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(1));
    let a: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(a["verdict"], "regression");
    assert_eq!(a["severity"], "medium");
    assert_eq!(a["threshold_ms"], 2000.0);
    assert_eq!(a["metrics"]["p50"]["change_pct"], 40.0);
    assert_eq!(a["metrics"]["p95"]["change_pct"], 66.7);
    assert_eq!(a["metrics"]["p99"]["change_pct"], 75.0);
    let o = harness(args(&["analyze", "--text", text.to_str().unwrap()])).await;
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(
        t.starts_with("PERFORMANCE REGRESSION DETECTED") && t.contains("Severity: MEDIUM"),
        "{t}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_the_upstream_directly_slows_the_reads_that_call_it_and_analyze_names_it() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target_with(|c| c.admin_token = Some(TOKEN.into())).await;
    // The reads call an upstream that serves 4 calls at once in 20 ms each.
    set_behaviour(
        &target,
        json!({"emulate": ["slow-dependency"], "dependency_latency": "fixed(20)", "dependency_concurrency": 4}),
    )
    .await;
    let shown: Value = reqwest::get(format!("{}/__admin/behaviour", target.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let upstream = shown["upstream"].as_str().unwrap().to_owned();
    assert!(upstream.starts_with("http://127.0.0.1:"), "{shown}");
    let scenario = target.scenario("reads.toml", &SCENARIO.replace("users = 10", "users = 2"));
    let run = |label: &'static str| {
        let out = target.path(&format!("{label}.json"));
        let scenario = scenario.clone();
        let url = target.url.clone();
        async move {
            let o = harness(args(&[
                "run",
                "--target",
                &url,
                "--quiet",
                "--scenario",
                &scenario,
                "--label",
                label,
                "--out",
                out.to_str().unwrap(),
            ]))
            .await;
            // 20 ms of upstream, even loaded, is far inside p95 < 500 ms.
            assert_eq!(o.status.code(), Some(0), "{label}: {}", stderr(&o));
            out.display().to_string()
        }
    };
    let base = run("base").await;
    // The same reads while 12 other users call the upstream directly.
    let direct = harness(args(&[
        "run",
        "--target",
        &upstream,
        "--path",
        "/deconflict?mission=MISSION-0001",
        "--users",
        "12",
        "--duration",
        "7s",
        "--quiet",
        "--no-server-stats",
        "--out",
        target.path("direct.json").to_str().unwrap(),
    ]));
    let loaded = async {
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        run("loaded").await
    };
    let (direct, loaded) = tokio::join!(direct, loaded);
    // A --path run without SLOs is not judged: exit 0.
    assert_eq!(direct.status.code(), Some(0), "{}", stderr(&direct));
    let upstream_ms = |path: &str| {
        crate::helpers::read_record(std::path::Path::new(path))["server"]["routes"]["get_mission"]
            ["upstream_ms_per_request"]
            .as_f64()
            .unwrap()
    };
    let (before, after) = (upstream_ms(&base), upstream_ms(&loaded));
    eprintln!("upstream ms per mission read: {before} alone, {after} with the upstream loaded");
    assert!((19.0..30.0).contains(&before), "{before}");
    assert!(after > 2.0 * before, "{before} -> {after}");
    let (_, a) = analyze(&base, &loaded).await;
    assert_eq!(a["likely_causes"][0]["cause"], "slow dependency", "{a:#}");
}
