//! The slowest requests, in the record (v8). In: each stats row's slowest
//! requests of the steady window, as the collector kept them, and when the
//! run started. Out: [`SlowRequest`]s, slowest first within each task,
//! each with the W3C trace id it carried, so that a tail sample can be
//! looked up in a tracing backend and in the target's `/__admin/slow`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::load::collector::Slow;
use crate::load::trace::trace_id_hex;
use crate::scenario::Scenario;

/// Milliseconds with three decimals (microseconds).
fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Where one request's time went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowPhases {
    pub dns_ms: f64,
    pub connect_ms: f64,
    pub tls_ms: f64,
    pub waiting_ms: f64,
    pub receiving_ms: f64,
}

/// One of a task's slowest requests in the steady window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowRequest {
    pub task: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// 32 lowercase hex digits, as the request's `traceparent` carried it.
    pub trace_id: String,
    /// When it started (was due), UTC, to the millisecond.
    pub at: String,
    /// The same, in seconds from the run's start.
    pub at_s: f64,
    pub latency_ms: f64,
    /// The response's status; absent when none came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Its error class, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub phases: SlowPhases,
}

/// Every row's slowest, rows in the scenario's order.
pub fn build(
    scenario: &Scenario,
    slowest: &[Vec<Slow>],
    started: DateTime<Utc>,
) -> Vec<SlowRequest> {
    let mut out = Vec::new();
    for (entry, kept) in scenario.entries().iter().zip(slowest) {
        let class = &scenario.classes[entry.class];
        for s in kept {
            let at = started + chrono::Duration::from_std(s.started_at).unwrap_or_default();
            out.push(SlowRequest {
                task: entry.name.to_owned(),
                class: class.declared.then(|| class.name.clone()),
                trace_id: trace_id_hex(s.trace_id),
                at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
                at_s: (s.started_at.as_secs_f64() * 1e3).round() / 1e3,
                latency_ms: ms(s.latency),
                status: (s.status != 0).then_some(s.status),
                error: s.error.map(|c| c.as_str().to_owned()),
                phases: SlowPhases {
                    dns_ms: ms(s.phases.dns),
                    connect_ms: ms(s.phases.connect),
                    tls_ms: ms(s.phases.tls),
                    waiting_ms: ms(s.phases.waiting),
                    receiving_ms: ms(s.phases.receiving),
                },
            });
        }
    }
    out
}

/// Shards' slowest as one run's: per task (and class), the slowest of all,
/// as many as the most any shard kept; tasks in the first shard's order.
pub fn merged<'a>(parts: impl IntoIterator<Item = &'a [SlowRequest]>) -> Vec<SlowRequest> {
    let mut groups: Vec<(Option<String>, String, usize, Vec<SlowRequest>)> = Vec::new();
    for part in parts {
        let mut counts: Vec<(Option<String>, String, usize)> = Vec::new();
        for s in part {
            match counts.iter_mut().find(|c| c.0 == s.class && c.1 == s.task) {
                Some(c) => c.2 += 1,
                None => counts.push((s.class.clone(), s.task.clone(), 1)),
            }
            match groups.iter_mut().find(|g| g.0 == s.class && g.1 == s.task) {
                Some(g) => g.3.push(s.clone()),
                None => groups.push((s.class.clone(), s.task.clone(), 0, vec![s.clone()])),
            }
        }
        for (class, task, n) in counts {
            if let Some(g) = groups.iter_mut().find(|g| g.0 == class && g.1 == task) {
                g.2 = g.2.max(n);
            }
        }
    }
    let mut out = Vec::new();
    for (_, _, keep, mut kept) in groups {
        kept.sort_by(|a, b| b.latency_ms.total_cmp(&a.latency_ms));
        kept.truncate(keep);
        out.extend(kept);
    }
    out
}
