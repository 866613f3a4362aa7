//! Emulated links' traffic in the truth. In: each connection accepted on a
//! link, the bytes it carried each way with the delay it added, and the
//! service time of the requests that came through it. Out: the `links`
//! part of `/__admin/stats`.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer as _, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::{histogram, Times, Truth};

/// A direction across an emulated link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server: the request's bytes.
    Inbound,
    /// Server to client: the response's bytes.
    Outbound,
}

/// One emulated link's traffic: its connections, the time it added to the
/// bytes crossing it each way, and the service time of the requests that
/// came through it.
#[derive(Debug, Clone)]
pub(super) struct LinkStats {
    connections: u64,
    bytes_in: u64,
    bytes_out: u64,
    inbound: Histogram<u64>,
    outbound: Histogram<u64>,
    service: Histogram<u64>,
}

impl Default for LinkStats {
    fn default() -> Self {
        Self {
            connections: 0,
            bytes_in: 0,
            bytes_out: 0,
            inbound: histogram(),
            outbound: histogram(),
            service: histogram(),
        }
    }
}

/// One emulated link in `/__admin/stats`: the service time of the requests
/// that came through it beside the time it added to each segment each way
/// (a request and a response of one segment each spend service time plus
/// one inbound and one outbound delay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkSnapshot {
    pub connections: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub service: Times,
    pub inbound_added: Times,
    pub outbound_added: Times,
    /// Service times of the link's requests in µs, HdrHistogram V2, base64.
    pub service_histogram: String,
}

impl Truth {
    /// Runs `f` on link `name`'s statistics.
    fn link(&self, name: &str, f: impl FnOnce(&mut LinkStats)) {
        if let Ok(mut links) = self.links.lock() {
            match links.get_mut(name) {
                Some(l) => f(l),
                None => f(links.entry(name.to_owned()).or_default()),
            }
        }
    }

    /// A connection accepted on link `name`.
    pub fn link_connection(&self, name: &str) {
        self.link(name, |l| l.connections += 1);
    }

    /// `bytes` crossed link `name` one way, `added` later than they came.
    pub fn link_carried(&self, name: &str, direction: Direction, bytes: usize, added: Duration) {
        let us = (added.as_micros() as u64).max(1);
        self.link(name, |l| match direction {
            Direction::Inbound => {
                l.bytes_in += bytes as u64;
                l.inbound.saturating_record(us);
            }
            Direction::Outbound => {
                l.bytes_out += bytes as u64;
                l.outbound.saturating_record(us);
            }
        });
    }

    /// A request that came through link `name` was served in `elapsed`.
    pub fn link_request(&self, name: &str, elapsed: Duration) {
        let us = (elapsed.as_micros() as u64).max(1);
        self.link(name, |l| l.service.saturating_record(us));
    }

    pub(super) fn link_snapshots(&self) -> BTreeMap<String, LinkSnapshot> {
        let links = self.links.lock().map(|l| l.clone()).unwrap_or_default();
        links
            .into_iter()
            .map(|(name, l)| {
                let mut buf = Vec::new();
                let _ = V2Serializer::new().serialize(&l.service, &mut buf);
                let snapshot = LinkSnapshot {
                    connections: l.connections,
                    bytes_in: l.bytes_in,
                    bytes_out: l.bytes_out,
                    service: Times::of(&l.service),
                    inbound_added: Times::of(&l.inbound),
                    outbound_added: Times::of(&l.outbound),
                    service_histogram: base64::engine::general_purpose::STANDARD.encode(buf),
                };
                (name, snapshot)
            })
            .collect()
    }
}
