//! The target's own measurements, when it offers them. In: snapshots of
//! `GET /__admin/stats` (as mock-api serves it; any target may) at the
//! start and end of the steady window and of the whole run. Out: the
//! record's `server` section ([`ServerRecord`]), the snapshots subtracted
//! (histograms included) so the record holds exactly what the server saw
//! in each window. The harness learns this over HTTP only ([`source`]), as
//! any tool would.

pub mod source;

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::histogram::{EncodedHistogram, Percentiles};

/// One route in the target's `/__admin/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteStats {
    pub method: String,
    pub path: String,
    pub count: u64,
    pub statuses: BTreeMap<String, u64>,
    pub db_queries: u64,
    pub db_ms: f64,
    pub upstream_calls: u64,
    pub upstream_ms: f64,
    pub histogram: EncodedHistogram,
}

/// The target's `/__admin/stats` (fields the harness uses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    pub since: String,
    pub rss_bytes: u64,
    pub missions: u64,
    pub routes: BTreeMap<String, RouteStats>,
}

/// One route over a window, as stored in the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteWindow {
    pub method: String,
    pub path: String,
    pub count: u64,
    #[serde(flatten)]
    pub latency: Percentiles,
    pub statuses: BTreeMap<String, u64>,
    pub db_queries_per_request: f64,
    pub db_ms_per_request: f64,
    pub upstream_ms_per_request: f64,
    pub histogram: EncodedHistogram,
}

/// Routes over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub routes: BTreeMap<String, RouteWindow>,
    pub rss_bytes_start: u64,
    pub rss_bytes_end: u64,
}

/// `server` in the run record: the steady window at the top level, the whole run under `run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerRecord {
    pub source: String,
    pub routes: BTreeMap<String, RouteWindow>,
    pub rss_bytes_start: u64,
    pub rss_bytes_end: u64,
    pub missions: u64,
    pub run: Window,
    /// The target's statistics were reset during a window; its figures then
    /// cover only the time since that reset.
    pub reset_during_run: bool,
    /// With several target instances: each one's truth (the fields above
    /// are their exact sum).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<ServerRecord>,
}

fn per(total: f64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        (total / n as f64 * 1000.0).round() / 1000.0
    }
}

/// `end - start`; `None` when the target was reset in between (counts went down).
pub fn subtract(start: &StatsSnapshot, end: &StatsSnapshot) -> Option<Window> {
    if start.since != end.since {
        return None;
    }
    let mut routes = BTreeMap::new();
    for (name, e) in &end.routes {
        let s = start.routes.get(name);
        let mut h: Histogram<u64> = e.histogram.0.clone();
        if let Some(s) = s {
            h.subtract(&s.histogram.0).ok()?;
        }
        let count = e.count.checked_sub(s.map_or(0, |s| s.count))?;
        let statuses = e
            .statuses
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v - s.and_then(|s| s.statuses.get(k)).copied().unwrap_or(0),
                )
            })
            .filter(|(_, v)| *v > 0)
            .collect();
        let db_queries = e.db_queries - s.map_or(0, |s| s.db_queries);
        let db_ms = e.db_ms - s.map_or(0.0, |s| s.db_ms);
        let upstream_ms = e.upstream_ms - s.map_or(0.0, |s| s.upstream_ms);
        routes.insert(
            name.clone(),
            RouteWindow {
                method: e.method.clone(),
                path: e.path.clone(),
                count,
                latency: Percentiles::of(&h),
                statuses,
                db_queries_per_request: per(db_queries as f64, count),
                db_ms_per_request: per(db_ms, count),
                upstream_ms_per_request: per(upstream_ms, count),
                histogram: EncodedHistogram(h),
            },
        );
    }
    Some(Window {
        routes,
        rss_bytes_start: start.rss_bytes,
        rss_bytes_end: end.rss_bytes,
    })
}

/// A window from a single snapshot (everything since the target's last reset).
fn whole(end: &StatsSnapshot) -> Window {
    let empty = StatsSnapshot {
        since: end.since.clone(),
        rss_bytes: end.rss_bytes,
        missions: end.missions,
        routes: BTreeMap::new(),
    };
    subtract(&empty, end).expect("nothing to subtract")
}

/// Builds the record's `server` from the four snapshots.
pub fn record(
    source: &str,
    run_start: &StatsSnapshot,
    steady_start: Option<&StatsSnapshot>,
    steady_end: Option<&StatsSnapshot>,
    run_end: &StatsSnapshot,
) -> ServerRecord {
    let (run, run_reset) = match subtract(run_start, run_end) {
        Some(w) => (w, false),
        None => (whole(run_end), true),
    };
    let (steady, steady_reset) = match (steady_start, steady_end) {
        (Some(a), Some(b)) => match subtract(a, b) {
            Some(w) => (w, false),
            None => (whole(b), true),
        },
        _ => (run.clone(), false),
    };
    ServerRecord {
        source: source.to_owned(),
        routes: steady.routes,
        rss_bytes_start: steady.rss_bytes_start,
        rss_bytes_end: steady.rss_bytes_end,
        missions: run_end.missions,
        run,
        reset_during_run: run_reset || steady_reset,
        instances: Vec::new(),
    }
}

impl ServerRecord {
    /// The steady window as a [`Window`] of its own.
    fn steady_window(&self) -> Window {
        Window {
            routes: self.routes.clone(),
            rss_bytes_start: self.rss_bytes_start,
            rss_bytes_end: self.rss_bytes_end,
        }
    }
}

/// Windows one after another (the steps of a capacity search) as one: counts,
/// statuses and histograms added exactly, per-request figures weighted by
/// count, RSS from the first window's start to the last's end.
pub fn sum(windows: &[&Window]) -> Option<Window> {
    let (first, last) = (windows.first()?, windows.last()?);
    let mut routes: BTreeMap<String, RouteWindow> = BTreeMap::new();
    for w in windows {
        for (name, r) in &w.routes {
            let Some(acc) = routes.get_mut(name) else {
                routes.insert(name.clone(), r.clone());
                continue;
            };
            let n = (acc.count + r.count).max(1) as f64;
            let weigh = |a: f64, b: f64| {
                ((a * acc.count as f64 + b * r.count as f64) / n * 1000.0).round() / 1000.0
            };
            acc.db_queries_per_request =
                weigh(acc.db_queries_per_request, r.db_queries_per_request);
            acc.db_ms_per_request = weigh(acc.db_ms_per_request, r.db_ms_per_request);
            acc.upstream_ms_per_request =
                weigh(acc.upstream_ms_per_request, r.upstream_ms_per_request);
            acc.count += r.count;
            for (status, k) in &r.statuses {
                *acc.statuses.entry(status.clone()).or_default() += k;
            }
            acc.histogram.0.add(&r.histogram.0).ok()?;
            acc.latency = Percentiles::of(&acc.histogram.0);
        }
    }
    Some(Window {
        routes,
        rss_bytes_start: first.rss_bytes_start,
        rss_bytes_end: last.rss_bytes_end,
    })
}

/// Server records of consecutive runs against one target as one: the
/// steady windows summed, the whole runs summed, the last mission count.
pub fn sum_records(records: &[&ServerRecord]) -> Option<ServerRecord> {
    let steady: Vec<Window> = records.iter().map(|r| r.steady_window()).collect();
    let steady = sum(&steady.iter().collect::<Vec<_>>())?;
    let run = sum(&records.iter().map(|r| &r.run).collect::<Vec<_>>())?;
    let last = records.last()?;
    Some(ServerRecord {
        source: last.source.clone(),
        routes: steady.routes,
        rss_bytes_start: steady.rss_bytes_start,
        rss_bytes_end: steady.rss_bytes_end,
        missions: last.missions,
        run,
        reset_during_run: records.iter().any(|r| r.reset_during_run),
        instances: Vec::new(),
    })
}

/// Several instances' records over the same window (shards against
/// different targets) as one: counts, histograms, memory and missions
/// added; the sources named together (`a + b`).
pub fn sum_instances(records: &[&ServerRecord]) -> Option<ServerRecord> {
    let first = records.first()?;
    if records.len() == 1 {
        return Some((*first).clone());
    }
    let add = |w: &mut Window, parts: &[(u64, u64)]| {
        w.rss_bytes_start = parts.iter().map(|p| p.0).sum();
        w.rss_bytes_end = parts.iter().map(|p| p.1).sum();
    };
    let steady: Vec<Window> = records.iter().map(|r| r.steady_window()).collect();
    let mut total = sum(&steady.iter().collect::<Vec<_>>())?;
    let rss: Vec<(u64, u64)> = steady
        .iter()
        .map(|w| (w.rss_bytes_start, w.rss_bytes_end))
        .collect();
    add(&mut total, &rss);
    let mut run = sum(&records.iter().map(|r| &r.run).collect::<Vec<_>>())?;
    let rss: Vec<(u64, u64)> = records
        .iter()
        .map(|r| (r.run.rss_bytes_start, r.run.rss_bytes_end))
        .collect();
    add(&mut run, &rss);
    Some(ServerRecord {
        source: records
            .iter()
            .map(|r| r.source.as_str())
            .collect::<Vec<_>>()
            .join(" + "),
        routes: total.routes,
        rss_bytes_start: total.rss_bytes_start,
        rss_bytes_end: total.rss_bytes_end,
        missions: records.iter().map(|r| r.missions).sum(),
        run,
        reset_during_run: records.iter().any(|r| r.reset_during_run),
        instances: records.iter().map(|r| (*r).clone()).collect(),
    })
}

/// The server route that serves a task: same method, and the path pattern
/// matches the task's path template segment by segment (`{...}` in either
/// matches any segment; the query string is ignored).
pub fn route_for<'a>(
    server: &'a ServerRecord,
    method: &str,
    path_template: &str,
) -> Option<(&'a str, &'a RouteWindow)> {
    let path = path_template.split('?').next().unwrap_or_default();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    server
        .routes
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .find(|(_, r)| {
            let pat: Vec<&str> = r.path.trim_matches('/').split('/').collect();
            r.method.eq_ignore_ascii_case(method)
                && pat.len() == segs.len()
                && pat
                    .iter()
                    .zip(&segs)
                    .all(|(p, s)| p == s || p.starts_with('{') || s.starts_with('{'))
        })
}

#[cfg(test)]
mod tests {
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
            routes: BTreeMap::from([(
                "get_mission".to_owned(),
                RouteStats {
                    method: "GET".into(),
                    path: "/api/missions/{id}".into(),
                    count: values.len() as u64,
                    statuses: BTreeMap::from([("200".to_owned(), values.len() as u64)]),
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
        assert_eq!(r.statuses["200"], 3);
        assert!(
            subtract(&a, &snap("t1", &[1], 1)).is_none(),
            "a reset in between is detected"
        );
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
        assert_eq!(r.statuses["200"], 4);
        assert_eq!(r.db_queries_per_request, 2.0);
        assert!((r.latency.max_ms - 50.0).abs() < 0.1);
        assert_eq!((w.rss_bytes_start, w.rss_bytes_end), (1000, 1002));
        assert!(sum(&[]).is_none());
    }
}
