//! User classes and flows: the operations scenario as read, and the
//! errors a class or a flow can have, each naming file, line and field.

use super::flow::{Check, ExtractFrom, JsonTest};
use super::*;

fn ops() -> Scenario {
    Scenario::parse("ops.toml", OPS_SOURCE).unwrap()
}

fn err(text: &str) -> ScenarioError {
    match Scenario::parse("bad.toml", text) {
        Err(Error::Scenario(e)) => *e,
        other => panic!("expected a scenario error, got {other:?}"),
    }
}

fn with(replace: &str, by: &str) -> String {
    assert!(OPS_SOURCE.contains(replace), "{replace}");
    OPS_SOURCE.replacen(replace, by, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_operations_scenario_has_three_classes_and_two_flows() {
    let s = ops();
    assert!(s.has_classes());
    let classes: Vec<_> = s
        .classes
        .iter()
        .map(|c| (c.name.as_str(), c.share, c.tasks.len()))
        .collect();
    assert_eq!(
        classes,
        [
            ("watch officers", Share::Weight(6), 1),
            ("planners", Share::Weight(2), 1),
            ("analysts", Share::Weight(2), 1)
        ]
    );
    // Planners think longer; the others take the scenario's think time.
    assert_eq!(
        s.classes[1].think_time,
        ThinkTime::Between(Duration::from_secs(2), Duration::from_secs(4))
    );
    assert_eq!(s.classes[0].think_time, s.classes[2].think_time);

    let edit = &s.classes[1].tasks[0];
    assert!(edit.is_flow());
    assert_eq!(edit.vars, ["mission", "etag", "waypoint"]);
    let names: Vec<_> = edit.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["planner reads mission", "update waypoint"]);
    let read = &edit.steps[0];
    assert!(read.reads_response());
    assert!(matches!(&read.extract[1].from, ExtractFrom::Header(h) if h == "etag"));
    let update = &edit.steps[1];
    assert_eq!(update.method, hyper::Method::PUT);
    assert_eq!(update.expect, [200, 412]);
    assert_eq!(update.headers[0].0, "if-match");
    assert!(!update.reads_response());

    let search = &s.classes[2].tasks[0];
    assert_eq!(search.vars, ["found"]);
    assert!(matches!(
        &search.steps[1].checks[0],
        Check::Json { test: JsonTest::Equals(v), .. } if v == "active"
    ));
    // One-request tasks are one step of their own name.
    let officers = &s.classes[0].tasks[0];
    assert!(!officers.is_flow());
    assert_eq!(officers.steps[0].name, "read mission");

    let entries: Vec<_> = s.entries().iter().map(|e| (e.class, e.name)).collect();
    assert_eq!(
        entries,
        [
            (0, "read mission"),
            (1, "planner reads mission"),
            (1, "update waypoint"),
            (2, "search missions"),
            (2, "open result")
        ]
    );
    let slo = &s.slos[2];
    assert_eq!(
        (slo.class.as_deref(), slo.id.as_str()),
        (Some("planners"), "REQ-PERF-401.p95.planners")
    );
    assert_eq!(slo.describe(), "p95 < 2000 (planners)");
}

#[test]
fn a_file_without_classes_is_one_implicit_class() {
    let s = Scenario::builtin();
    assert!(!s.has_classes());
    assert_eq!(s.classes.len(), 1);
    assert_eq!(s.classes[0].tasks.len(), 3);
    assert!(s.classes[0].tasks.iter().all(|t| !t.is_flow()));
}

#[test]
fn a_step_using_a_variable_no_earlier_step_extracts_is_named_by_file_line_and_step() {
    let text = with(
        "path = \"/api/missions/{vars.found}\"",
        "path = \"/api/missions/{vars.fund}\"",
    );
    let e = err(&text);
    assert_eq!(e.file, "bad.toml");
    assert_eq!(e.line, line_of(&text, "{vars.fund}"));
    assert_eq!(e.field, "users[2].tasks[0].steps[1].path");
    assert!(
        e.message
            .starts_with("step \"open result\" uses {vars.fund}"),
        "{}",
        e.message
    );
    assert!(e.message.contains("[\"found\"]"), "{}", e.message);

    // A step cannot use what it extracts itself, nor what a later one does.
    let text = with(
        "headers = { \"If-Match\" = \"{vars.etag}\" }",
        "headers = { \"If-Match\" = \"{vars.later}\" }",
    );
    let e = err(&text);
    assert_eq!(e.field, "users[1].tasks[0].steps[1].headers.If-Match");
    assert_eq!(e.line, line_of(&text, "{vars.later}"));
}

#[test]
fn class_and_flow_mistakes_are_clear_errors() {
    let cases: [(&str, &str, &str, &str); 9] = [
        (
            "name = \"planners\"\nweight = 2",
            "name = \"planners\"\nweight = 2\ncount = 3",
            "users[1].count",
            "weight",
        ),
        (
            "name = \"open result\"",
            "name = \"read mission\"",
            "users.tasks.name",
            "names two requests",
        ),
        (
            "name = \"search then open\"",
            "name = \"search then open\"\npath = \"/x\"",
            "users[2].tasks[0].path",
            "is a flow",
        ),
        (
            "check = [{ json = \"/id\", exists = true }]",
            "check = [{ json = \"/id\", exists = true, body_contains = \"x\" }]",
            "users[0].tasks[0].check[0]",
            "tests one thing",
        ),
        (
            "check = [{ json = \"/id\", exists = true }]",
            "extract = [{ var = \"x\", json = \"/id\" }]",
            "users[0].tasks[0].extract",
            "no later step",
        ),
        (
            "name = \"planners\"\nweight = 2",
            "name = \"planners\"\nweight = 2\ntarget = \"far\"",
            "users[1].target",
            "neither an http(s):// URL nor a [targets.NAME]",
        ),
        (
            "expect = [200, 412]",
            "expect = [200, 999]",
            "users[1].tasks[0].steps[1].expect",
            "HTTP status",
        ),
        (
            "class = \"planners\"",
            "class = \"pilots\"",
            "slos[2].class",
            "no class named \"pilots\"",
        ),
        (
            "{ var = \"etag\", header = \"ETag\" }",
            "{ var = \"2etag\", header = \"ETag\" }",
            "users[1].tasks[0].steps[0].extract[1].var",
            "not a variable name",
        ),
    ];
    for (replace, by, field, message) in cases {
        let text = with(replace, by);
        let e = err(&text);
        assert_eq!(e.field, field, "{by}: {}", e.message);
        assert!(e.message.contains(message), "{by}: {}", e.message);
        assert!(e.line > 1, "{by}: line {}", e.line);
    }

    // Top-level tasks and classes together.
    let text = format!(
        "{}\n[[tasks]]\nname = \"x\"\npath = \"/\"\n",
        OPS_SOURCE.replacen(
            "[[users]]",
            "[[tasks]]\nname = \"x\"\npath = \"/\"\n\n[[users]]",
            1
        )
    );
    assert_eq!(err(&text).field, "users");

    // A count is for closed-model stages.
    let text = with(
        "name = \"planners\"\nweight = 2",
        "name = \"planners\"\ncount = 2",
    )
    .replace(
        "users = 500\nduration = \"30m\"",
        "rate = 50\nduration = \"30m\"",
    );
    let e = err(&text);
    assert_eq!(e.field, "users[1].count");
    assert!(e.message.contains("open"), "{}", e.message);

    // An SLO's task must be the class's.
    let text = with(
        "class = \"planners\"",
        "class = \"planners\"\ntask = \"open result\"",
    );
    let e = err(&text);
    assert_eq!(e.field, "slos[2].task");
    assert!(e.message.contains("in class \"planners\""), "{}", e.message);
}

#[test]
fn a_class_target_is_a_url_or_a_named_target() {
    let text = with(
        "name = \"planners\"\nweight = 2",
        "name = \"planners\"\nweight = 2\ntarget = \"far\"",
    ) + "\n[targets.far]\nurl = \"http://127.0.0.1:9/api\"\n";
    let s = Scenario::parse("t.toml", &text).unwrap();
    assert_eq!(
        s.classes[1].target.as_deref(),
        Some("http://127.0.0.1:9/api")
    );
    let text = with(
        "name = \"planners\"\nweight = 2",
        "name = \"planners\"\nweight = 2\ntarget = \"https://example.org\"",
    );
    let s = Scenario::parse("t.toml", &text).unwrap();
    assert_eq!(s.classes[1].target.as_deref(), Some("https://example.org"));
    let text = with(
        "name = \"planners\"\nweight = 2",
        "name = \"planners\"\nweight = 2\ntarget = \"ftp://example.org\"",
    );
    assert!(err(&text).message.contains("http:// or https://"));
}

#[test]
fn protocol_and_connection_reuse_per_scenario_and_class() {
    use super::transport::{Protocol, Reuse};
    let text = with(
        "name = \"planners\"\nweight = 2",
        "name = \"planners\"\nweight = 2\nprotocol = \"h2\"\nconnection = \"per-iteration\"",
    );
    let text = format!("connection = \"per-request\"\nmax_streams = 8\n{text}");
    let s = Scenario::parse("t.toml", &text).unwrap();
    assert_eq!(s.transport.max_streams, 8);
    assert_eq!(s.classes[1].protocol, Some(Protocol::H2));
    assert_eq!(s.classes[1].connection, Reuse::PerIteration);
    // The others follow the scenario's.
    assert_eq!(s.classes[0].protocol, None);
    assert_eq!(s.classes[0].connection, Reuse::PerRequest);

    let bad = with(
        "name = \"planners\"\nweight = 2",
        "name = \"planners\"\nweight = 2\nconnection = \"sometimes\"",
    );
    let e = err(&bad);
    assert_eq!(e.field, "users[1].connection");
    assert!(e.message.contains("keep-alive"), "{}", e.message);
    let e = err(&format!("protocol = \"h3\"\n{OPS_SOURCE}"));
    assert_eq!(e.field, "protocol");
    assert!(e.message.contains("\"h1\" or \"h2\""), "{}", e.message);
    let e = err(&format!("connections = 0\n{OPS_SOURCE}"));
    assert_eq!(e.field, "connections");
}

#[test]
fn a_class_may_declare_its_own_keys_over_the_scenarios() {
    // The class's own table comes after its other keys and before its
    // tasks, as TOML reads it.
    let text = with(
        "[[users.tasks]]\nname = \"edit a waypoint\"",
        "[users.keys.mission_id]\ndistribution = \"uniform\"\nn = 10\nformat = \"MISSION-{:04}\"\n\n[[users.tasks]]\nname = \"edit a waypoint\"",
    );
    let s = Scenario::parse("t.toml", &text).unwrap();
    assert_eq!(s.classes[1].keys["mission_id"].n, 10);
    assert_eq!(s.classes[0].keys["mission_id"].n, 1000);
    assert_eq!(s.classes[2].keys["mission_id"].n, 1000);
}
