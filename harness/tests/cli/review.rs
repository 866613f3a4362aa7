//! `harness review`: the governance checklist applied to a careless
//! scenario, to the built-in one, and with the target's facts.

use serde_json::Value;

use crate::helpers::{args, harness, spawn_target, stderr};

/// One class, uniform keys past the seeded data, no think time at 500
/// users, a 20 s steady stage judged on p99, and no requirement.
const CARELESS: &str = r#"
name = "careless"
[keys.mission_id]
distribution = "uniform"
n = 5000
format = "MISSION-{:04}"
[[tasks]]
name = "get mission"
path = "/api/missions/{mission_id}"
[[tasks]]
name = "search"
path = "/api/missions?status=active"
[[stages]]
name = "load"
users = 500
duration = "20s"
steady = true
[[slos]]
metric = "p99"
bound = 1000
"#;

fn finding<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r["often_missed"].as_array().unwrap())
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
}

fn evidence(f: &Value, status: &str, says: &str) -> bool {
    f["evidence"].as_array().unwrap().iter().any(|e| {
        let e = e.as_str().unwrap();
        e.starts_with(&format!("{status}: ")) && e.contains(says)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_careless_scenario_fails_on_each_of_its_faults() {
    let target = spawn_target().await;
    let path = target.scenario("careless.toml", CARELESS);
    let o = harness(args(&[
        "review",
        &path,
        "--target",
        &target.url,
        "--format",
        "json",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["verdict"], "fail");
    let ops = finding(&r, "operational_behaviour");
    assert_eq!(ops["status"], "fail");
    assert!(
        evidence(ops, "fail", "no think time with 500 users"),
        "{ops}"
    );
    assert!(evidence(ops, "warn", "one kind of user"), "{ops}");
    assert!(
        evidence(ops, "warn", "operations on ids to follow"),
        "{ops}"
    );
    let data = finding(&r, "data_distribution");
    assert!(evidence(data, "warn", "uniform over 5000 ids"), "{data}");
    assert!(evidence(data, "fail", "the target holds 1000"), "{data}");
    let stats = finding(&r, "statistics");
    assert_eq!(stats["status"], "fail");
    assert!(evidence(stats, "fail", "far too short for p99"), "{stats}");
    assert!(evidence(stats, "pass", "needs 1000 samples"), "{stats}");
    assert!(evidence(stats, "warn", "no warm-up"), "{stats}");
    assert!(evidence(stats, "warn", "no ramp-down"), "{stats}");
    let traced = finding(&r, "requirement_traceable");
    assert!(evidence(traced, "fail", "no [requirement]"), "{traced}");
    let env = finding(&r, "environment");
    assert!(evidence(env, "pass", "holds 1000 missions"), "{env}");
    assert!(evidence(env, "pass", "no emulated"), "{env}");
    assert_eq!(finding(&r, "capacity_planning")["status"], "warn");
    assert_eq!(finding(&r, "realistic_data_distribution")["status"], "warn");
    assert_eq!(finding(&r, "geographic_distribution")["status"], "warn");

    // The same as text, each item with its mark; runs refuse the file.
    let o = harness(args(&["review", &path])).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("[FAIL] Performance requirements traceable"),
        "{text}"
    );
    assert!(text.contains("verdict: FAIL"), "{text}");
    let o = harness(args(&["run", "--scenario", &path, "--target", &target.url])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("requirement"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builtin_scenario_passes_with_warnings_and_can_be_shown_by_name() {
    let target = spawn_target().await;
    let o = harness(args(&[
        "review",
        "req-perf-401",
        "--target",
        &target.url,
        "--format",
        "json",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["verdict"], "warn");
    for id in [
        "requirement_traceable",
        "data_distribution",
        "statistics",
        "capacity_planning",
    ] {
        assert_eq!(
            finding(&r, id)["status"],
            "pass",
            "{id}: {}",
            finding(&r, id)
        );
    }
    // The operations built-in: classes and flows pass where the plain one
    // warns; what is left are the three warnings the README explains.
    let o = harness(args(&[
        "review",
        "req-perf-401-ops",
        "--target",
        &target.url,
        "--format",
        "json",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ops = finding(&r, "operational_behaviour");
    assert_eq!(ops["status"], "pass", "{ops}");
    assert!(evidence(ops, "pass", "3 kinds of user"), "{ops}");
    assert!(
        evidence(ops, "pass", "carrying mission, etag, waypoint"),
        "{ops}"
    );
    let warned: Vec<&str> = r["often_missed"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r["checklist"].as_array().unwrap())
        .filter(|f| f["status"] != "pass")
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        warned,
        [
            "infrastructure_constraints",
            "geographic_distribution",
            "compound_stress"
        ],
        "{r:#}"
    );
    let o = harness(args(&["scenarios"])).await;
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("req-perf-401 "));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\nreq-perf-401-ops "));
    let o = harness(args(&["scenarios", "--show", "req-perf-401"])).await;
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        include_str!("../../scenarios/req-perf-401.toml")
    );
    let o = harness(args(&["scenarios", "--show", "nope"])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("req-perf-401"), "{}", stderr(&o));
    // A missing file or bad TOML is bad input, named.
    let o = harness(args(&["review", "/nonexistent/x.toml"])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/x.toml"));
    let bad = target.scenario("bad.toml", "name = \"x\"\n[[tasks]]\nname = 3\n");
    let o = harness(args(&["review", &bad])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.toml:3"), "{}", stderr(&o));
}
