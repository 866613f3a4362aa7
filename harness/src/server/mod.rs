//! The target's own measurements, when it offers them. In: snapshots of
//! `GET /__admin/stats` (as mock-api serves it; any target may) at the
//! start and end of the steady window and of the whole run. Out: the
//! record's `server` section ([`ServerRecord`]), the snapshots subtracted
//! (histograms included) so the record holds exactly what the server saw
//! in each window. The harness learns this over HTTP only ([`stats_source`]), as
//! any tool would.

pub mod connections;
pub mod stats_source;

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
    /// Responses by status (the wire's string keys read as numbers).
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no response, by why (`reset`); absent from
    /// targets older than mock-api's stats version 2, which counted a
    /// reset as a 500.
    #[serde(default)]
    pub no_response: BTreeMap<String, u64>,
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
    /// Connections, TLS handshakes and requests by protocol (stats v3).
    #[serde(default)]
    pub connections: connections::ConnectionCounts,
}

/// One route over a window, as stored in the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteWindow {
    pub method: String,
    pub path: String,
    pub count: u64,
    #[serde(flatten)]
    pub latency: Percentiles,
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no response, by why (v5).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub no_response: BTreeMap<String, u64>,
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
    /// The target's statistics were reset (or its counters went back)
    /// during a window; its figures then cover only the time since.
    pub reset_during_run: bool,
    /// Why a window was lost, when one was (v5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// With several target instances: each one's truth (the fields above
    /// are their exact sum).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<ServerRecord>,
    /// The target's statement kinds at the run's end, each with SQLite's
    /// query plan (v8; from `/__admin/queries`, when it serves one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<QueryKind>,
}

/// One statement kind as the target's `/__admin/queries` reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueryKind {
    pub kind: String,
    pub calls: u64,
    pub mean_ms: f64,
    pub p95_ms: f64,
    /// Per statement, its plan lines (`SCAN waypoints`, `SEARCH ... USING INDEX ...`).
    pub plans: Vec<Vec<String>>,
}

/// Why two snapshots do not subtract to a window.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowLost {
    /// The statistics were reset (or the target restarted) in between.
    #[error("the target's statistics were reset (or it restarted) between {start} and {end}")]
    Reset { start: String, end: String },
    /// A counter is lower at the end than at the start: not the same
    /// target's statistics, or a target that does not count faithfully.
    #[error("the target's {counter} of route {route} went down from {start} to {end}")]
    WentDown {
        route: String,
        counter: String,
        start: String,
        end: String,
    },
}

fn per(total: f64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        (total / n as f64 * 1000.0).round() / 1000.0
    }
}

/// `end - start`, counter by counter, each checked: a counter lower at the
/// end than at the start (a reset, a restart, or a target that does not
/// count faithfully) loses the window, never wraps.
pub fn subtract(start: &StatsSnapshot, end: &StatsSnapshot) -> Result<Window, WindowLost> {
    if start.since != end.since {
        return Err(WindowLost::Reset {
            start: start.since.clone(),
            end: end.since.clone(),
        });
    }
    let mut routes = BTreeMap::new();
    for (name, e) in &end.routes {
        let s = start.routes.get(name);
        let down = |counter: &str, a: String, b: String| WindowLost::WentDown {
            route: name.clone(),
            counter: counter.to_owned(),
            start: a,
            end: b,
        };
        let minus = |counter: &str, a: u64, b: u64| {
            b.checked_sub(a)
                .ok_or_else(|| down(counter, a.to_string(), b.to_string()))
        };
        let minus_f = |counter: &str, a: f64, b: f64| match b - a {
            d if d >= 0.0 => Ok(d),
            _ => Err(down(counter, a.to_string(), b.to_string())),
        };
        let mut h: Histogram<u64> = e.histogram.0.clone();
        if let Some(s) = s {
            h.subtract(&s.histogram.0)
                .map_err(|_| down("histogram", s.count.to_string(), e.count.to_string()))?;
        }
        let count = minus("count", s.map_or(0, |s| s.count), e.count)?;
        let statuses = differences(
            &e.statuses,
            s.map(|s| &s.statuses),
            |k| format!("status {k} count"),
            &minus,
        )?;
        let no_response = differences(
            &e.no_response,
            s.map(|s| &s.no_response),
            |k| format!("{k} count"),
            &minus,
        )?;
        let db_queries = minus("db_queries", s.map_or(0, |s| s.db_queries), e.db_queries)?;
        let db_ms = minus_f("db_ms", s.map_or(0.0, |s| s.db_ms), e.db_ms)?;
        let upstream_ms = minus_f(
            "upstream_ms",
            s.map_or(0.0, |s| s.upstream_ms),
            e.upstream_ms,
        )?;
        routes.insert(
            name.clone(),
            RouteWindow {
                method: e.method.clone(),
                path: e.path.clone(),
                count,
                latency: Percentiles::of(&h),
                statuses,
                no_response,
                db_queries_per_request: per(db_queries as f64, count),
                db_ms_per_request: per(db_ms, count),
                upstream_ms_per_request: per(upstream_ms, count),
                histogram: EncodedHistogram(h),
            },
        );
    }
    Ok(Window {
        routes,
        rss_bytes_start: start.rss_bytes,
        rss_bytes_end: end.rss_bytes,
    })
}

/// Each key's `end - start` (keys absent at the start count from 0), the
/// zeros left out; a count that went down is the window lost.
fn differences<K: Ord + Clone + std::fmt::Display>(
    end: &BTreeMap<K, u64>,
    start: Option<&BTreeMap<K, u64>>,
    counter: impl Fn(&K) -> String,
    minus: &impl Fn(&str, u64, u64) -> Result<u64, WindowLost>,
) -> Result<BTreeMap<K, u64>, WindowLost> {
    let mut out = BTreeMap::new();
    for (k, &v) in end {
        let before = start.and_then(|s| s.get(k)).copied().unwrap_or(0);
        let d = minus(&counter(k), before, v)?;
        if d > 0 {
            out.insert(k.clone(), d);
        }
    }
    Ok(out)
}

/// A window from a single snapshot: everything since the target's last
/// reset (nothing is subtracted, so nothing can go down).
fn whole(end: &StatsSnapshot) -> Window {
    let empty = StatsSnapshot {
        since: end.since.clone(),
        rss_bytes: end.rss_bytes,
        missions: end.missions,
        routes: BTreeMap::new(),
        connections: Default::default(),
    };
    subtract(&empty, end).unwrap_or_else(|_| Window {
        routes: BTreeMap::new(),
        rss_bytes_start: end.rss_bytes,
        rss_bytes_end: end.rss_bytes,
    })
}

/// Builds the record's `server` from the four snapshots. A window whose
/// snapshots do not subtract (a reset, a restart, counters that went
/// down) is replaced by everything since the target's last reset, and
/// the record says why in `notes`.
pub fn record(
    source: &str,
    run_start: &StatsSnapshot,
    steady_start: Option<&StatsSnapshot>,
    steady_end: Option<&StatsSnapshot>,
    run_end: &StatsSnapshot,
) -> ServerRecord {
    let mut notes = Vec::new();
    let mut window = |a: &StatsSnapshot, b: &StatsSnapshot, which: &str| match subtract(a, b) {
        Ok(w) => w,
        Err(lost) => {
            notes.push(format!(
                "{which} window lost: {lost}; its figures cover only what the target counted since its last reset"
            ));
            whole(b)
        }
    };
    let run = window(run_start, run_end, "the run's");
    let steady = match (steady_start, steady_end) {
        (Some(a), Some(b)) => window(a, b, "the steady"),
        _ => run.clone(),
    };
    ServerRecord {
        source: source.to_owned(),
        routes: steady.routes,
        rss_bytes_start: steady.rss_bytes_start,
        rss_bytes_end: steady.rss_bytes_end,
        missions: run_end.missions,
        run,
        reset_during_run: !notes.is_empty(),
        notes,
        instances: Vec::new(),
        queries: Vec::new(),
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
                *acc.statuses.entry(*status).or_default() += k;
            }
            for (why, k) in &r.no_response {
                *acc.no_response.entry(why.clone()).or_default() += k;
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
        notes: records.iter().flat_map(|r| r.notes.clone()).collect(),
        instances: Vec::new(),
        queries: Vec::new(),
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
        notes: records.iter().flat_map(|r| r.notes.clone()).collect(),
        instances: records.iter().map(|r| (*r).clone()).collect(),
        queries: Vec::new(),
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
mod tests;
