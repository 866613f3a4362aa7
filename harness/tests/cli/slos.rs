//! SLOs on the command line (`harness run --slo`), and a run without any:
//! not judged, never a PASS, and latencies of rows whose requests all
//! failed shown as absent, never as 0.

use crate::helpers::{
    args, harness, read_record, run_against, schema_errors, spawn_target, stderr,
};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_without_slos_is_not_judged_and_one_with_them_is() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let nope = ["--path", "/nope", "--users", "2", "--duration", "2s"];

    // Every request fails (404), and nothing was asked of the run.
    let out = target.path("unjudged.json");
    let junit = target.path("unjudged.xml");
    let mut extra = nope.to_vec();
    extra.extend(["--junit", junit.to_str().unwrap(), "--report"]);
    let o = run_against(&target, &out, &extra).await;
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    assert!(text.contains("verdict: NOT JUDGED (no SLOs)"), "{text}");
    assert!(!text.contains("PASS"), "{text}");
    let r = read_record(&out);
    assert_eq!(r["schema_version"], 8);
    assert_eq!(r["verdict"], "not_judged");
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    let requests = r["steady"]["requests"].as_u64().unwrap();
    assert!(
        requests > 0 && r["steady"]["errors"] == requests,
        "{}",
        r["steady"]
    );
    // No request succeeded: no latency, in the record and in every output.
    for row in r["tasks"].as_array().unwrap() {
        assert!(row["p95_ms"].is_null(), "{row}");
    }
    let row = text
        .lines()
        .find(|l| l.starts_with("hold*") && l.contains(" GET "))
        .unwrap_or_else(|| panic!("no GET row in {text}"));
    assert!(row.ends_with("-         -         -         -"), "{row:?}");
    assert!(!row.contains("0.00"), "{row:?}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("skipped=\"1\"") && xml.contains("<skipped message=\"NOT JUDGED (no SLOs)\""),
        "{xml}"
    );
    // No made-up zero among the rows' figures (the connection lines after
    // them hold real zeros: no DNS, no TLS on plain HTTP).
    let rows = xml.split("\nconnections:").next().unwrap();
    assert!(!rows.contains("0.00"), "{xml}");
    let page = std::fs::read_to_string(out.with_extension("html")).unwrap();
    assert!(page.contains("NOT JUDGED"), "no verdict in the page");
    // judge says the same, and exits 0.
    let o = harness(args(&["judge", out.to_str().unwrap(), "--format", "json"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["verdict"], "not_judged");
    let o = harness(args(&["judge", out.to_str().unwrap()])).await;
    assert!(
        stdout(&o).contains("verdict: NOT JUDGED (no SLOs)"),
        "{}",
        stdout(&o)
    );

    // The same run judged on an SLO given on the command line.
    let out = target.path("judged.json");
    let mut extra = nope.to_vec();
    extra.extend(["--slo", "errors<=0", "--slo", "p95 < 2s task=GET"]);
    let o = run_against(&target, &out, &extra).await;
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}{}", stderr(&o));
    assert!(text.contains("verdict: FAIL"), "{text}");
    let r = read_record(&out);
    assert_eq!(r["verdict"], "fail");
    let slos = r["slos"].as_array().unwrap();
    assert_eq!(slos.len(), 2, "{slos:?}");
    assert_eq!(slos[0]["metric"], "errors");
    assert_eq!(slos[0]["op"], "<=");
    assert_eq!(slos[0]["bound"], 0.0);
    assert_eq!(slos[0]["stages"], serde_json::json!(["hold"]));
    assert_eq!(slos[0]["passed"], false);
    // 2 s is 2000 ms; with no success there is no p95 to hold.
    assert_eq!(slos[1]["bound"], 2000.0);
    assert_eq!(slos[1]["task"], "GET");
    assert!(slos[1]["observed"].is_null() && slos[1]["passed"] == false);

    // A healthy path with the same flags passes them.
    let out = target.path("healthy.json");
    let o = run_against(
        &target,
        &out,
        &[
            "--path",
            "/healthz",
            "--users",
            "2",
            "--duration",
            "1s",
            "--slo",
            "errors<=0",
            "--slo",
            "rps>=1/s",
            "--slo",
            "p99<5s",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // --format json: the verdict, each SLO and where the record went,
    // the same as the record says.
    let j: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)));
    assert_eq!(j["verdict"], "pass", "{j}");
    assert_eq!(j["record"], out.to_str().unwrap(), "{j}");
    assert!(j["report"].is_null(), "{j}");
    let r = read_record(&out);
    assert_eq!(j["slos"], r["slos"], "{j}");
    assert_eq!(j["steady"]["requests"], r["steady"]["requests"], "{j}");
    assert!(j["steady"]["p99_ms"].as_f64().unwrap() < 5000.0, "{j}");
}

#[tokio::test]
async fn a_bad_slo_exits_2_naming_the_flag_and_the_text() {
    let target = spawn_target().await;
    let out = target.path("never.json");
    for (slo, says) in [
        ("p95<<200ms", "comparison"),
        ("p97<200ms", "unknown metric"),
        ("p95<200kg", "us, ms or s"),
        ("error_rate<150%", "at most 1"),
        ("errors<=0.5", "whole count"),
        ("p95<2s stage=hold", "unknown qualifier"),
        ("p95<2s task=nope", "no task or step named \"nope\""),
        ("p95<2s class=admins", "no class named"),
    ] {
        let o = run_against(
            &target,
            &out,
            &["--path", "/healthz", "--duration", "1s", "--slo", slo],
        )
        .await;
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{slo}: {e}");
        assert!(e.contains("--slo") && e.contains(slo), "{slo}: {e}");
        assert!(e.contains(says), "{slo}: {e}");
    }
    assert!(!out.exists(), "no record for a refused run");
}
