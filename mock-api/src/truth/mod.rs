//! Ground truth: what the server measures of itself. Per route, service
//! time (request head received to response body complete) into an
//! HdrHistogram, requests by status, and per request the database queries
//! and upstream calls it made and their time. Served as `/metrics`
//! (Prometheus text) and `/__admin/stats` (exact JSON, histograms included
//! so that two snapshots subtract to any window).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer as _, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::behaviour::Route;

/// Per-request counters, kept in a task-local while the request is served.
#[derive(Debug, Default)]
pub struct RequestCounters {
    pub db_queries: Cell<u64>,
    pub db_us: Cell<u64>,
    pub upstream_calls: Cell<u64>,
    pub upstream_us: Cell<u64>,
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
            db_queries: 0,
            db_us: 0,
            upstream_calls: 0,
            upstream_us: 0,
        }
    }
}

/// What one finished request contributes.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    pub route: Route,
    pub status: u16,
    pub elapsed: Duration,
    pub db_queries: u64,
    pub db_us: u64,
    pub upstream_calls: u64,
    pub upstream_us: u64,
}

/// Statistics since start or the last reset.
#[derive(Debug)]
pub struct Truth {
    routes: [Mutex<RouteStats>; 5],
    since: Mutex<chrono::DateTime<chrono::Utc>>,
    started: Instant,
}

impl Default for Truth {
    fn default() -> Self {
        Self {
            routes: Default::default(),
            since: Mutex::new(chrono::Utc::now()),
            started: Instant::now(),
        }
    }
}

fn slot(route: Route) -> usize {
    Route::ALL.iter().position(|r| *r == route).unwrap_or(0)
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
    pub statuses: BTreeMap<String, u64>,
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
        let Ok(mut s) = self.routes[slot(o.route)].lock() else {
            return;
        };
        s.histogram
            .saturating_record((o.elapsed.as_micros() as u64).max(1));
        *s.statuses.entry(o.status).or_default() += 1;
        s.db_queries += o.db_queries;
        s.db_us += o.db_us;
        s.upstream_calls += o.upstream_calls;
        s.upstream_us += o.upstream_us;
    }

    pub fn reset(&self) {
        for r in &self.routes {
            if let Ok(mut s) = r.lock() {
                *s = RouteStats::default();
            }
        }
        if let Ok(mut since) = self.since.lock() {
            *since = chrono::Utc::now();
        }
    }

    fn routes(&self) -> Vec<(Route, RouteStats)> {
        Route::ALL
            .iter()
            .map(|&r| {
                let s = self.routes[slot(r)]
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
                let (method, path) = r.pattern();
                (
                    r.as_str().to_owned(),
                    RouteSnapshot {
                        method: method.to_owned(),
                        path: path.to_owned(),
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
            schema_version: 1,
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
        }
    }

    /// Prometheus text exposition (format 0.0.4).
    pub fn prometheus(&self, rss_bytes: u64, leaked_bytes: u64, missions: u64) -> String {
        const BUCKETS: [f64; 16] = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            30.0, 60.0,
        ];
        let routes = self.routes();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP mockapi_http_requests_total Requests served, by route and status."
        );
        let _ = writeln!(out, "# TYPE mockapi_http_requests_total counter");
        for (r, s) in &routes {
            for (status, n) in &s.statuses {
                let _ = writeln!(
                    out,
                    "mockapi_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    r.as_str()
                );
            }
        }
        let _ = writeln!(out, "# HELP mockapi_http_request_duration_seconds Service time: request head received to response body complete.");
        let _ = writeln!(
            out,
            "# TYPE mockapi_http_request_duration_seconds histogram"
        );
        for (r, s) in &routes {
            let h = &s.histogram;
            for b in BUCKETS {
                let upto = (b * 1e6) as u64;
                let n: u64 = if h.is_empty() {
                    0
                } else {
                    h.iter_recorded()
                        .filter(|v| v.value_iterated_to() <= upto)
                        .map(|v| v.count_at_value())
                        .sum()
                };
                let _ = writeln!(
                    out,
                    "mockapi_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{b}\"}} {n}",
                    r.as_str()
                );
            }
            let sum: f64 = h
                .iter_recorded()
                .map(|v| v.value_iterated_to() as f64 * v.count_at_value() as f64)
                .sum::<f64>()
                / 1e6;
            let _ = writeln!(
                out,
                "mockapi_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}",
                r.as_str(),
                h.len()
            );
            let _ = writeln!(
                out,
                "mockapi_http_request_duration_seconds_sum{{route=\"{}\"}} {sum}",
                r.as_str()
            );
            let _ = writeln!(
                out,
                "mockapi_http_request_duration_seconds_count{{route=\"{}\"}} {}",
                r.as_str(),
                h.len()
            );
        }
        for (name, help, get) in [
            (
                "mockapi_db_queries_total",
                "Database queries made while serving requests.",
                (|s: &RouteStats| s.db_queries as f64) as fn(&RouteStats) -> f64,
            ),
            (
                "mockapi_db_query_seconds_total",
                "Time spent in database queries.",
                |s: &RouteStats| s.db_us as f64 / 1e6,
            ),
            (
                "mockapi_upstream_calls_total",
                "Calls to the emulated upstream service.",
                |s: &RouteStats| s.upstream_calls as f64,
            ),
            (
                "mockapi_upstream_seconds_total",
                "Time spent waiting for the upstream service.",
                |s: &RouteStats| s.upstream_us as f64 / 1e6,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (r, s) in &routes {
                let _ = writeln!(out, "{name}{{route=\"{}\"}} {}", r.as_str(), get(s));
            }
        }
        for (name, help, v) in [
            (
                "mockapi_process_resident_memory_bytes",
                "Resident set size of the process.",
                rss_bytes,
            ),
            (
                "mockapi_leaked_bytes",
                "Bytes retained by the memory-leak emulation.",
                leaked_bytes,
            ),
            ("mockapi_missions", "Missions in the database.", missions),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {v}");
        }
        out
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

/// Bytes retained on purpose by the `memory-leak` emulation; never freed.
#[derive(Debug, Default)]
pub struct Leak {
    kept: Mutex<Vec<Box<[u8]>>>,
    total: std::sync::atomic::AtomicU64,
}

impl Leak {
    /// Retains `bytes` more (written to, so they are resident), up to `cap` in all.
    pub fn leak(&self, bytes: u64, cap: u64) {
        use std::sync::atomic::Ordering;
        let total = self.total.load(Ordering::Relaxed);
        let n = bytes.min(cap.saturating_sub(total));
        if n == 0 {
            return;
        }
        // A size the machine cannot give is skipped, not a crash.
        let mut block = Vec::new();
        if block.try_reserve_exact(n as usize).is_err() {
            tracing::warn!(bytes = n, "memory-leak emulation: allocation refused");
            return;
        }
        block.resize(n as usize, 0xA5u8);
        let block = block.into_boxed_slice();
        if let Ok(mut kept) = self.kept.lock() {
            kept.push(block);
            self.total.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn total(&self) -> u64 {
        self.total.load(std::sync::atomic::Ordering::Relaxed)
    }
}
