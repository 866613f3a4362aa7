//! The pages of `harness score`: a scorecard's figures as HTML tables, and
//! `score --matrix` drawing tools × trials from the cards on disk.

use std::path::Path;

use super::score::{read_card, score, scored_target, stdout};
use crate::helpers::{args, harness, stderr, EXCLUSIVE};

#[tokio::test]
async fn cards_become_pages_and_a_matrix_of_tools_and_trials() {
    let _x = EXCLUSIVE.lock().await;
    let target = scored_target().await;
    // A pass made by tolerances any run meets, and a fail by ones none can.
    let loose = [
        "--duration",
        "1s",
        "--report",
        "--tolerance-pct",
        "1000",
        "--tolerance-ms",
        "1000",
        "--count-allowance",
        "1000000",
    ];
    let (o, pass) = score(&target, "harness", "fixed", &loose).await;
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let strict = [
        "--duration",
        "1s",
        "--report",
        "--tolerance-pct",
        "0",
        "--tolerance-ms",
        "0",
        "--client-allowance-ms",
        "0",
    ];
    let (o, fail) = score(&target, "harness", "tail", &strict).await;
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));

    // The card's page: its figures in tables, those off tolerance marked.
    let page = std::fs::read_to_string(Path::new(&fail).with_extension("html")).unwrap();
    assert!(page.contains("<h2>Counts</h2><table>"), "{page}");
    assert!(page.contains("<h2>Latency</h2><table>"), "{page}");
    assert!(
        page.contains("<tr class=\"off\"><td>p"),
        "a percentile off tolerance is marked"
    );
    assert!(
        !page.contains("<pre>"),
        "figures are a table, not terminal text"
    );
    let card = read_card(Path::new(&fail));
    let off = card["percentiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["within"] == false)
        .count();
    assert_eq!(page.matches("<tr class=\"off\">").count(), off, "{page}");

    let dir = Path::new(&pass).parent().unwrap();
    let out = dir.join("truth.html");
    let o = harness(args(&[
        "score",
        "--matrix",
        &pass,
        &fail,
        "-o",
        out.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("matrix: 2 scorecards, 1 tools"),
        "{}",
        stdout(&o)
    );
    let m = std::fs::read_to_string(&out).unwrap();
    for want in [
        "<th>fixed</th>",
        "<th>tail</th>",
        "<td>harness</td>",
        "<span class=\"pass\">PASS</span>",
        "<span class=\"fail\">FAIL</span>",
        "href=\"harness-fixed.html\"",
        "href=\"harness-tail.html\"",
    ] {
        assert!(m.contains(want), "{want} missing: {m}");
    }
    // A folder is searched for cards; no card at all is a usage error.
    let o = harness(args(&[
        "score",
        "--matrix",
        dir.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let empty = tempfile::tempdir().unwrap();
    let o = harness(args(&["score", "--matrix", empty.path().to_str().unwrap()])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no scorecard"), "{}", stderr(&o));
    // A file that is not a card is named.
    let bad = empty.path().join("x.json");
    std::fs::write(&bad, "{\"tool\": 3}").unwrap();
    let o = harness(args(&["score", "--matrix", bad.to_str().unwrap()])).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("x.json") && stderr(&o).contains("not a scorecard"),
        "{}",
        stderr(&o)
    );
}
