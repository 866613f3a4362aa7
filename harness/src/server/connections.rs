//! The target's count of connections, TLS handshakes and requests by
//! protocol (mock-api's `/__admin/stats` `connections`, stats version 3).
//! In: two snapshots. Out: what happened between them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One protocol's counters (`http1`, `h2`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolCounts {
    /// Connections that carried at least one request.
    pub connections: u64,
    pub tls_full: u64,
    pub tls_resumed: u64,
    pub requests: u64,
}

/// The counters (zero from a target that does not count them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCounts {
    pub accepted: u64,
    pub tls_failed: u64,
    pub protocols: BTreeMap<String, ProtocolCounts>,
}

impl ConnectionCounts {
    /// The counts between `start` and `self` (none below zero).
    pub fn since(&self, start: &ConnectionCounts) -> ConnectionCounts {
        let protocols = self
            .protocols
            .iter()
            .map(|(name, e)| {
                let s = start.protocols.get(name).copied().unwrap_or_default();
                let p = ProtocolCounts {
                    connections: e.connections.saturating_sub(s.connections),
                    tls_full: e.tls_full.saturating_sub(s.tls_full),
                    tls_resumed: e.tls_resumed.saturating_sub(s.tls_resumed),
                    requests: e.requests.saturating_sub(s.requests),
                };
                (name.clone(), p)
            })
            .collect();
        ConnectionCounts {
            accepted: self.accepted.saturating_sub(start.accepted),
            tls_failed: self.tls_failed.saturating_sub(start.tls_failed),
            protocols,
        }
    }

    /// TLS handshakes completed, full and resumed, every protocol.
    pub fn handshakes(&self) -> u64 {
        self.protocols
            .values()
            .map(|p| p.tls_full + p.tls_resumed)
            .sum()
    }

    /// Requests received over `protocol` (`http1`, `h2`).
    pub fn requests(&self, protocol: &str) -> u64 {
        self.protocols.get(protocol).map_or(0, |p| p.requests)
    }
}
