//! `harness score` end to end: the harness itself against a real mock-api,
//! the scorecard checked against the target's own `/__admin/stats` and
//! against `docs/scorecard.schema.json`; the helpers the real external
//! tools' tests (`score_tools.rs`) share.

use std::path::Path;
use std::process::Output;

use crate::helpers::{args, harness, spawn_target_with, stderr, Target, EXCLUSIVE};

pub(crate) const TOKEN: &str = "score-test-token";

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A target with an admin token, so that `score --target` can drive it.
pub(crate) async fn scored_target() -> Target {
    spawn_target_with(|c| c.admin_token = Some(TOKEN.into())).await
}

fn validate(card: &serde_json::Value) {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scorecard.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(card)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "scorecard off its schema: {errors:#?}");
}

pub(crate) fn read_card(path: &Path) -> serde_json::Value {
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    validate(&card);
    card
}

pub(crate) fn line<'a>(
    card: &'a serde_json::Value,
    section: &str,
    name: &str,
) -> &'a serde_json::Value {
    card[section]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no {section} line {name} in {card}"))
}

/// The target's statistics now, every route together: (requests, non-2xx).
pub(crate) async fn admin_stats(target: &Target) -> (u64, u64) {
    let stats: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/__admin/stats", target.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let routes = stats["routes"].as_object().unwrap();
    let count = routes.values().map(|r| r["count"].as_u64().unwrap()).sum();
    let errors = routes
        .values()
        .flat_map(|r| r["statuses"].as_object().unwrap().iter())
        .filter(|(code, _)| !code.starts_with('2'))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    (count, errors)
}

/// The folder `tool` is in, as the build found it (`harness/build.rs`). A
/// test that runs a tool is `#[cfg_attr(missing_TOOL, ignore = ...)]`: the
/// runner lists it as ignored where the tool is missing, and where
/// `MISSION_LAB_REQUIRE_TOOLS` is set (CI: `.ci/run` installs them) it
/// runs and fails here instead.
pub(crate) fn tool_dir(tool: &str) -> &'static str {
    let dir = match tool {
        "wrk" => option_env!("MISSION_LAB_TOOL_WRK"),
        "hey" => option_env!("MISSION_LAB_TOOL_HEY"),
        "curl" => option_env!("MISSION_LAB_TOOL_CURL"),
        "k6" => option_env!("MISSION_LAB_TOOL_K6"),
        "artillery" => option_env!("MISSION_LAB_TOOL_ARTILLERY"),
        "autocannon" => option_env!("MISSION_LAB_TOOL_AUTOCANNON"),
        "prometheus" => option_env!("MISSION_LAB_TOOL_PROMETHEUS"),
        "promtool" => option_env!("MISSION_LAB_TOOL_PROMTOOL"),
        _ => None,
    };
    dir.unwrap_or_else(|| {
        panic!("{tool} is not installed, and MISSION_LAB_REQUIRE_TOOLS says it must be")
    })
}

/// `harness score --target T --admin-token ... --tool TOOL --trial TRIAL`.
pub(crate) async fn score(
    target: &Target,
    tool: &str,
    trial: &str,
    extra: &[&str],
) -> (Output, String) {
    let out = target.path(&format!("{tool}-{trial}.json"));
    let mut a = args(&[
        "score",
        "--tool",
        tool,
        "--trial",
        trial,
        "--target",
        &target.url,
        "--admin-token",
        TOKEN,
        "--out",
        out.to_str().unwrap(),
    ]);
    a.extend(extra.iter().map(|s| s.to_string()));
    (harness(a).await, out.to_str().unwrap().to_owned())
}

/// A trial scored against a fresh target that passed (exit 0): its
/// stdout, its scorecard (checked against the schema), where that went,
/// and the target's own count of requests and non-2xx answers after it.
pub(crate) struct Passed {
    pub(crate) text: String,
    pub(crate) card: serde_json::Value,
    pub(crate) out: String,
    pub(crate) requests: u64,
    pub(crate) non_2xx: u64,
    /// Kept alive so that `out` and the files beside it still exist.
    pub(crate) _target: Target,
}

pub(crate) async fn scored_pass(tool: &str, trial: &str, extra: &[&str]) -> Passed {
    let target = scored_target().await;
    let (o, out) = score(&target, tool, trial, extra).await;
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    let card = read_card(Path::new(&out));
    let (requests, non_2xx) = admin_stats(&target).await;
    Passed {
        text,
        card,
        out,
        requests,
        non_2xx,
        _target: target,
    }
}

/// `score --tool TOOL --trial fixed --duration 1s --out OUT -- sh -c
/// SCRIPT`: a user's own command, run in place of the tool's default.
pub(crate) fn users_command(tool: &str, out: &Path, script: &str) -> Vec<String> {
    args(&[
        "score",
        "--tool",
        tool,
        "--trial",
        "fixed",
        "--duration",
        "1s",
        "--out",
        out.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        script,
    ])
}

const STALL: &str = "seed = 1\nstall = { every = \"2s\", for = \"200ms\", phase = \"0s\" }\n";

/// `score --tool TOOL --behaviour B --rate 200 --duration 6s --out OUT`
/// and `extra` (a `--` and a command last).
pub(crate) fn stall_args(tool: &str, behaviour: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = args(&[
        "score",
        "--tool",
        tool,
        "--behaviour",
        behaviour.to_str().unwrap(),
        "--rate",
        "200",
        "--duration",
        "6s",
        "--out",
        out.to_str().unwrap(),
    ]);
    a.extend(args(extra));
    a
}

/// The stall behaviour of these tests (200 ms every 2 s), written in `dir`.
pub(crate) fn stall_behaviour(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("stall.toml");
    std::fs::write(&path, STALL).unwrap();
    path
}

#[tokio::test]
async fn the_harness_counts_the_errors_trial_as_the_server_does() {
    let _x = EXCLUSIVE.lock().await;
    let Passed {
        text,
        card,
        requests,
        non_2xx,
        ..
    } = scored_pass("harness", "errors", &["--duration", "3s"]).await;
    let r = line(&card, "counts", "requests");
    let e = line(&card, "counts", "errors");
    // The window is exact: the server's figures are the admin API's.
    assert_eq!(r["server"].as_u64().unwrap(), requests);
    assert_eq!(e["server"].as_u64().unwrap(), non_2xx);
    assert!(non_2xx > 0, "the 5% of 503s never came: {card}");
    assert!(e["difference"].as_i64().unwrap().abs() <= 1, "{e}");
    assert!(r["difference"].as_i64().unwrap().abs() <= 1, "{r}");
    assert_eq!(card["server_statuses"]["503"].as_u64().unwrap(), non_2xx);
    assert_eq!(card["trial"], "errors");
    assert_eq!(card["model"], "closed");
    // This trial judges counts only: percentiles are shown, not judged.
    assert!(line(&card, "percentiles", "p99")["within"].is_null());
    assert!(text.contains("verdict: PASS"), "{text}");
    assert!(text.contains("server's statuses: 200 "), "{text}");
}

#[tokio::test]
async fn the_harness_open_model_meets_the_stall_expectation_and_a_closed_run_is_flagged() {
    let _x = EXCLUSIVE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let behaviour = stall_behaviour(dir.path());
    let open = dir.path().join("open.json");
    let o = harness(stall_args("harness", &behaviour, &open, &[])).await;
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    let card = read_card(&open);
    assert_eq!(card["reference"], "expectation");
    assert_eq!(card["measured_from_intended_send_times"], true);
    for p in ["p95", "p99"] {
        let l = line(&card, "percentiles", p);
        let expected = l["expected_ms"].as_f64().unwrap();
        let tool = l["tool_ms"].as_f64().unwrap();
        assert!(
            (tool - expected).abs() <= 0.10 * expected,
            "{p}: {tool} ms against {expected} ms expected"
        );
    }
    let p99 = line(&card, "percentiles", "p99")["expected_ms"]
        .as_f64()
        .unwrap();
    assert!((180.0..185.0).contains(&p99), "{p99}");

    // The same stall met by four users that wait for each answer.
    let closed = dir.path().join("closed.json");
    let o = harness(stall_args(
        "harness",
        &behaviour,
        &closed,
        &[
            "--connections",
            "4",
            "--",
            env!("CARGO_BIN_EXE_harness"),
            "run",
            "--target",
            "{url}",
            "--path",
            "{path}",
            "--users",
            "{connections}",
            "--duration",
            "{duration}",
            "--quiet",
            "--no-server-stats",
            "--out",
            "{out}",
        ],
    ))
    .await;
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}{}", stderr(&o));
    let card = read_card(&closed);
    assert_eq!(card["model"], "closed");
    assert_eq!(card["verdict"], "fail");
    let p99 = line(&card, "percentiles", "p99");
    assert_eq!(p99["within"], false, "{p99}");
    assert!(p99["error_ms"].as_f64().unwrap() < -50.0, "{p99}");
    assert!(text.contains("under-reports"), "{text}");
}

#[tokio::test]
async fn list_trials_names_each_trial_and_each_tools_command() {
    let o = harness(args(&["score", "--list-trials"])).await;
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for t in ["fixed:", "tail:", "errors:", "resets:", "stall:"] {
        assert!(text.contains(t), "{t} missing: {text}");
    }
    for cmd in [
        "wrk -t1 -c{connections} -d{duration} --latency {url}{path}",
        "hey -z {duration} -c {connections} -o csv {url}{path}",
        "oha -q {rate} --latency-correction",
        "locust -f {locustfile} --headless",
    ] {
        assert!(text.contains(cmd), "{cmd} missing: {text}");
    }
}

#[tokio::test]
async fn a_failing_or_unreadable_tool_is_exit_2_with_its_last_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("card.json");
    let run = |script: &str| harness(users_command("wrk", &out, script));
    let o = run("echo starting; echo 'unable to connect' >&2; exit 1").await;
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("exit status: 1") && e.contains("unable to connect"),
        "{e}"
    );
    let o = run("printf 'Running 1s test\\n  oops\\n'").await;
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("(stdout)") && e.contains("not wrk's report") && e.contains("oops"),
        "{e}"
    );
    assert!(!out.exists(), "no scorecard is written for a failed tool");
}

#[tokio::test]
async fn a_target_without_an_admin_token_is_refused_by_name() {
    let target = spawn_target_with(|_| {}).await;
    let (o, out) = score(&target, "harness", "fixed", &["--duration", "1s"]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let e = stderr(&o);
    assert!(e.contains("no admin token configured"), "{e}");
    assert!(!Path::new(&out).exists());
    let o = harness(args(&[
        "score",
        "--tool",
        "harness",
        "--trial",
        "fixed",
        "--target",
        &target.url,
    ]))
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--admin-token"), "{}", stderr(&o));
}

#[tokio::test]
async fn usage_mistakes_are_exit_2_naming_the_flag() {
    for (a, says) in [
        (vec!["score", "--trial", "fixed"], "--tool"),
        (vec!["score", "--tool", "wrk"], "--trial"),
        (vec!["score", "--tool", "wrk", "--trial", "nope"], "nope"),
        (
            vec!["score", "--tool", "wrk", "--trial", "fixed", "--rate", "0"],
            "--rate",
        ),
        (
            vec![
                "score",
                "--tool",
                "wrk",
                "--trial",
                "fixed",
                "--tolerance-pct=-1",
            ],
            "--tolerance-pct",
        ),
    ] {
        let o = harness(args(&a)).await;
        assert_eq!(o.status.code(), Some(2), "{a:?}");
        assert!(stderr(&o).contains(says), "{a:?}: {}", stderr(&o));
    }
}

#[tokio::test]
async fn a_suite_scores_every_trial_and_goes_on_past_a_failing_one() {
    let _x = EXCLUSIVE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    // Short trials: the figures are not the point here, the suite's shape is.
    let o = harness(args(&[
        "score",
        "--suite",
        "--tool",
        "harness",
        "--duration",
        "1s",
        "--connections",
        "4",
        "--out",
        dir.path().to_str().unwrap(),
    ]))
    .await;
    let text = stdout(&o);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{text}{}",
        stderr(&o)
    );
    let trials = ["fixed", "tail", "errors", "resets", "stall", "tls", "h2"];
    for (line, trial) in text.lines().zip(trials) {
        assert!(line.starts_with(trial), "{line} is not {trial}'s line");
        assert!(line.contains("PASS") || line.contains("FAIL"), "{line}");
        let card = read_card(&dir.path().join(format!("{trial}.json")));
        assert_eq!(card["trial"], trial);
    }
    assert!(text.contains("scorecards: "), "{text}");

    let o = harness(args(&[
        "score",
        "--suite",
        "--tool",
        "wrk",
        "--duration",
        "1s",
        "--out",
        dir.path().join("broken").to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "echo 'wrk: cannot connect' >&2; exit 3",
    ]))
    .await;
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    let errors = text.lines().filter(|l| l.contains(" ERROR ")).count();
    assert_eq!(errors, 7, "every trial said, none stopped the rest: {text}");
    assert!(stderr(&o).contains("cannot connect"), "{}", stderr(&o));
}

#[tokio::test]
async fn the_imported_tools_are_scored_through_their_adapters() {
    // Gatling has no default command here: said by name.
    for tool in ["gatling"] {
        let o = harness(args(&["score", "--tool", tool, "--trial", "fixed"])).await;
        assert_eq!(o.status.code(), Some(2), "{tool}");
        assert!(stderr(&o).contains("no default command"), "{}", stderr(&o));
    }
    let o = harness(args(&["score", "--list-trials"])).await;
    let text = stdout(&o);
    for cmd in [
        "k6 run --quiet --out csv=fileName={out},timeFormat=unix_micro",
        "-e RATE={rate} {k6script}",
        "vegeta attack -rate={rate}",
        "env ARTILLERY_DISABLE_TELEMETRY=true artillery run --quiet --output {out} {artilleryscript}",
        "autocannon -c {connections} -d {duration} --json --overallRate {rate} {url}{path}",
        "jmeter     jmeter -n -t {jmeterplan} -l {out}",
        "gatling    (none: gatling has no default command here",
        // The tls and h2 trials' commands, and the tools that cannot.
        "--ca-cert {cacert} --connection per-request",
        "oha --cacert {cacert} --http2",
        "(none: wrk has no default command for the h2 trial: wrk speaks HTTP/1.1 only)",
    ] {
        assert!(text.contains(cmd), "{cmd} missing: {text}");
    }
}

#[tokio::test]
async fn a_reset_is_counted_as_an_error_with_no_response_never_as_a_500() {
    let _x = EXCLUSIVE.lock().await;
    let Passed {
        text,
        card,
        requests,
        non_2xx,
        ..
    } = scored_pass("harness", "resets", &["--duration", "3s"]).await;
    // The truth counts a reset as a request with no answer, not a non-2xx.
    assert!(requests > 0 && non_2xx == 0, "{requests} {non_2xx}");
    let resets = card["server_no_response"]["reset"].as_u64().unwrap();
    assert!(resets > 0, "the 1% of resets never came: {card}");
    let statuses = card["server_statuses"].as_object().unwrap();
    assert_eq!(statuses.keys().collect::<Vec<_>>(), ["200"], "{card}");
    let e = line(&card, "counts", "errors");
    assert_eq!(e["server"].as_u64().unwrap(), resets);
    assert_eq!(e["difference"], 0, "the harness counts every reset: {e}");
    assert!(
        text.contains(&format!("server's no response: reset {resets}")),
        "{text}"
    );
}
