//! The analysis on known histories: the seed document's, noise, steps,
//! thresholds, and causes from server metrics.

use std::collections::BTreeMap;

use super::history::{parse_text_history, RouteCost};
use super::*;
use rand::{Rng, SeedableRng};

pub(crate) const SEED_DOC: &str = "Run 1 (baseline):  p50=150ms, p95=450ms, p99=800ms
Run 2 (+1 week):   p50=155ms, p95=460ms, p99=810ms
Run 3 (+2 weeks):  p50=165ms, p95=520ms, p99=950ms
Run 4 (+3 weeks):  p50=180ms, p95=600ms, p99=1100ms
Run 5 (+4 weeks):  p50=210ms, p95=750ms, p99=1400ms
";

#[test]
fn the_seed_documents_five_runs() {
    let runs = parse_text_history("doc.txt", SEED_DOC).unwrap();
    assert_eq!(runs[0].label, "Run 1 (baseline)");
    let a = analyze(&runs, Percentile::P95, None).unwrap();
    assert_eq!(a.verdict, HistoryVerdict::Regression);
    assert_eq!(a.severity, Severity::Medium);
    assert_eq!(a.threshold_ms, 2000.0);
    assert_eq!(a.metrics[&Percentile::P50].change_pct.round(), 40.0);
    assert_eq!(a.metrics[&Percentile::P95].change_pct.round(), 67.0);
    assert_eq!(a.metrics[&Percentile::P99].change_pct.round(), 75.0);
    assert!(a.causes_are_guesses);
    let causes: Vec<CauseKind> = a.likely_causes.iter().map(|c| c.cause).collect();
    for c in [
        CauseKind::MissingIndex,
        CauseKind::MemoryLeak,
        CauseKind::NPlusOne,
        CauseKind::SlowDependency,
    ] {
        assert!(causes.contains(&c), "{c} missing from {causes:?}");
    }
    assert!(a
        .likely_causes
        .iter()
        .all(|c| c.confidence == Confidence::Guess));
}

#[test]
fn csv_and_errors_name_the_line() {
    let runs = parse_text_history(
        "h.csv",
        "label,p50_ms,p95_ms,p99_ms\nb1,10,20,30\nb2,11,21,31\n",
    )
    .unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].p99, Some(31.0));
    let e = parse_text_history("h.csv", "b1,10,20,30\nb2,11,x,31\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("h.csv:2") && e.contains("p95_ms"), "{e}");
    let e = parse_text_history("d.txt", "Run 1: p50=1ms, p95=2ms\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("d.txt:1") && e.contains("p99"), "{e}");
    let e = parse_text_history("d.txt", "\n\nRun 3: p50=1ms, p95=2ms, p999=3ms\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("d.txt:3"), "{e}");
}

fn runs_of(values: &[f64]) -> Vec<Run> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| Run::of_percentiles(format!("run {}", i + 1), v * 0.5, *v, v * 1.5))
        .collect()
}

#[test]
fn pure_noise_is_stable_in_at_least_95_of_100_trials() {
    let mut stable = 0;
    for trial in 0..100u64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(trial);
        let values: Vec<f64> = (0..20)
            .map(|_| 500.0 * (1.0 + rng.random_range(-0.05..=0.05)))
            .collect();
        let a = analyze(&runs_of(&values), Percentile::P95, Some(2000.0)).unwrap();
        stable += (a.verdict == HistoryVerdict::Stable) as u32;
    }
    assert!(stable >= 95, "{stable} of 100 stable");
}

#[test]
fn a_20_percent_step_at_run_11_is_found_there_in_at_least_95_of_100_trials() {
    let mut found = 0;
    for trial in 0..100u64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000 + trial);
        let values: Vec<f64> = (0..20)
            .map(|i| {
                let level = if i >= 10 { 600.0 } else { 500.0 };
                level * (1.0 + rng.random_range(-0.05..=0.05))
            })
            .collect();
        let a = analyze(&runs_of(&values), Percentile::P95, Some(2000.0)).unwrap();
        let cps = &a.metrics[&Percentile::P95].change_points;
        if a.verdict == HistoryVerdict::Regression && cps.iter().any(|c| (10..=12).contains(&c.run))
        {
            found += 1;
        }
    }
    assert!(found >= 95, "{found} of 100");
}

#[test]
fn a_history_over_the_threshold_is_critical() {
    let a = analyze(
        &runs_of(&[2100.0, 2150.0, 2080.0, 2120.0, 2200.0]),
        Percentile::P95,
        Some(2000.0),
    )
    .unwrap();
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.runs_to_threshold, Some(0));
}

#[test]
fn a_steep_trend_near_the_threshold_is_high() {
    let a = analyze(
        &runs_of(&[1000.0, 1200.0, 1400.0, 1600.0]),
        Percentile::P95,
        Some(2000.0),
    )
    .unwrap();
    assert_eq!(a.verdict, HistoryVerdict::Regression);
    assert_eq!(a.severity, Severity::High);
    assert_eq!(a.runs_to_threshold, Some(2));
}

fn with_server(
    p95: f64,
    queries: f64,
    db_ms: f64,
    upstream_ms: f64,
    rss_mib: u64,
    missions: u64,
) -> Run {
    let mut r = runs_of(&[p95]).remove(0);
    let cost = RouteCost {
        db_queries_per_request: queries,
        db_ms_per_request: db_ms,
        upstream_ms_per_request: upstream_ms,
    };
    r.server = Some(ServerPoint {
        overall: cost,
        rss_bytes_start: rss_mib << 20,
        rss_bytes_end: (rss_mib + 1) << 20,
        missions,
        routes: BTreeMap::from([("get_mission".to_owned(), cost)]),
        plans: BTreeMap::new(),
    });
    r
}

#[test]
fn a_plan_that_scans_where_it_searched_by_index_names_the_missing_index() {
    let plan = |lines: &[&str]| {
        BTreeMap::from([(
            "mission_read".to_owned(),
            lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>(),
        )])
    };
    let index = "SEARCH waypoints USING COVERING INDEX waypoints_for_read (mission_id=?)";
    let mut runs = vec![
        with_server(100.0, 2.0, 0.1, 0.0, 50, 1_000),
        with_server(300.0, 2.0, 0.12, 0.0, 50, 1_000),
    ];
    let mission = "SEARCH missions USING INTEGER PRIMARY KEY (rowid=?)";
    runs[0].server.as_mut().unwrap().plans = plan(&[mission, index]);
    runs[1].server.as_mut().unwrap().plans =
        plan(&[mission, "SCAN waypoints", "USE TEMP B-TREE FOR ORDER BY"]);
    let a = analyze(&runs, Percentile::P95, Some(2000.0)).unwrap();
    let first = &a.likely_causes[0];
    assert_eq!(
        first.cause,
        CauseKind::MissingIndex,
        "{:?}",
        a.likely_causes
    );
    assert_eq!(
        first.evidence,
        format!("query plan of mission_read: SCAN waypoints (the first run's: {index})")
    );
    // The same plans on both sides are no evidence.
    runs[1].server.as_mut().unwrap().plans = plan(&[mission, index]);
    let a = analyze(&runs, Percentile::P95, Some(2000.0)).unwrap();
    assert!(a
        .likely_causes
        .iter()
        .all(|c| c.cause != CauseKind::MissingIndex || !c.evidence.contains("query plan")));
}

#[test]
fn server_metrics_name_the_cause_with_its_evidence() {
    // Database time up at the same query count, with the data grown: missing index / data growth.
    let runs = vec![
        with_server(100.0, 1.0, 0.2, 0.0, 50, 1_000),
        with_server(300.0, 1.0, 5.0, 0.0, 52, 100_000),
    ];
    let a = analyze(&runs, Percentile::P95, Some(2000.0)).unwrap();
    assert_eq!(a.likely_causes[0].cause, CauseKind::MissingIndex);
    assert!(
        a.likely_causes[0]
            .evidence
            .contains("missions 1000 -> 100000"),
        "{:?}",
        a.likely_causes
    );
    assert!(!a.causes_are_guesses);
    // RSS climbing run over run: memory leak.
    let runs = vec![
        with_server(100.0, 1.0, 0.2, 0.0, 50, 1_000),
        with_server(130.0, 1.0, 0.2, 0.0, 400, 1_000),
    ];
    let a = analyze(&runs, Percentile::P95, Some(2000.0)).unwrap();
    assert_eq!(a.likely_causes[0].cause, CauseKind::MemoryLeak);
    // Nothing moved on the server: no cause is claimed from its metrics.
    let runs = vec![
        with_server(100.0, 1.0, 0.2, 0.0, 50, 1_000),
        with_server(101.0, 1.0, 0.2, 0.0, 50, 1_000),
    ];
    assert!(analyze(&runs, Percentile::P95, Some(2000.0))
        .unwrap()
        .likely_causes
        .is_empty());
}

#[test]
fn an_improvement_is_not_a_regression() {
    let a = analyze(
        &runs_of(&[800.0, 700.0, 600.0, 500.0, 400.0]),
        Percentile::P95,
        None,
    )
    .unwrap();
    assert_eq!(a.verdict, HistoryVerdict::Improvement);
    assert_eq!(a.severity, Severity::None);
}

#[test]
fn an_accelerating_regression_is_a_regression_not_an_improvement() {
    // The p95 of a data-growth story (missions 1000 -> 29000, search
    // unindexed): it grows faster than linearly, so Sen's line through it
    // starts below zero. Read against that start, the rise looked negative.
    let p95 = [15.1, 43.1, 154.0, 295.2, 487.2, 745.5, 882.7, 1163.0];
    let a = analyze(&runs_of(&p95), Percentile::P95, Some(2000.0)).unwrap();
    assert_eq!(a.verdict, HistoryVerdict::Regression);
    assert_eq!(a.metrics[&Percentile::P95].trend, Trend::Increasing);
    // 58% of the threshold, crossing it within 5 runs at the fitted rate.
    assert_eq!(a.severity, Severity::High);
}
