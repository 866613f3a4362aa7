//! Connections as the server saw them. In: each accepted connection, each
//! TLS handshake (with the protocol ALPN chose, full or resumed, or failed)
//! and each request's HTTP version. Out: the `connections` part of
//! `/__admin/stats` and the `mockapi_connections_total`,
//! `mockapi_tls_handshakes_total` and `mockapi_requests_by_protocol_total`
//! series of `/metrics`, so that a load tool's connection behaviour is
//! measured, not guessed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::tls::Protocol;

/// One protocol's counters.
#[derive(Debug, Default)]
struct PerProtocol {
    /// Connections that carried at least one request in this protocol.
    connections: AtomicU64,
    tls_full: AtomicU64,
    tls_resumed: AtomicU64,
    requests: AtomicU64,
}

/// Counters since start or the last reset.
#[derive(Debug, Default)]
pub struct ConnectionCounts {
    accepted: AtomicU64,
    tls_failed: AtomicU64,
    http1: PerProtocol,
    h2: PerProtocol,
}

/// One protocol in `/__admin/stats`' `connections`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolSnapshot {
    /// Connections that carried at least one request in this protocol
    /// (requests to `/__admin/*` and `/metrics`, the truth's own, are
    /// not counted).
    pub connections: u64,
    /// Full TLS handshakes that chose this protocol (by ALPN; HTTP/1.1
    /// when the client offered none).
    pub tls_full: u64,
    /// Resumed TLS handshakes that chose this protocol.
    pub tls_resumed: u64,
    pub requests: u64,
}

/// `/__admin/stats`' `connections` (stats schema 3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionsSnapshot {
    /// TCP connections accepted (on the API listener and links; those
    /// refused past `--max-connections` included; the admin listener's
    /// are not counted).
    pub accepted: u64,
    /// TLS handshakes that did not complete (a client that does not trust
    /// the certificate, a plain-text client on the TLS port, a timeout).
    pub tls_failed: u64,
    /// By protocol: `http1`, `h2`.
    pub protocols: BTreeMap<String, ProtocolSnapshot>,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl ConnectionCounts {
    fn of(&self, protocol: Protocol) -> &PerProtocol {
        match protocol {
            Protocol::Http1 => &self.http1,
            Protocol::Http2 => &self.h2,
        }
    }

    pub fn accepted(&self) {
        bump(&self.accepted);
    }

    pub fn tls_failed(&self) {
        bump(&self.tls_failed);
    }

    pub fn handshake(&self, protocol: Protocol, resumed: bool) {
        let p = self.of(protocol);
        bump(if resumed { &p.tls_resumed } else { &p.tls_full });
    }

    /// A request; `first` when it is its connection's first.
    pub fn request(&self, protocol: Protocol, first: bool) {
        let p = self.of(protocol);
        bump(&p.requests);
        if first {
            bump(&p.connections);
        }
    }

    pub fn reset(&self) {
        for c in [&self.accepted, &self.tls_failed] {
            c.store(0, Ordering::Relaxed);
        }
        for p in [&self.http1, &self.h2] {
            for c in [&p.connections, &p.tls_full, &p.tls_resumed, &p.requests] {
                c.store(0, Ordering::Relaxed);
            }
        }
    }

    pub fn snapshot(&self) -> ConnectionsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let protocols = [Protocol::Http1, Protocol::Http2]
            .into_iter()
            .map(|protocol| {
                let p = self.of(protocol);
                let snapshot = ProtocolSnapshot {
                    connections: get(&p.connections),
                    tls_full: get(&p.tls_full),
                    tls_resumed: get(&p.tls_resumed),
                    requests: get(&p.requests),
                };
                (protocol.name().to_owned(), snapshot)
            })
            .collect();
        ConnectionsSnapshot {
            accepted: get(&self.accepted),
            tls_failed: get(&self.tls_failed),
            protocols,
        }
    }
}
