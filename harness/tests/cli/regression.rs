//! `harness demo --regression CAUSE`: builds made a step worse by a known
//! cause against an in-process mock-api, then analysed.

use crate::helpers::{args, harness, read_record, stderr, EXCLUSIVE};

#[tokio::test]
async fn a_slow_dependency_story_names_the_injected_cause_and_exits_0() {
    let _x = EXCLUSIVE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("story");
    let o = harness(args(&[
        "demo",
        "--regression",
        "slow-dependency",
        "--runs",
        "3",
        "--duration-scale",
        "0.3",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]))
    .await;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    let builds = text.lines().filter(|l| l.starts_with("build-")).count();
    assert_eq!(builds, 3, "{text}");
    assert!(text.contains("1. slow dependency [high]"), "{text}");
    assert!(
        text.contains("injected: slow-dependency; named first: slow dependency"),
        "{text}"
    );
    assert!(text.contains("the injected cause"), "{text}");
    assert!(out.join("report.html").exists());
    // The upstream grew slower build by build, as the schedule says.
    let upstream: Vec<f64> = (1..=3)
        .map(|i| {
            let r = read_record(&out.join(format!("build-{i}.json")));
            assert_eq!(r["label"], format!("build-{i}"));
            r["server"]["routes"]["get_mission"]["upstream_ms_per_request"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert!(
        upstream.windows(2).all(|w| w[1] > w[0] + 5.0),
        "{upstream:?}"
    );
}

#[tokio::test]
async fn a_story_needs_three_runs_and_a_known_cause() {
    let o = harness(args(&["demo", "--regression", "n-plus-one", "--runs", "2"])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--runs"), "{}", stderr(&o));
    let o = harness(args(&["demo", "--regression", "cosmic-rays"])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cosmic-rays"), "{}", stderr(&o));
    let o = harness(args(&["demo", "--runs", "4"])).await;
    assert_eq!(o.status.code(), Some(2), "--runs without --regression");
}
