//! The built-in scenario, errors that name file, line and field, open
//! stages and scaling.

use super::template::KeyDistribution;
use super::*;

#[test]
fn the_builtin_scenario_is_the_seed_documents() {
    let s = Scenario::builtin();
    assert_eq!(s.requirement.id, "REQ-PERF-401");
    let stages: Vec<_> = s
        .stages
        .iter()
        .map(|s| (s.name.as_str(), s.load, s.duration.as_secs(), s.steady))
        .collect();
    assert_eq!(
        stages,
        [
            ("ramp-up", Load::Users { from: 0, to: 500 }, 300, false),
            ("sustained", Load::Users { from: 500, to: 500 }, 1800, true),
            ("spike-ramp", Load::Users { from: 500, to: 750 }, 60, false),
            ("spike", Load::Users { from: 750, to: 750 }, 120, false),
            ("ramp-down", Load::Users { from: 750, to: 0 }, 120, false),
        ]
    );
    let weights: Vec<_> = s.classes[0]
        .tasks
        .iter()
        .map(|t| (t.name.as_str(), t.weight))
        .collect();
    assert_eq!(
        weights,
        [
            ("get mission", 6),
            ("update waypoint", 2),
            ("search missions", 2)
        ]
    );
    assert_eq!(
        s.classes[0].think_time,
        ThinkTime::Between(Duration::from_secs(1), Duration::from_secs(3))
    );
    assert_eq!(s.slos.len(), 2);
    assert_eq!(
        (s.slos[0].metric, s.slos[0].op, s.slos[0].bound),
        (Metric::P95, Op::Lt, 2000.0)
    );
    assert_eq!(
        (s.slos[1].metric, s.slos[1].op, s.slos[1].bound),
        (Metric::Errors, Op::Le, 0.0)
    );
    assert_eq!(s.slos[0].stages, ["sustained"]);
    assert!(matches!(
        s.classes[0].keys["mission_id"].distribution,
        KeyDistribution::Zipf { .. }
    ));
    assert_eq!(s.classes[0].keys["mission_id"].n, 1000);
}

fn err(text: &str) -> ScenarioError {
    match Scenario::parse("bad.toml", text) {
        Err(Error::Scenario(e)) => *e,
        other => panic!("expected a scenario error, got {other:?}"),
    }
}

fn with(replace: &str, by: &str) -> String {
    assert!(BUILTIN_SOURCE.contains(replace), "{replace}");
    BUILTIN_SOURCE.replacen(replace, by, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn errors_name_file_line_and_field() {
    let text = with("weight = 2", "weight = \"two\"");
    let e = err(&text);
    assert_eq!(e.file, "bad.toml");
    assert_eq!(e.line, line_of(&text, "weight = \"two\""));
    assert_eq!(e.field, "tasks[1].weight");

    let text = with("metric = \"p95\"", "metric = \"p96\"");
    let e = err(&text);
    assert_eq!(
        (e.line, e.field.as_str()),
        (line_of(&text, "p96"), "slos[0].metric")
    );

    let text = with("duration = \"30m\"", "duration = \"thirty\"");
    let e = err(&text);
    assert_eq!(
        (e.line, e.field.as_str()),
        (line_of(&text, "thirty"), "stages[1].duration")
    );

    let text = with(
        "path = \"/api/missions/{mission_id}\"",
        "path = \"/api/missions/{mision_id}\"",
    );
    let e = err(&text);
    assert_eq!(e.field, "tasks[0].path");
    assert!(e.message.contains("mision_id"), "{}", e.message);

    let text = with("kind = \"between\"", "kind = \"sometimes\"");
    assert_eq!(err(&text).field, "think_time.kind");

    let text = with("steady = true", "steady = false");
    assert_eq!(err(&text).field, "stages.steady");

    let text = with(
        "users = 750\nduration = \"1m\"",
        "users = 750\nusers_typo = 3\nduration = \"1m\"",
    );
    let e = err(&text);
    assert_eq!(e.line, line_of(&text, "users_typo"));
    assert!(e.message.contains("users_typo"), "{}", e.message);
}

#[test]
fn open_model_stages_ramp_from_the_previous_rate() {
    let s = Scenario::parse(
        "open.toml",
        r#"
name = "open"
[requirement]
id = "R-1"
text = "t"
[[tasks]]
name = "health"
path = "/healthz"
[[stages]]
name = "warm"
rate = 100
duration = "10s"
[[stages]]
name = "hold"
rate = 200
duration = "10s"
steady = true
"#,
    )
    .unwrap();
    assert_eq!(
        s.stages[0].load,
        Load::Rate {
            from: 100.0,
            to: 100.0
        }
    );
    assert_eq!(
        s.stages[1].load,
        Load::Rate {
            from: 100.0,
            to: 200.0
        }
    );
    assert_eq!(s.classes[0].think_time, ThinkTime::None);
    assert!(s.slos.is_empty());
}

#[test]
fn closed_stages_may_start_from_a_given_number_of_users() {
    let text = with(
        "name = \"ramp-up\"\nusers = 500",
        "name = \"ramp-up\"\nusers = 500\nfrom_users = 500",
    );
    let s = Scenario::parse("step.toml", &text).unwrap();
    assert_eq!(s.stages[0].load, Load::Users { from: 500, to: 500 });
    assert_eq!(s.stages[1].load, Load::Users { from: 500, to: 500 });

    let text = with(
        "name = \"ramp-up\"\nusers = 500",
        "name = \"ramp-up\"\nrate = 100\nfrom_users = 3",
    );
    let e = err(&text);
    assert_eq!(e.field, "stages[0].from_users");
    assert_eq!(e.line, line_of(&text, "from_users"));
}

#[test]
fn scaling_shortens_stages_only() {
    let s = Scenario::builtin().scaled(0.02);
    assert_eq!(s.stages[1].duration, Duration::from_secs(36));
    assert_eq!(
        s.classes[0].think_time,
        Scenario::builtin().classes[0].think_time
    );
    assert_eq!(s.total_duration(), Duration::from_secs(48));
}

#[test]
fn every_table_rejects_unknown_keys_and_a_late_top_level_key_is_named() {
    // [requirement] takes id and text only.
    let text = with(
        "[requirement]\nid = \"REQ-PERF-401\"",
        "[requirement]\nowner = \"ops\"\nid = \"REQ-PERF-401\"",
    );
    let e = err(&text);
    assert_eq!(e.field, "requirement.owner");
    assert_eq!(e.line, line_of(&text, "owner ="));
    assert!(e.message.contains("unknown field `owner`"), "{}", e.message);
    // A top-level key written after a table header lands in that table:
    // named, with the rule, wherever it happens.
    for (after, table, header) in [
        ("[requirement]\n", "requirement", "[requirement]"),
        ("[think_time]\n", "think_time", "[think_time]"),
        ("[[tasks]]\n", "tasks[0]", "[[tasks]]"),
        (
            "[keys.mission_id]\n",
            "keys.mission_id",
            "[keys.mission_id]",
        ),
    ] {
        let text = BUILTIN_SOURCE.replacen(after, &format!("{after}timeout = \"5s\"\n"), 1);
        let e = err(&text);
        assert_eq!(e.field, format!("{table}.timeout"), "{after}");
        assert_eq!(e.line, line_of(&text, "timeout = \"5s\""), "{after}");
        assert!(
            e.message.contains("`timeout` is a top-level key")
                && e.message.contains(&format!("after a {header} header"))
                && e.message
                    .contains("top-level keys must come before the first table"),
            "{after}: {}",
            e.message
        );
    }
    // An unknown key that is not a top-level one gets no such hint.
    let text = with("[think_time]\n", "[think_time]\ncolour = \"blue\"\n");
    let e = err(&text);
    assert!(!e.message.contains("top-level"), "{}", e.message);
}
