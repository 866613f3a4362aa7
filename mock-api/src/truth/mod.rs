//! Ground truth: what the server measures of itself. Per route, service
//! time (request head received to response body complete) into an
//! HdrHistogram, requests by status, and per request the database queries
//! and upstream calls it made and their time. Served as `/metrics`
//! (Prometheus text) and `/__admin/stats` (exact JSON, histograms included
//! so that two snapshots subtract to any window).

mod connections;
pub mod evidence;
mod links;
mod prometheus;

pub use connections::{ConnectionCounts, ConnectionsSnapshot, ProtocolSnapshot};
use links::LinkStats;
pub use links::{Direction, LinkSnapshot};

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer as _, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::route::Route;

/// The database and upstream work done for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    pub db_queries: u64,
    pub db_us: u64,
    pub upstream_calls: u64,
    pub upstream_us: u64,
}

/// Per-request counters, kept in a task-local while the request is served.
#[derive(Debug, Default)]
pub struct RequestCounters {
    pub db_queries: Cell<u64>,
    pub db_us: Cell<u64>,
    pub upstream_calls: Cell<u64>,
    pub upstream_us: Cell<u64>,
    /// The trace id of the request's `traceparent`, if it had one.
    pub trace_id: Cell<Option<u128>>,
    /// Its store calls, in order.
    pub statements: std::cell::RefCell<Vec<evidence::StatementTime>>,
}

impl RequestCounters {
    /// The work counted so far.
    pub fn get(&self) -> Work {
        Work {
            db_queries: self.db_queries.get(),
            db_us: self.db_us.get(),
            upstream_calls: self.upstream_calls.get(),
            upstream_us: self.upstream_us.get(),
        }
    }
}

tokio::task_local! {
    pub static COUNTERS: RequestCounters;
}

/// Counts one database query of `elapsed` for the request being served (if any).
pub fn count_query(elapsed: Duration) {
    count_queries(1, elapsed);
}

/// Counts `queries` database queries of `elapsed` in all for the request being served (if any).
pub fn count_queries(queries: u64, elapsed: Duration) {
    let _ = COUNTERS.try_with(|c| {
        c.db_queries.set(c.db_queries.get() + queries);
        c.db_us.set(c.db_us.get() + elapsed.as_micros() as u64);
    });
}

/// Counts one upstream call of `elapsed` for the request being served (if any).
pub fn count_upstream(elapsed: Duration) {
    let _ = COUNTERS.try_with(|c| {
        c.upstream_calls.set(c.upstream_calls.get() + 1);
        c.upstream_us
            .set(c.upstream_us.get() + elapsed.as_micros() as u64);
    });
}

/// Times a store call and counts it as `queries` queries.
pub async fn timed<T>(queries: u64, fut: impl std::future::Future<Output = T>) -> T {
    let start = Instant::now();
    let out = fut.await;
    let elapsed = start.elapsed();
    let _ = COUNTERS.try_with(|c| {
        c.db_queries.set(c.db_queries.get() + queries);
        c.db_us.set(c.db_us.get() + elapsed.as_micros() as u64);
    });
    out
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

#[derive(Debug, Clone)]
struct RouteStats {
    histogram: Histogram<u64>,
    statuses: BTreeMap<u16, u64>,
    /// Requests that got no response at all, by why.
    no_response: BTreeMap<NoResponse, u64>,
    db_queries: u64,
    db_us: u64,
    upstream_calls: u64,
    upstream_us: u64,
}

impl Default for RouteStats {
    fn default() -> Self {
        Self {
            histogram: histogram(),
            statuses: BTreeMap::new(),
            no_response: BTreeMap::new(),
            db_queries: 0,
            db_us: 0,
            upstream_calls: 0,
            upstream_us: 0,
        }
    }
}

/// Why a request got no response: a fault that sends no status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NoResponse {
    /// The connection was reset (TCP RST) before any byte of a response.
    Reset,
}

impl NoResponse {
    /// Its key in `/__admin/stats`' `no_response` and `/metrics`' `reason`.
    pub fn name(self) -> &'static str {
        match self {
            NoResponse::Reset => "reset",
        }
    }
}

/// How a request ended, as the server knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A response with this status was sent.
    Status(u16),
    /// No response was sent: the client saw no status.
    None(NoResponse),
}

/// What one finished request contributes.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    pub route: Route,
    pub answer: Answer,
    pub elapsed: Duration,
    pub work: Work,
}

/// Statistics since start or the last reset.
#[derive(Debug)]
pub struct Truth {
    routes: [Mutex<RouteStats>; Route::COUNT],
    links: Mutex<BTreeMap<String, LinkStats>>,
    /// Connections, TLS handshakes and requests by protocol.
    pub connections: ConnectionCounts,
    since: Mutex<chrono::DateTime<chrono::Utc>>,
    started: Instant,
}

impl Default for Truth {
    fn default() -> Self {
        Self {
            routes: Default::default(),
            links: Mutex::default(),
            connections: ConnectionCounts::default(),
            since: Mutex::new(chrono::Utc::now()),
            started: Instant::now(),
        }
    }
}

/// One route in `/__admin/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteSnapshot {
    pub method: String,
    pub path: String,
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Responses sent, by status.
    pub statuses: BTreeMap<String, u64>,
    /// Requests that got no response, by why (`reset`): no status was
    /// sent, so none is counted in `statuses`.
    pub no_response: BTreeMap<String, u64>,
    pub db_queries: u64,
    pub db_ms: f64,
    pub upstream_calls: u64,
    pub upstream_ms: f64,
    pub db_queries_per_request: f64,
    pub db_ms_per_request: f64,
    pub upstream_ms_per_request: f64,
    /// Service times in microseconds, HdrHistogram V2, base64.
    pub histogram: String,
}

/// A distribution of times, in ms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Times {
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Times {
    fn of(h: &Histogram<u64>) -> Self {
        let q = |p: f64| {
            if h.is_empty() {
                0.0
            } else {
                ms(h.value_at_quantile(p))
            }
        };
        Self {
            count: h.len(),
            p50_ms: q(0.5),
            p95_ms: q(0.95),
            max_ms: if h.is_empty() { 0.0 } else { ms(h.max()) },
            mean_ms: if h.is_empty() { 0.0 } else { h.mean() / 1000.0 },
        }
    }
}

/// The version of `/__admin/stats`: 2 added `no_response` per route (a
/// reset was counted as status 500 in 1); 3 added `connections`.
pub const STATS_SCHEMA_VERSION: u32 = 3;

/// `/__admin/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: u32,
    /// Start of the window: process start or the last reset.
    pub since: String,
    pub taken_at: String,
    pub uptime_s: f64,
    pub rss_bytes: u64,
    pub leaked_bytes: u64,
    pub missions: u64,
    pub routes: BTreeMap<String, RouteSnapshot>,
    /// Per emulated link (`--link`), when there are any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub links: BTreeMap<String, LinkSnapshot>,
    /// Connections, TLS handshakes and requests by protocol (from 3).
    #[serde(default)]
    pub connections: ConnectionsSnapshot,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn per(total: f64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        total / n as f64
    }
}

impl Truth {
    pub fn record(&self, o: Observation) {
        let Ok(mut s) = self.routes[o.route.index()].lock() else {
            return;
        };
        s.histogram
            .saturating_record((o.elapsed.as_micros() as u64).max(1));
        match o.answer {
            Answer::Status(status) => *s.statuses.entry(status).or_default() += 1,
            Answer::None(why) => *s.no_response.entry(why).or_default() += 1,
        }
        s.db_queries += o.work.db_queries;
        s.db_us += o.work.db_us;
        s.upstream_calls += o.work.upstream_calls;
        s.upstream_us += o.work.upstream_us;
    }

    pub fn reset(&self) {
        self.connections.reset();
        if let Ok(mut links) = self.links.lock() {
            links.clear();
        }
        for r in &self.routes {
            if let Ok(mut s) = r.lock() {
                *s = RouteStats::default();
            }
        }
        if let Ok(mut since) = self.since.lock() {
            *since = chrono::Utc::now();
        }
    }

    /// Each route's statistics, copied out of their locks.
    fn routes(&self) -> Vec<(Route, RouteStats)> {
        Route::ALL
            .iter()
            .map(|&r| {
                let s = self.routes[r.index()]
                    .lock()
                    .map(|s| s.clone())
                    .unwrap_or_default();
                (r, s)
            })
            .collect()
    }

    pub fn snapshot(&self, rss_bytes: u64, leaked_bytes: u64, missions: u64) -> Snapshot {
        let routes = self
            .routes()
            .into_iter()
            .map(|(r, s)| {
                let h = &s.histogram;
                let q = |p: f64| {
                    if h.is_empty() {
                        0.0
                    } else {
                        ms(h.value_at_quantile(p))
                    }
                };
                let count = h.len();
                let mut buf = Vec::new();
                let _ = V2Serializer::new().serialize(h, &mut buf);
                (
                    r.name().to_owned(),
                    RouteSnapshot {
                        method: r.method().to_string(),
                        path: r.path().to_owned(),
                        count,
                        p50_ms: q(0.5),
                        p95_ms: q(0.95),
                        p99_ms: q(0.99),
                        max_ms: if h.is_empty() { 0.0 } else { ms(h.max()) },
                        statuses: s
                            .statuses
                            .iter()
                            .map(|(k, v)| (k.to_string(), *v))
                            .collect(),
                        no_response: s
                            .no_response
                            .iter()
                            .map(|(k, v)| (k.name().to_owned(), *v))
                            .collect(),
                        db_queries: s.db_queries,
                        db_ms: ms(s.db_us),
                        upstream_calls: s.upstream_calls,
                        upstream_ms: ms(s.upstream_us),
                        db_queries_per_request: per(s.db_queries as f64, count),
                        db_ms_per_request: per(ms(s.db_us), count),
                        upstream_ms_per_request: per(ms(s.upstream_us), count),
                        histogram: base64::engine::general_purpose::STANDARD.encode(buf),
                    },
                )
            })
            .collect();
        Snapshot {
            schema_version: STATS_SCHEMA_VERSION,
            since: self
                .since
                .lock()
                .map(|s| s.to_rfc3339())
                .unwrap_or_default(),
            taken_at: chrono::Utc::now().to_rfc3339(),
            uptime_s: self.started.elapsed().as_secs_f64(),
            rss_bytes,
            leaked_bytes,
            missions,
            routes,
            links: self.link_snapshots(),
            connections: self.connections.snapshot(),
        }
    }
}

/// The process's resident set size, from `/proc/self/status` (0 where unavailable).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
