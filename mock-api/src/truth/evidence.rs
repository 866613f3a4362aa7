//! The other side of a request: its trace, its statements, and the
//! database's own evidence. In: each request's W3C `traceparent` (read by
//! the middleware), each store call's statements and time
//! ([`statement`]), each finished request. Out: a bounded ring of recent
//! slow requests with their trace ids and statements (`/__admin/slow`),
//! per statement kind its count, time histogram and SQL
//! (`/__admin/queries`, where the route adds SQLite's `EXPLAIN QUERY
//! PLAN`), and a `slow statement` log line past `--slow-query-ms`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::COUNTERS;

/// What a store call did, named for what it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// A mission and its waypoints.
    MissionRead,
    /// A page of mission summaries and their total.
    MissionSearch,
    /// A waypoint moved (and the mission's version bumped).
    WaypointUpdate,
    /// A mission and its waypoints inserted.
    MissionCreate,
    /// A mission and its waypoints deleted.
    MissionDelete,
}

impl StatementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::MissionRead => "mission_read",
            StatementKind::MissionSearch => "mission_search",
            StatementKind::WaypointUpdate => "waypoint_update",
            StatementKind::MissionCreate => "mission_create",
            StatementKind::MissionDelete => "mission_delete",
        }
    }
}

/// One store call of a request.
#[derive(Debug, Clone, Serialize)]
pub struct StatementTime {
    pub kind: StatementKind,
    /// Statements it ran.
    pub statements: u64,
    pub ms: f64,
}

/// One slow request, as `/__admin/slow` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct SlowEntry {
    /// From the request's `traceparent` (32 hex digits); absent without one.
    pub trace_id: Option<String>,
    pub route: &'static str,
    pub status: Option<u16>,
    /// Service time to the last body byte.
    pub ms: f64,
    /// When it ended, UTC.
    pub at: String,
    pub queries: u64,
    pub db_ms: f64,
    pub upstream_calls: u64,
    pub statements: Vec<StatementTime>,
}

/// One statement kind's figures since the start (or the last reset).
#[derive(Debug, Clone)]
struct KindStats {
    calls: u64,
    statements: u64,
    histogram: Histogram<u64>,
    /// The SQL it ran last (the plan can change: `missing-index`), with
    /// placeholders, not values: the parameters' shape.
    sql: Vec<String>,
}

/// A kind as `/__admin/queries` shows it (the route adds the plans).
#[derive(Debug, Clone, Serialize)]
pub struct KindSummary {
    pub kind: StatementKind,
    pub calls: u64,
    pub statements: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub sql: Vec<String>,
}

/// Slow requests kept by default.
pub const SLOW_RING: u32 = 1024;
/// A request is slow from this service time unless `--slow-request-ms` says.
pub const SLOW_REQUEST_MS: u64 = 50;

/// Slow requests and statement kinds.
#[derive(Debug)]
pub struct Evidence {
    slow: Mutex<VecDeque<SlowEntry>>,
    kinds: Mutex<BTreeMap<StatementKind, KindStats>>,
    slow_request_us: AtomicU64,
    /// 0: no slow statement log.
    slow_query_us: AtomicU64,
    ring: AtomicUsize,
}

impl Default for Evidence {
    fn default() -> Self {
        Evidence {
            slow: Mutex::new(VecDeque::new()),
            kinds: Mutex::new(BTreeMap::new()),
            slow_request_us: AtomicU64::new(SLOW_REQUEST_MS * 1000),
            slow_query_us: AtomicU64::new(0),
            ring: AtomicUsize::new(SLOW_RING as usize),
        }
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Evidence {
    /// `--slow-request-ms`, `--slow-query-ms` (0: off) and the ring's size.
    pub fn configure(&self, slow_request_ms: u64, slow_query_ms: u64, ring: usize) {
        self.slow_request_us
            .store(slow_request_ms * 1000, Ordering::Relaxed);
        self.slow_query_us
            .store(slow_query_ms * 1000, Ordering::Relaxed);
        self.ring.store(ring.max(1), Ordering::Relaxed);
    }

    /// `--slow-request-ms`.
    pub fn slow_request_ms(&self) -> u64 {
        self.slow_request_us.load(Ordering::Relaxed) / 1000
    }

    /// Whether a request of `elapsed` is kept.
    pub fn is_slow(&self, elapsed: Duration) -> bool {
        elapsed.as_micros() as u64 >= self.slow_request_us.load(Ordering::Relaxed)
    }

    /// Keeps a slow request, the oldest dropped past the ring's size.
    pub fn keep(&self, entry: SlowEntry) {
        let Ok(mut ring) = self.slow.lock() else {
            return;
        };
        let cap = self.ring.load(Ordering::Relaxed);
        while ring.len() >= cap {
            ring.pop_front();
        }
        ring.push_back(entry);
    }

    /// The ring, oldest first; only `trace_id`'s when given.
    pub fn slow(&self, trace_id: Option<&str>) -> Vec<SlowEntry> {
        let ring = self.slow.lock().map(|r| r.clone()).unwrap_or_default();
        ring.into_iter()
            .filter(|e| trace_id.is_none_or(|t| e.trace_id.as_deref() == Some(t)))
            .collect()
    }

    /// Every kind seen, with its figures.
    pub fn kinds(&self) -> Vec<KindSummary> {
        let kinds = self.kinds.lock().map(|k| k.clone()).unwrap_or_default();
        kinds
            .into_iter()
            .map(|(kind, k)| {
                let h = &k.histogram;
                KindSummary {
                    kind,
                    calls: k.calls,
                    statements: k.statements,
                    mean_ms: (h.mean() / 1000.0 * 1000.0).round() / 1000.0,
                    p50_ms: ms(h.value_at_quantile(0.5)),
                    p95_ms: ms(h.value_at_quantile(0.95)),
                    p99_ms: ms(h.value_at_quantile(0.99)),
                    max_ms: ms(h.max()),
                    sql: k.sql.clone(),
                }
            })
            .collect()
    }

    /// Forgets the slow requests and the kinds' figures (`/__admin/reset`).
    pub fn reset(&self) {
        if let Ok(mut r) = self.slow.lock() {
            r.clear();
        }
        if let Ok(mut k) = self.kinds.lock() {
            k.clear();
        }
    }

    fn add(&self, kind: StatementKind, sql: &[&str], statements: u64, elapsed: Duration) {
        let us = (elapsed.as_micros() as u64).max(1);
        if let Ok(mut kinds) = self.kinds.lock() {
            let k = kinds.entry(kind).or_insert_with(|| KindStats {
                calls: 0,
                statements: 0,
                histogram: Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("valid bounds"),
                sql: Vec::new(),
            });
            k.calls += 1;
            k.statements += statements;
            k.histogram.saturating_record(us);
            if k.sql.len() != sql.len() || k.sql.iter().zip(sql).any(|(a, b)| a != b) {
                k.sql = sql.iter().map(|s| (*s).to_owned()).collect();
            }
        }
        let floor = self.slow_query_us.load(Ordering::Relaxed);
        if floor > 0 && us >= floor {
            let trace_id = COUNTERS
                .try_with(|c| c.trace_id.get())
                .ok()
                .flatten()
                .map(trace_id_hex);
            tracing::warn!(
                kind = kind.as_str(),
                ms = us as f64 / 1000.0,
                statements,
                trace_id = trace_id.as_deref().unwrap_or("-"),
                sql = ?sql,
                "slow statement"
            );
        }
    }
}

/// A store call of `kind` ran `sql` (`statements` statements in all, some
/// repeated) in `elapsed`: counted for the request being served (if any)
/// and for the kind.
pub fn statement(
    evidence: &Evidence,
    kind: StatementKind,
    sql: &[&str],
    statements: u64,
    elapsed: Duration,
) {
    super::count_queries(statements, elapsed);
    evidence_only(evidence, kind, sql, statements, elapsed);
}

/// As [`statement`], for a call whose queries the writer already counted.
pub fn evidence_only(
    evidence: &Evidence,
    kind: StatementKind,
    sql: &[&str],
    statements: u64,
    elapsed: Duration,
) {
    // On the store call's span (exported with --otlp-endpoint).
    let span = tracing::Span::current();
    if !span.is_disabled() {
        span.record("statements", i64::try_from(statements).unwrap_or(i64::MAX));
        span.record("sql", tracing::field::debug(sql));
    }
    let _ = COUNTERS.try_with(|c| {
        c.statements.borrow_mut().push(StatementTime {
            kind,
            statements,
            ms: elapsed.as_micros() as f64 / 1000.0,
        });
    });
    evidence.add(kind, sql, statements, elapsed);
}

/// The trace id of a W3C `traceparent` value (`00-<32 hex>-<16 hex>-<2 hex>`);
/// `None` when malformed or all zeros.
pub fn parse_traceparent(value: &[u8]) -> Option<u128> {
    if value.len() < 55 || &value[..3] != b"00-" || value[35] != b'-' || value[52] != b'-' {
        return None;
    }
    let hex = std::str::from_utf8(&value[3..35]).ok()?;
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    u128::from_str_radix(hex, 16).ok().filter(|&id| id != 0)
}

pub fn trace_id_hex(id: u128) -> String {
    format!("{id:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_read_as_w3c_writes_it() {
        let v = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let id = parse_traceparent(v).unwrap();
        assert_eq!(trace_id_hex(id), "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(
            parse_traceparent(b"00-00000000000000000000000000000000-b7ad6b7169203331-01"),
            None
        );
        assert_eq!(
            parse_traceparent(b"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"),
            None
        );
        assert_eq!(parse_traceparent(b"garbage"), None);
    }

    #[test]
    fn the_ring_keeps_the_newest_and_finds_by_trace_id() {
        let e = Evidence::default();
        e.configure(10, 0, 2);
        assert!(!e.is_slow(Duration::from_millis(9)));
        assert!(e.is_slow(Duration::from_millis(10)));
        for i in 0..3u128 {
            e.keep(SlowEntry {
                trace_id: Some(trace_id_hex(i + 1)),
                route: "get_mission",
                status: Some(200),
                ms: 12.0,
                at: String::new(),
                queries: 2,
                db_ms: 1.0,
                upstream_calls: 0,
                statements: Vec::new(),
            });
        }
        assert_eq!(e.slow(None).len(), 2);
        assert_eq!(e.slow(Some(&trace_id_hex(1))).len(), 0);
        assert_eq!(e.slow(Some(&trace_id_hex(3))).len(), 1);
    }
}
