//! User classes and flows against a real mock-api: users split by class,
//! values carried from one response into the next request, checks that
//! fail as errors of class `check`, and per-class results in the record,
//! the summary, the HTML report and JUnit.

use crate::helpers::{
    assert_schema_valid, read_record, run_against, spawn_target, stderr, task_row, task_totals,
    Target, EXCLUSIVE,
};

const HEAD: &str = r#"
name = "classes"
[requirement]
id = "REQ-CLASSES"
text = "Each kind of user is served."
[keys.mission_id]
distribution = "uniform"
n = 1000
format = "MISSION-{:04}"
[think_time]
kind = "constant"
value = "20ms"
"#;

const STAGES: &str = r#"
[[stages]]
name = "warm"
users = 4
duration = "1s"
[[stages]]
name = "hold"
users = 4
duration = "3s"
steady = true
"#;

async fn run(
    target: &Target,
    name: &str,
    text: &str,
    extra: &[&str],
) -> (std::process::Output, serde_json::Value) {
    let scenario = target.scenario(&format!("{name}.toml"), text);
    let out = target.path(&format!("{name}.json"));
    let mut args = vec!["--scenario", scenario.as_str(), "--seed", "7"];
    args.extend_from_slice(extra);
    let o = run_against(target, &out, &args).await;
    assert_schema_valid(std::slice::from_ref(&out));
    (o, read_record(&out))
}

#[tokio::test(flavor = "multi_thread")]
async fn classes_split_the_users_and_flows_carry_ids_and_versions_between_requests() {
    let _one = EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let text = format!(
        r#"{HEAD}
[[users]]
name = "readers"
count = 2
[[users.tasks]]
name = "read mission"
path = "/api/missions/{{mission_id}}"

[[users]]
name = "editors"
weight = 1
[[users.tasks]]
name = "edit twice"
[[users.tasks.steps]]
name = "editor reads"
path = "/api/missions/{{mission_id}}"
extract = [
  {{ var = "mission", json = "/id" }},
  {{ var = "etag", header = "ETag" }},
  {{ var = "wp", json = "/waypoints/*/id" }},
]
[[users.tasks.steps]]
name = "editor updates"
method = "PUT"
path = "/api/missions/{{vars.mission}}/waypoints/{{vars.wp}}"
headers = {{ "If-Match" = "{{vars.etag}}" }}
body = {{ lat = "10 ± 1", lon = "20 ± 1" }}
# The same version again is stale now: the API must refuse it.
[[users.tasks.steps]]
name = "stale update refused"
method = "PUT"
path = "/api/missions/{{vars.mission}}/waypoints/{{vars.wp}}"
headers = {{ "If-Match" = "{{vars.etag}}" }}
body = {{ lat = "10 ± 1", lon = "20 ± 1" }}
expect = 412

[[users]]
name = "analysts"
weight = 1
[[users.tasks]]
name = "search then open"
[[users.tasks.steps]]
name = "search"
path = "/api/missions?status=active&region=CENTCOM"
extract = [{{ var = "found", json = "/missions/*/id" }}]
[[users.tasks.steps]]
name = "open result"
path = "/api/missions/{{vars.found}}"
check = [{{ json = "/status", equals = "active" }}, {{ json = "/region", equals = "CENTCOM" }}]
{STAGES}
[[slos]]
metric = "errors"
bound = 0
[[slos]]
metric = "p95"
bound = 2000
class = "editors"
[[slos]]
metric = "rps"
bound = 1
class = "analysts"
task = "open result"
"#
    );
    let junit = target.path("classes.xml");
    let html = target.path("classes.html");
    let (o, r) = run(
        &target,
        "classes",
        &text,
        &[
            "--junit",
            junit.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\n{}",
        stderr(&o),
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(r["schema_version"], 8);

    // Two counted readers, then one editor and one analyst by weight.
    let classes = r["classes"].as_array().unwrap();
    let shares: Vec<_> = classes
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["count"].as_u64(),
                c["weight"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        shares,
        [
            ("readers", Some(2), None),
            ("editors", None, Some(1)),
            ("analysts", None, Some(1))
        ]
    );
    assert_eq!(r["stages"][1]["users_max"], 4);
    for row in r["tasks"].as_array().unwrap() {
        let class = match row["name"].as_str().unwrap() {
            "ALL" => serde_json::Value::Null,
            "read mission" => "readers".into(),
            "search" | "open result" => "analysts".into(),
            _ => "editors".into(),
        };
        assert_eq!(row["class"], class, "{row}");
    }
    // A class's steady window is its steady rows together.
    for c in classes {
        let rows: u64 = r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["class"] == c["name"] && t["stage"] == "hold")
            .map(|t| t["requests"].as_u64().unwrap())
            .sum();
        assert_eq!(
            c["steady"]["requests"].as_u64().unwrap(),
            rows,
            "{}",
            c["name"]
        );
        assert!(rows > 0, "{}", c["name"]);
    }

    // Each editor iteration read, updated with the version it read, then
    // was refused with that version: the If-Match header was sent with the
    // value extracted from the first response.
    let (reads, e1) = task_totals(&r, "editor reads");
    let (updates, e2) = task_totals(&r, "editor updates");
    let (stale, e3) = task_totals(&r, "stale update refused");
    assert_eq!((e1, e2, e3), (0, 0, 0));
    assert!(reads >= 5, "{reads}");
    assert!(
        reads - updates <= 1 && updates - stale <= 1,
        "{reads} {updates} {stale}"
    );
    let statuses = &r["server"]["run"]["routes"]["update_waypoint"]["statuses"];
    assert_eq!(statuses["412"].as_u64(), Some(stale), "{statuses}");
    assert_eq!(statuses["200"].as_u64(), Some(updates), "{statuses}");

    // Analysts open what the search found: every opened mission was an
    // active CENTCOM one (checked), one per search.
    let (searches, _) = task_totals(&r, "search");
    let (opened, open_errors) = task_totals(&r, "open result");
    assert_eq!(open_errors, 0);
    assert!(
        searches >= 5 && searches - opened <= 1,
        "{searches} {opened}"
    );

    // SLOs naming a class are judged on that class's rows.
    let slos = r["slos"].as_array().unwrap();
    assert_eq!(slos[1]["class"], "editors");
    assert!(slos[1]["observed"].as_f64().unwrap() > 0.0);
    assert_eq!(slos[2]["id"], "REQ-CLASSES.rps.analysts.open_result");
    let hold = r["stages"][1]["duration_s"].as_f64().unwrap();
    let steady_opened = task_row(&r, "open result", "hold")["requests"]
        .as_u64()
        .unwrap();
    let rps = slos[2]["observed"].as_f64().unwrap();
    assert!((rps - steady_opened as f64 / hold).abs() < 0.01, "{rps}");

    // The summary, the report and JUnit show the classes.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("by class, steady window"), "{stdout}");
    assert!(stdout.contains("p95 < 2000 (editors)"), "{stdout}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>User classes (steady window)</h2>"));
    assert!(page.contains("<h3>editors</h3>"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let out = doc
        .descendants()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(
        out.lines()
            .any(|l| l.contains("editors") && l.contains("stale update refused")),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_check_is_a_check_error_and_no_request_goes_out_with_an_unset_variable() {
    let _one = EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let text = format!(
        r#"{HEAD}
[[users]]
name = "strict"
weight = 1
[[users.tasks]]
name = "stop at a failed check"
[[users.tasks.steps]]
name = "search expecting none"
path = "/api/missions?status=active&region=CENTCOM"
check = [{{ json = "/total", equals = 0 }}]
extract = [{{ var = "found", json = "/missions/0/id" }}]
[[users.tasks.steps]]
name = "never opened"
path = "/api/missions/{{vars.found}}"

[[users]]
name = "lenient"
weight = 1
[[users.tasks]]
name = "go on past a missing value"
on_error = "continue"
[[users.tasks.steps]]
name = "search for a field that is not there"
path = "/api/missions?status=active&region=CENTCOM"
extract = [{{ var = "nope", json = "/missions/0/nope" }}]
[[users.tasks.steps]]
name = "needs the missing value"
path = "/api/missions/{{vars.nope}}"
[[users.tasks.steps]]
name = "needs nothing"
path = "/healthz"
check = [{{ body_contains = "ok" }}, {{ latency_under = "5s" }}]
{STAGES}
[[slos]]
metric = "errors"
bound = 0
class = "lenient"
"#
    );
    let (o, r) = run(&target, "checks", &text, &[]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    let (checked, check_errors) = task_totals(&r, "search expecting none");
    assert!(checked >= 5, "{checked}");
    assert_eq!(check_errors, checked, "every search has a total above 0");
    assert_eq!(task_totals(&r, "never opened"), (0, 0), "the flow stopped");

    let (searched, missing) = task_totals(&r, "search for a field that is not there");
    assert_eq!(missing, searched);
    assert_eq!(
        task_totals(&r, "needs the missing value"),
        (0, 0),
        "never sent unresolved"
    );
    let (went_on, fine) = task_totals(&r, "needs nothing");
    assert_eq!(fine, 0);
    assert!(searched - went_on <= 1, "{searched} {went_on}");

    assert_eq!(r["errors"]["check"].as_u64(), Some(checked + searched));
    let samples: Vec<&str> = r["error_samples"]["check"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        samples
            .iter()
            .any(|s| s.contains("check /total equals 0: it is")
                && s.contains("status 200, body: {\"missions\":[")),
        "{samples:?}"
    );
    assert!(
        samples
            .iter()
            .any(|s| s.contains("extract nope: nothing at /missions/0/nope")),
        "{samples:?}"
    );
    // Check errors have a response: their latency is in the histograms,
    // but a row whose requests all failed shows no latency figures.
    let row = task_row(&r, "search expecting none", "hold");
    assert_eq!(row["errors"], row["requests"], "{row}");
    let h: harness::record::EncodedHistogram =
        serde_json::from_value(row["histogram"].clone()).unwrap();
    assert_eq!(h.0.len(), row["requests"].as_u64().unwrap());
    assert!(row["p50_ms"].is_null(), "{row}");
    // The class SLO fails on the lenient class's steady errors.
    assert_eq!(r["classes"][1]["name"], "lenient");
    let steady_errors = r["classes"][1]["steady"]["errors"].as_u64().unwrap();
    assert!(steady_errors > 0);
    assert_eq!(r["slos"][0]["passed"], false);
    assert_eq!(
        r["slos"][0]["observed"].as_f64(),
        Some(steady_errors as f64)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn open_model_arrivals_draw_their_class_by_weight_and_run_whole_flows() {
    let _one = EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let text = format!(
        r#"{HEAD}
[[users]]
name = "readers"
weight = 2
[[users.tasks]]
name = "read mission"
path = "/api/missions/{{mission_id}}"

[[users]]
name = "analysts"
weight = 1
[[users.tasks]]
name = "search then open"
[[users.tasks.steps]]
name = "search"
path = "/api/missions?status=active&region=CENTCOM"
extract = [{{ var = "found", json = "/missions/*/id" }}]
[[users.tasks.steps]]
name = "open result"
path = "/api/missions/{{vars.found}}"
check = [{{ json = "/id", exists = true }}]

[[stages]]
name = "hold"
rate = 150
duration = "4s"
steady = true
[[slos]]
metric = "errors"
bound = 0
"#
    );
    let (o, r) = run(&target, "open", &text, &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (reads, _) = task_totals(&r, "read mission");
    let (searches, _) = task_totals(&r, "search");
    let (opened, _) = task_totals(&r, "open result");
    // 600 arrivals, each a reader's read or an analyst's whole flow.
    assert!(
        (540..=600).contains(&(reads + searches)),
        "{reads} + {searches}"
    );
    let ratio = reads as f64 / searches as f64;
    assert!((1.6..2.5).contains(&ratio), "{reads} / {searches}");
    assert_eq!(searches, opened, "every arrival's flow ran to its end");
    assert_eq!(r["steady"]["errors"], 0);
}
