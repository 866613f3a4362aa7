//! Unit tests of the server-side truth: window subtraction, counters that
//! go down, route mapping.

use super::*;

fn snap(since: &str, values: &[u64], queries: u64) -> StatsSnapshot {
    let mut h = crate::histogram::new_histogram();
    for v in values {
        h.record(*v).unwrap();
    }
    StatsSnapshot {
        since: since.to_owned(),
        rss_bytes: 1000 + values.len() as u64,
        missions: 1000,
        connections: Default::default(),
        routes: BTreeMap::from([(
            "get_mission".to_owned(),
            RouteStats {
                method: "GET".into(),
                path: "/api/missions/{id}".into(),
                count: values.len() as u64,
                statuses: BTreeMap::from([(200, values.len() as u64)]),
                no_response: BTreeMap::new(),
                db_queries: queries,
                db_ms: queries as f64 * 0.5,
                upstream_calls: 0,
                upstream_ms: 0.0,
                histogram: EncodedHistogram(h),
            },
        )]),
    }
}

#[test]
fn windows_subtract_counts_histograms_and_totals() {
    let a = snap("t0", &[1000, 2000], 2);
    let b = snap("t0", &[1000, 2000, 50_000, 50_000, 50_000], 17);
    let w = subtract(&a, &b).unwrap();
    let r = &w.routes["get_mission"];
    assert_eq!(r.count, 3);
    assert_eq!(r.histogram.0.len(), 3);
    assert!((r.latency.p50_ms - 50.0).abs() < 0.1);
    assert_eq!(r.db_queries_per_request, 5.0);
    assert_eq!(r.statuses[&200], 3);
    assert!(
        matches!(
            subtract(&a, &snap("t1", &[1], 1)),
            Err(WindowLost::Reset { .. })
        ),
        "a reset in between is detected"
    );
}

#[test]
fn counters_that_go_down_lose_the_window_and_never_wrap() {
    // Same `since`, fewer requests and queries: a target restarted
    // within the same second, or one that does not count faithfully.
    let a = snap("t0", &[1000, 2000, 3000], 9);
    let b = snap("t0", &[1000], 2);
    let lost = subtract(&a, &b).unwrap_err();
    assert!(matches!(lost, WindowLost::WentDown { .. }), "{lost}");
    assert!(lost.to_string().contains("get_mission"), "{lost}");
    let mut fewer_queries = snap("t0", &[1000, 2000, 3000, 4000], 1);
    fewer_queries
        .routes
        .get_mut("get_mission")
        .unwrap()
        .statuses = BTreeMap::from([(200, 4)]);
    let lost = subtract(&a, &fewer_queries).unwrap_err();
    assert!(lost.to_string().contains("db_queries"), "{lost}");
    // The record keeps what the target counted since, and says why.
    let rec = record("x", &a, None, None, &b);
    assert!(rec.reset_during_run);
    assert_eq!(rec.run.routes["get_mission"].count, 1);
    assert!(rec.notes[0].contains("went down"), "{:?}", rec.notes);
}

#[test]
fn tasks_map_to_routes_by_method_and_path_pattern() {
    let s = snap("t0", &[1], 1);
    let rec = record("x", &s, None, None, &s);
    assert_eq!(
        route_for(&rec, "GET", "/api/missions/{mission_id}")
            .unwrap()
            .0,
        "get_mission"
    );
    assert!(route_for(&rec, "PUT", "/api/missions/{mission_id}").is_none());
    assert!(route_for(&rec, "GET", "/api/missions?status=active").is_none());
}

#[test]
fn consecutive_windows_sum_exactly() {
    let empty = snap("t0", &[], 0);
    let a = subtract(&empty, &snap("t0", &[1000, 2000], 2)).unwrap();
    let b = subtract(&empty, &snap("t0", &[50_000, 50_000], 6)).unwrap();
    let w = sum(&[&a, &b]).unwrap();
    let r = &w.routes["get_mission"];
    assert_eq!(r.count, 4);
    assert_eq!(r.histogram.0.len(), 4);
    assert_eq!(r.statuses[&200], 4);
    assert_eq!(r.db_queries_per_request, 2.0);
    assert!((r.latency.max_ms - 50.0).abs() < 0.1);
    assert_eq!((w.rss_bytes_start, w.rss_bytes_end), (1000, 1002));
    assert!(sum(&[]).is_none());
}
