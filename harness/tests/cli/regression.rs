//! `harness demo --regression CAUSE`: builds made a step worse by a known
//! cause against an in-process mock-api, then analysed.

use crate::helpers::{args, harness, read_record, stderr, EXCLUSIVE};

/// Builds per story in the tests: the default, whose trend test tolerates
/// five of its 28 pairs of builds out of order (the fewest accepted, 6,
/// tolerate one of 15: too few for a busy CI machine).
const RUNS: u32 = harness::run::regression::DEFAULT_RUNS;

/// `harness demo --regression CAUSE --runs N` with 4 s builds (half the
/// default); the exit code, stdout and the folder of records.
async fn story(cause: &str, runs: u32) -> (Option<i32>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let o = harness(args(&[
        "demo",
        "--regression",
        cause,
        "--runs",
        &runs.to_string(),
        "--duration-scale",
        "0.5",
        "--quiet",
        "--out",
        dir.path().to_str().unwrap(),
    ]))
    .await;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let builds = text.lines().filter(|l| l.starts_with("build-")).count();
    assert_eq!(builds, runs as usize, "{text}{}", stderr(&o));
    assert!(dir.path().join("report.html").exists());
    (o.status.code(), text, dir)
}

/// The story of `cause` names `named` first, with a regression verdict.
async fn named_first(cause: &str, named: &str) -> (String, tempfile::TempDir) {
    let _x = EXCLUSIVE.lock().await;
    let (code, text, dir) = story(cause, RUNS).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("REGRESSION"), "{text}");
    assert!(text.contains(&format!("1. {named} [high]")), "{text}");
    assert!(
        text.contains(&format!("injected: {cause}; named first: {named}")),
        "{text}"
    );
    assert!(text.contains("the injected cause"), "{text}");
    (text, dir)
}

/// A figure of `route` in the server section of each build's record.
fn per_build(dir: &tempfile::TempDir, n: u32, f: impl Fn(&serde_json::Value) -> f64) -> Vec<f64> {
    (1..=n)
        .map(|i| {
            let r = read_record(&dir.path().join(format!("build-{i}.json")));
            assert_eq!(r["label"], format!("build-{i}"));
            f(&r["server"])
        })
        .collect()
}

fn rising(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[1] > w[0])
}

#[tokio::test]
async fn slow_dependency_is_named_first() {
    let (_, dir) = named_first("slow-dependency", "slow dependency").await;
    let upstream = per_build(&dir, RUNS, |s| {
        s["routes"]["get_mission"]["upstream_ms_per_request"]
            .as_f64()
            .unwrap()
    });
    assert!(rising(&upstream), "{upstream:?}");
}

#[tokio::test]
async fn n_plus_one_is_named_first() {
    let (_, dir) = named_first("n-plus-one", "N+1 queries").await;
    let queries = per_build(&dir, RUNS, |s| {
        s["routes"]["get_mission"]["db_queries_per_request"]
            .as_f64()
            .unwrap()
    });
    assert!(rising(&queries), "{queries:?}");
}

#[tokio::test]
async fn missing_index_is_named_first() {
    let (text, dir) = named_first("missing-index", "missing index / data growth").await;
    // The target's own query plan is the evidence: the waypoints scanned
    // where the first build searched them through their index.
    assert!(
        text.contains("query plan of mission_read: SCAN waypoints (the first run's: SEARCH waypoints USING COVERING INDEX"),
        "{text}"
    );
    let last = read_record(&dir.path().join(format!("build-{RUNS}.json")));
    assert!(
        last["server"]["queries"]
            .to_string()
            .contains("SCAN waypoints"),
        "{}",
        last["server"]
    );
}

#[tokio::test]
async fn data_growth_is_named_first_with_the_missions_growing() {
    let (text, dir) = named_first("data-growth", "missing index / data growth").await;
    let missions = per_build(&dir, RUNS, |s| s["missions"].as_f64().unwrap());
    // The seed's 1,000, then 4,000 more before each build after the first.
    let grown: Vec<f64> = (0..RUNS).map(|i| f64::from(1000 + 4000 * i)).collect();
    assert_eq!(missions, grown);
    let last = 1000 + 4000 * (RUNS - 1);
    assert!(text.contains(&format!("missions 1000 -> {last}")), "{text}");
}

#[tokio::test]
async fn memory_leak_is_named_first() {
    let (_, dir) = named_first("memory-leak", "memory leak / GC pressure").await;
    let rss = per_build(&dir, RUNS, |s| s["rss_bytes_end"].as_f64().unwrap());
    assert!(rising(&rss), "{rss:?}");
}

#[tokio::test]
async fn the_control_with_nothing_injected_is_stable() {
    let _x = EXCLUSIVE.lock().await;
    let (code, text, _dir) = story("none", RUNS).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("NO SIGNIFICANT CHANGE"), "{text}");
    assert!(
        text.contains("injected: none (the control); verdict stable"),
        "{text}"
    );
}

#[tokio::test]
async fn the_story_as_json_is_its_analysis_alone_on_stdout() {
    let _x = EXCLUSIVE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let o = harness(args(&[
        "demo",
        "--regression",
        "slow-dependency",
        "--runs",
        &RUNS.to_string(),
        "--duration-scale",
        "0.5",
        "--quiet",
        "--label",
        "ci",
        "--format",
        "json",
        "--out",
        dir.path().to_str().unwrap(),
    ]))
    .await;
    let j: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", String::from_utf8_lossy(&o.stdout), stderr(&o)));
    assert_eq!(o.status.code(), Some(0), "{j}");
    assert_eq!(
        (&j["injected"], &j["named"]),
        (&"slow-dependency".into(), &true.into())
    );
    assert_eq!(j["analysis"]["verdict"], "regression", "{j}");
    assert_eq!(j["analysis"]["runs"], RUNS, "{j}");
    assert_eq!(j["records"], dir.path().to_str().unwrap());
    assert!(std::path::Path::new(j["report"].as_str().unwrap()).exists());
    // The builds' lines went to stderr, labelled after --label.
    let builds = stderr(&o)
        .lines()
        .filter(|l| l.starts_with("ci build-"))
        .count();
    assert_eq!(builds, RUNS as usize, "{}", stderr(&o));
    assert_eq!(
        read_record(&dir.path().join("build-1.json"))["label"],
        "ci build-1"
    );
}

#[tokio::test]
async fn a_story_needs_enough_builds_to_see_a_trend_and_a_known_cause() {
    // Five builds can show a trend only when every one is slower than the
    // last: refused, saying why; four never can.
    let o = harness(args(&["demo", "--regression", "n-plus-one", "--runs", "5"])).await;
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("--runs 5") && e.contains("at least 6 builds") && e.contains("2/5!"),
        "{e}"
    );
    let o = harness(args(&["demo", "--regression", "none", "--runs", "4"])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("never"), "{}", stderr(&o));
    let o = harness(args(&["demo", "--regression", "cosmic-rays"])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cosmic-rays"), "{}", stderr(&o));
    let o = harness(args(&["demo", "--runs", "4"])).await;
    assert_eq!(o.status.code(), Some(2), "--runs without --regression");
}
