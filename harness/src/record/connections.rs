//! How a run connected, in its record (v6; its engine since v7). In: the run's transport, the
//! connections and TLS handshakes the engine made, and each stats row's
//! phase histograms. Out: [`ConnectionsRecord`]: protocol, TLS (and
//! whether certificates went unchecked), session resumption, the counts to
//! set beside the server's own, and per task where the time went (DNS,
//! connect, TLS, waiting, receiving: each a histogram with its mean and
//! percentiles; a reused connection adds zeros to the first three).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::histogram::{EncodedHistogram, Percentiles};
use crate::load::endpoint::ConnectionTotals;
use crate::load::phases::{PhaseTally, PHASE_NAMES};
use crate::scenario::transport::{Engine, Protocol, Transport};
use crate::scenario::Scenario;

/// One phase of one task's requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseRecord {
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// Every answered request's time in this phase (µs; zeros included).
    pub histogram: EncodedHistogram,
}

/// The `connections` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionsRecord {
    /// `h1` or `h2` (the run's; a class may use the other).
    pub protocol: Protocol,
    /// The HTTP/1.1 engine (`native` or `hyper`; v6 records, written
    /// before there was a choice, read as `hyper`).
    #[serde(default = "engine_of_v6")]
    pub engine: Engine,
    /// Whether the targets were `https://`.
    pub tls: bool,
    /// Certificates not checked (`--insecure`).
    #[serde(default)]
    pub insecure: bool,
    pub tls_resumption: bool,
    /// Connections the harness opened (TCP).
    pub opened: u64,
    pub tls_full: u64,
    pub tls_resumed: u64,
    /// Each class's connection reuse (`keep-alive`, `per-iteration`, `per-request`).
    pub reuse: BTreeMap<String, String>,
    /// Per task (stats row) name, per phase (`dns`, `connect`, `tls`,
    /// `waiting`, `receiving`).
    pub phases: BTreeMap<String, BTreeMap<String, PhaseRecord>>,
}

fn engine_of_v6() -> Engine {
    Engine::Hyper
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl PhaseRecord {
    fn of(h: &hdrhistogram::Histogram<u64>) -> Self {
        let q = Percentiles::of(h);
        PhaseRecord {
            mean_ms: if h.is_empty() {
                0.0
            } else {
                round3(h.mean() / 1000.0)
            },
            p50_ms: q.p50_ms,
            p95_ms: q.p95_ms,
            max_ms: if h.is_empty() {
                0.0
            } else {
                round3(h.max() as f64 / 1000.0)
            },
            histogram: EncodedHistogram(h.clone()),
        }
    }
}

impl ConnectionsRecord {
    pub fn build(
        scenario: &Scenario,
        transport: &Transport,
        tls: bool,
        totals: &ConnectionTotals,
        phases: &[PhaseTally],
    ) -> Self {
        let rows = scenario.entries();
        ConnectionsRecord {
            protocol: transport.protocol,
            engine: transport.engine,
            tls,
            insecure: tls && transport.tls.insecure,
            tls_resumption: transport.tls.resumption,
            opened: totals.opened,
            tls_full: totals.tls_full,
            tls_resumed: totals.tls_resumed,
            reuse: scenario
                .classes
                .iter()
                .map(|c| (c.name.clone(), c.connection.name().to_owned()))
                .collect(),
            phases: rows
                .iter()
                .zip(phases)
                .filter(|(_, t)| !t.is_empty())
                .map(|(row, t)| {
                    let by_phase = PHASE_NAMES
                        .iter()
                        .zip(&t.histograms)
                        .map(|(name, h)| ((*name).to_owned(), PhaseRecord::of(h)))
                        .collect();
                    (row.name.to_owned(), by_phase)
                })
                .collect(),
        }
    }

    /// A task's mean time per phase, in [`PHASE_NAMES`] order.
    pub fn means(&self, task: &str) -> Option<[f64; 5]> {
        let phases = self.phases.get(task)?;
        Some(PHASE_NAMES.map(|p| phases.get(p).map_or(0.0, |r| r.mean_ms)))
    }
}

impl ConnectionsRecord {
    /// The shards' sections as one: counts added, histograms merged;
    /// `None` when a shard has none.
    pub fn merged<'a>(
        parts: impl IntoIterator<Item = Option<&'a ConnectionsRecord>>,
    ) -> Option<Self> {
        let mut parts = parts.into_iter();
        let mut out = parts.next()??.clone();
        for part in parts {
            let part = part?;
            out.opened += part.opened;
            out.tls_full += part.tls_full;
            out.tls_resumed += part.tls_resumed;
            for (task, phases) in &part.phases {
                let into = out.phases.entry(task.clone()).or_default();
                for (name, p) in phases {
                    match into.get_mut(name) {
                        Some(mine) => {
                            let mut h = mine.histogram.0.clone();
                            let _ = h.add(&p.histogram.0);
                            *mine = PhaseRecord::of(&h);
                        }
                        None => {
                            into.insert(name.clone(), p.clone());
                        }
                    }
                }
            }
        }
        Some(out)
    }
}
