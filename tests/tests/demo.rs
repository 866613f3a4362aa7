//! The README's main job, end to end and in-process: `harness demo` starts
//! mock-api on 127.0.0.1:0 over a fresh seeded SQLite file, runs the
//! built-in REQ-PERF-401 scenario (shortened), and writes the record and the
//! HTML report.

use std::path::PathBuf;

use harness::run::demo::{demo, DemoOptions};
use harness::run::RecordOptions;
use harness::scenario::ScenarioRef;

/// Demo options as the tests use them: quiet, seed 42, server stats on,
/// the scenario's own length, the record at `out` (or the default path).
fn quiet(scenario: Option<ScenarioRef>, out: Option<PathBuf>) -> DemoOptions {
    DemoOptions {
        scenario,
        duration_scale: None,
        record: RecordOptions {
            out,
            quiet: true,
            ..RecordOptions::new(42)
        },
    }
}

/// A built-in's name or a file, as `--scenario` reads it.
fn named(s: &str) -> Option<ScenarioRef> {
    Some(s.parse().expect("any text names a scenario"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_the_seed_documents_scenario_and_writes_record_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.json");

    let result = demo(&DemoOptions {
        duration_scale: Some(0.002),
        ..quiet(None, Some(out.clone()))
    })
    .await
    .expect("the demo runs");

    assert!(
        result.record.verdict.passed(),
        "REQ-PERF-401 holds on the demo target"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(r["requirement"]["id"], "REQ-PERF-401");
    assert_eq!(r["label"], "demo");
    assert_eq!(r["stages"].as_array().unwrap().len(), 5);
    assert!(r["steady"]["requests"].as_u64().unwrap() > 100);
    assert_eq!(r["steady"]["errors"], 0);
    // The target's own view of the steady window came back over HTTP.
    assert!(
        r["server"]["routes"]["get_mission"]["count"]
            .as_u64()
            .unwrap()
            > 0
    );
    let html = std::fs::read_to_string(out.with_extension("html")).unwrap();
    assert!(html.contains("REQ-PERF-401") && html.contains("<svg"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_a_named_or_given_scenario_shortened_to_about_90_s() {
    let dir = tempfile::tempdir().unwrap();
    // A file of 3 s runs as written (only longer ones are shortened).
    let file = dir.path().join("short.toml");
    std::fs::write(
        &file,
        "name = \"short\"\n[requirement]\nid = \"REQ-SHORT\"\ntext = \"t\"\n[[tasks]]\nname = \"health\"\npath = \"/healthz\"\n[[stages]]\nname = \"hold\"\nusers = 2\nduration = \"3s\"\nsteady = true\n",
    )
    .unwrap();
    let out = dir.path().join("short.json");
    let result = demo(&quiet(Some(ScenarioRef::File(file)), Some(out.clone())))
        .await
        .expect("the demo runs the file");
    assert_eq!(result.record.requirement.id, "REQ-SHORT");
    assert_eq!(result.record.duration_scale, 1.0);
    // A built-in by name, and an unknown name is an error naming it.
    let mut by_name = quiet(named("req-perf-401"), Some(dir.path().join("named.json")));
    by_name.duration_scale = Some(0.001);
    by_name.record.no_server_stats = true;
    let builtin = demo(&by_name).await.expect("the built-in by name");
    assert_eq!(builtin.record.requirement.id, "REQ-PERF-401");
    let mut unknown = quiet(named("req-perf-402"), None);
    unknown.record.no_server_stats = true;
    let e = demo(&unknown).await.unwrap_err().to_string();
    assert!(e.contains("req-perf-402"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operations_scenario_runs_as_the_demo_with_its_three_classes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ops.json");
    // As `harness demo --scenario req-perf-401-ops` runs it: shortened to
    // about 90 s, 500 users at the steady stage, 750 at the spike.
    let result = demo(&quiet(named("req-perf-401-ops"), Some(out.clone())))
        .await
        .expect("the operations scenario runs");
    let r = &result.record;
    assert!(r.verdict.passed(), "{:?}", r.slos);
    let planned: f64 = r.stages.iter().map(|s| s.duration_s).sum();
    assert!(planned < 120.0, "{planned} s");
    assert_eq!(r.stages[1].users_max, 500);
    let classes: Vec<_> = r.classes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(classes, ["watch officers", "planners", "analysts"]);
    for c in &r.classes {
        assert!(c.steady.requests > 100, "{}: {}", c.name, c.steady.requests);
        assert_eq!(c.steady.errors, 0, "{}", c.name);
    }
    // 300, 100 and 100 users: the officers' share of iterations is about
    // three times each other class's (planners think longer, so fewer).
    let iterations = |task: &str| {
        r.tasks
            .iter()
            .filter(|t| t.name.task() == Some(task) && r.is_steady(&t.stage))
            .map(|t| t.requests)
            .sum::<u64>() as f64
    };
    let (officers, analysts) = (iterations("read mission"), iterations("search missions"));
    assert!(
        (2.5..3.5).contains(&(officers / analysts)),
        "{officers} / {analysts}"
    );
    // Every update the planners sent reached the server: the server's
    // count over the run is the harness's over all stages.
    let server = r
        .server
        .as_ref()
        .expect("the demo reads the target's truth");
    let sent: u64 = r
        .tasks
        .iter()
        .filter(|t| t.name.task() == Some("update waypoint"))
        .map(|t| t.requests)
        .sum();
    assert_eq!(server.run.routes["update_waypoint"].count, sent);
}
