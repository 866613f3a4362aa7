//! Locations and compound stress with user classes (issue 16): one
//! scenario whose classes load the API from different addresses, an
//! emulated far link or the API's own upstream, each class's experience
//! reported on its own beside the server's truth.

use serde_json::Value;

use crate::helpers::{class_named, read_record, run_against, spawn_target_with, stderr, EXCLUSIVE};

/// Readers at the run's target and a class with its own `target`.
fn two_classes(other_name: &str, other_target: &str, other_path: &str, other_users: u32) -> String {
    format!(
        r#"
name = "locations"
[requirement]
id = "REQ-LOCATIONS"
text = "Every location is served."
[keys.mission_id]
distribution = "uniform"
n = 1000
format = "MISSION-{{:04}}"
[targets.other]
url = "{other_target}"

[[users]]
name = "near"
count = 4
[[users.tasks]]
name = "near read"
path = "/api/missions/{{mission_id}}"

[[users]]
name = "{other_name}"
count = {other_users}
target = "other"
[[users.tasks]]
name = "{other_name} request"
path = "{other_path}"

[[stages]]
name = "warm"
users = {total}
duration = "1s"
[[stages]]
name = "hold"
users = {total}
duration = "4s"
steady = true
[[slos]]
metric = "errors"
bound = 0
"#,
        total = 4 + other_users
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_class_behind_a_300_ms_link_sees_it_while_near_users_and_the_server_do_not() {
    let _one = EXCLUSIVE.lock().await;
    let target = spawn_target_with(|c| c.link = vec!["far=0:rtt(300ms)".into()]).await;
    let far = target.links[0].1.clone();
    let text = two_classes("far", &far, "/api/missions/{mission_id}", 4);
    let scenario = target.scenario("locations.toml", &text);
    let out = target.path("locations.json");
    let o = run_against(&target, &out, &["--scenario", &scenario]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_record(&out);

    let p50 = |c: &str| class_named(&r, c)["steady"]["p50_ms"].as_f64().unwrap();
    let (near, far_p50) = (p50("near"), p50("far"));
    assert!((300.0..400.0).contains(&far_p50), "far p50 {far_p50}");
    assert!(near < 50.0, "near p50 {near}");
    assert_eq!(class_named(&r, "far")["target"], far.as_str());
    // Both classes read missions from one server, which serves them alike:
    // the link's 300 ms are not service time.
    let server = r["server"]["routes"]["get_mission"]["p50_ms"]
        .as_f64()
        .unwrap();
    assert!(server < 20.0, "server p50 {server}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("from {far}")), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_class_loading_the_upstream_slows_the_reads_that_call_it() {
    let _one = EXCLUSIVE.lock().await;
    // The reads call an upstream that serves 4 calls at once in 20 ms each.
    let target = spawn_target_with(|c| {
        c.emulate = vec!["slow-dependency".into()];
        c.dependency_latency = Some("fixed(20)".into());
        c.dependency_concurrency = Some(4);
    })
    .await;
    let shown: Value = reqwest::get(format!("{}/__admin/behaviour", target.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let upstream = shown["upstream"].as_str().unwrap().to_owned();

    // Alone: two readers, nobody else on the upstream.
    let alone = two_classes("idle", &upstream, "/deconflict?mission=MISSION-0001", 0)
        .replace("count = 4", "count = 2")
        .replace("users = 4", "users = 2");
    let alone = alone.replace(
        "[[users]]\nname = \"idle\"\ncount = 0",
        "[[users]]\nname = \"idle\"\nweight = 0",
    );
    let scenario = target.scenario("alone.toml", &alone);
    let out = target.path("alone.json");
    let o = run_against(&target, &out, &["--scenario", &scenario]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = read_record(&out)["server"]["routes"]["get_mission"]["upstream_ms_per_request"]
        .as_f64()
        .unwrap();

    // Compound: the same two readers while 12 users of another class call
    // the upstream directly, in one scenario.
    let text = two_classes(
        "upstream callers",
        &upstream,
        "/deconflict?mission=MISSION-0001",
        12,
    )
    .replace("count = 4", "count = 2");
    let text = text.replace("users = 16", "users = 14");
    let scenario = target.scenario("compound.toml", &text);
    let out = target.path("compound.json");
    let o = run_against(&target, &out, &["--scenario", &scenario]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_record(&out);
    let after = r["server"]["routes"]["get_mission"]["upstream_ms_per_request"]
        .as_f64()
        .unwrap();
    eprintln!("upstream ms per mission read: {before} alone, {after} with a class on the upstream");
    assert!((19.0..30.0).contains(&before), "{before}");
    assert!(after > 2.0 * before, "{before} -> {after}");
    // Each class's experience: the callers wait their turn at the upstream
    // (4 at once, 20 ms each), and the near readers' reads include the wait.
    let callers = class_named(&r, "upstream callers");
    assert_eq!(callers["target"], upstream.as_str());
    assert!(
        callers["steady"]["p50_ms"].as_f64().unwrap() >= 20.0,
        "{callers}"
    );
    let near = class_named(&r, "near")["steady"]["p50_ms"]
        .as_f64()
        .unwrap();
    assert!(near > 40.0, "near p50 {near}");
}
