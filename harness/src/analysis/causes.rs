//! Likely causes of a change. In: the runs (with the server's metrics when
//! their records had them) and the percentiles' analyses. Out: causes,
//! ranked, each with its evidence: measured from the server's metrics
//! (first run against latest), or guessed from the shape of the change and
//! marked as guesses.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::history::{RouteCost, Run, ServerPoint};
use super::MetricAnalysis;
use crate::scenario::Percentile;

/// A cause of degradation the analysis can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CauseKind {
    #[serde(rename = "N+1 queries")]
    NPlusOne,
    #[serde(rename = "missing index / data growth")]
    MissingIndex,
    #[serde(rename = "memory leak / GC pressure")]
    MemoryLeak,
    #[serde(rename = "slow dependency")]
    SlowDependency,
    #[serde(rename = "contention / queueing")]
    Contention,
}

impl CauseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CauseKind::NPlusOne => "N+1 queries",
            CauseKind::MissingIndex => "missing index / data growth",
            CauseKind::MemoryLeak => "memory leak / GC pressure",
            CauseKind::SlowDependency => "slow dependency",
            CauseKind::Contention => "contention / queueing",
        }
    }
}

impl fmt::Display for CauseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure the analysis is of a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    High,
    Medium,
    Low,
    /// No server metrics back it: ranked by the shape of the change.
    Guess,
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
            Confidence::Guess => "guess",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    pub cause: CauseKind,
    pub evidence: String,
    pub confidence: Confidence,
}

/// `b / a`, with a start at zero counted as infinite growth.
fn ratio(a: f64, b: f64) -> f64 {
    if a <= 0.0 {
        if b > 0.0 {
            f64::INFINITY
        } else {
            1.0
        }
    } else {
        b / a
    }
}

/// Ranks causes: from the server's metrics when the history has them
/// (baseline vs latest), else from the shape of the change (guesses).
/// Returns the causes and whether they are guesses.
pub fn likely(
    runs: &[Run],
    metrics: &BTreeMap<Percentile, MetricAnalysis>,
    regression: bool,
) -> (Vec<Cause>, bool) {
    let servers: Vec<&ServerPoint> = runs.iter().filter_map(|r| r.server.as_ref()).collect();
    if let [first, .., last] = servers.as_slice() {
        return (measured(first, last), false);
    }
    if !regression {
        return (Vec::new(), true);
    }
    (guessed(metrics), true)
}

/// A route's change in one figure from the first run to the latest.
struct RouteChange {
    route: String,
    from: f64,
    to: f64,
}

/// The route whose figure `f` grew most from `first` to `last`.
fn most_changed(
    first: &ServerPoint,
    last: &ServerPoint,
    f: fn(&RouteCost) -> f64,
) -> Option<RouteChange> {
    last.routes
        .iter()
        .filter_map(|(k, v)| {
            first.routes.get(k).map(|b| RouteChange {
                route: k.clone(),
                from: f(b),
                to: f(v),
            })
        })
        .max_by(|a, b| (a.to - a.from).total_cmp(&(b.to - b.from)))
}

fn high(cause: CauseKind, evidence: String) -> Cause {
    Cause {
        cause,
        evidence,
        confidence: Confidence::High,
    }
}

/// Causes the server's own metrics show, strongest change first.
fn measured(first: &ServerPoint, last: &ServerPoint) -> Vec<Cause> {
    let mut found: Vec<(f64, Cause)> = Vec::new();
    if let Some(RouteChange {
        route,
        from: a,
        to: b,
    }) = most_changed(first, last, |c| c.db_queries_per_request)
    {
        if b >= a * 1.5 && b - a >= 1.0 {
            let evidence = format!("{route}: db_queries_per_request {a:.1} -> {b:.1} ({:.1}x) from the first run to the latest", ratio(a, b));
            found.push((ratio(a, b), high(CauseKind::NPlusOne, evidence)));
        }
    }
    let queries = ratio(
        first.overall.db_queries_per_request,
        last.overall.db_queries_per_request,
    );
    if let Some(RouteChange {
        route,
        from: a,
        to: b,
    }) = most_changed(first, last, |c| c.db_ms_per_request)
    {
        if b >= a * 1.5 && b - a >= 0.2 && (0.8..=1.25).contains(&queries) {
            let growth = if last.missions > first.missions {
                format!("; missions {} -> {}", first.missions, last.missions)
            } else {
                String::new()
            };
            let plan = plan_change(first, last)
                .map(|p| format!("; {p}"))
                .unwrap_or_default();
            let evidence = format!(
                "{route}: db_ms_per_request {a:.2} -> {b:.2} ms at the same query count{growth}{plan}"
            );
            found.push((ratio(a, b), high(CauseKind::MissingIndex, evidence)));
        }
    }
    if !found
        .iter()
        .any(|(_, c)| c.cause == CauseKind::MissingIndex)
    {
        // The plan alone: a table scanned where it was searched by index.
        if let Some(p) = plan_change(first, last) {
            found.push((1.5, high(CauseKind::MissingIndex, p)));
        }
    }
    if let Some(leak) = memory_leak(first, last) {
        found.push(leak);
    }
    if let Some(RouteChange {
        route,
        from: a,
        to: b,
    }) = most_changed(first, last, |c| c.upstream_ms_per_request)
    {
        if b - a >= 2.0 && b >= a * 1.5 {
            let evidence = format!("{route}: upstream_ms_per_request {a:.1} -> {b:.1} ms");
            found.push((
                ratio(a.max(0.5), b),
                high(CauseKind::SlowDependency, evidence),
            ));
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    found.into_iter().map(|(_, c)| c).collect()
}

/// A statement kind whose latest plan scans a table its first plan
/// searched through an index: `query plan of mission_read: SCAN waypoints
/// (the first run's: SEARCH waypoints USING COVERING INDEX ...)`.
pub(crate) fn plan_change(first: &ServerPoint, last: &ServerPoint) -> Option<String> {
    for (kind, lines) in &last.plans {
        let Some(before) = first.plans.get(kind) else {
            continue;
        };
        for line in lines {
            let Some(table) = line.strip_prefix("SCAN ").filter(|t| !t.starts_with('(')) else {
                continue;
            };
            let table = table.split_whitespace().next().unwrap_or(table);
            if before.contains(line) {
                continue;
            }
            let searched = before.iter().find(|l| {
                l.strip_prefix("SEARCH ")
                    .and_then(|t| t.split_whitespace().next())
                    .is_some_and(|t| t == table)
                    && l.contains("INDEX")
            });
            if let Some(was) = searched {
                return Some(format!(
                    "query plan of {kind}: {line} (the first run's: {was})"
                ));
            }
        }
    }
    None
}

/// RSS grown by over 64 MiB across the history or within the latest steady window.
fn memory_leak(first: &ServerPoint, last: &ServerPoint) -> Option<(f64, Cause)> {
    const MIB: f64 = 1024.0 * 1024.0;
    let (start, end) = (first.rss_bytes_end as f64, last.rss_bytes_end as f64);
    let growth = end - start;
    let within = last.rss_bytes_end as f64 - last.rss_bytes_start as f64;
    if growth <= 64.0 * MIB && within <= 64.0 * MIB {
        return None;
    }
    let evidence = format!(
        "rss_bytes climbing: {:.0} MiB at the end of the first run, {:.0} MiB at the end of the latest ({:+.0} MiB within the latest steady window)",
        start / MIB,
        end / MIB,
        within / MIB
    );
    let strength = 1.0 + growth.max(within) / MIB / 64.0;
    Some((strength, high(CauseKind::MemoryLeak, evidence)))
}

/// Every usual cause, ranked by the shape of the change, marked as guesses.
fn guessed(metrics: &BTreeMap<Percentile, MetricAnalysis>) -> Vec<Cause> {
    let change = |p: Percentile| metrics.get(&p).map_or(0.0, |m| m.change_pct);
    let (p50, p99) = (change(Percentile::P50), change(Percentile::P99));
    let tails_faster = p99 > p50 * 1.3 && p99 > 0.0;
    let shape = format!("p50 {p50:+.0}%, p99 {p99:+.0}%");
    let mut causes = vec![
        (CauseKind::MissingIndex, "Data growth without proper indexing: check query plans and database time per request", "all percentiles rising points to more work per request"),
        (CauseKind::MemoryLeak, "Memory leak causing GC or allocator pressure: review heap/RSS trends", "tails growing faster than the median point to pauses or memory pressure"),
        (CauseKind::NPlusOne, "Inefficient queries introduced in recent changes: check N+1 query patterns (queries per request)", "more work per request raises every percentile"),
        (CauseKind::SlowDependency, "Increased external API latency: review dependency response times", "a slower dependency adds to every request that calls it"),
        (CauseKind::Contention, "Contention or queueing (locks, pools, CPU): compare throughput and saturation", "tails growing faster than the median point to waiting"),
    ];
    if tails_faster {
        causes.sort_by_key(|c| match c.0 {
            CauseKind::MemoryLeak => 0,
            CauseKind::MissingIndex => 1,
            CauseKind::Contention => 2,
            CauseKind::NPlusOne => 3,
            CauseKind::SlowDependency => 4,
        });
    }
    causes
        .into_iter()
        .map(|(cause, what, why)| Cause {
            cause,
            evidence: format!("{what}. Shape of the change ({shape}): {why}. No server metrics in the history: this is a guess."),
            confidence: Confidence::Guess,
        })
        .collect()
}
