//! The `tls` and `h2` trials' own judgement. In: how the trial asked the
//! tool to connect, the handshake delay the target added, the tool's
//! median and the server's window (its latency and its count of requests
//! by protocol and TLS handshakes). Out: a [`ConnectionLine`]: for `tls`,
//! whether the tool's latencies hold the handshakes it made (each added
//! the delay, so a tool making one per request should read about the
//! delay above the server's median); for `h2`, whether every request
//! arrived over HTTP/2.

use serde::{Deserialize, Serialize};

use super::target::Truth;
use super::trial::Wire;

/// Share of the expected handshake time a tool's median must show.
const SHOWN: f64 = 0.75;
/// Handshakes per request from which every request is taken to carry one.
const PER_REQUEST: f64 = 0.9;

/// What the server saw of the tool's connections, and the judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionLine {
    /// What the trial asked: `tls` (HTTPS, a new connection per request)
    /// or `h2` (HTTPS over HTTP/2).
    pub asked: String,
    /// Requests the server received over HTTP/1.1 and over HTTP/2.
    pub requests_http1: u64,
    pub requests_h2: u64,
    /// Connections that carried requests, and TLS handshakes (full and resumed).
    pub connections: u64,
    pub tls_handshakes: u64,
    /// What the target added to each handshake.
    pub handshake_delay_ms: Option<f64>,
    /// Handshake time per request the tool's median should show: the
    /// delay when (nearly) every request made a handshake.
    pub expected_added_ms: Option<f64>,
    /// The tool's median minus the server's.
    pub added_ms: Option<f64>,
    /// `None`: not judged (said in a note).
    pub within: Option<bool>,
    pub note: String,
}

/// The judgement of `wire` (none for plain trials).
pub fn judge(
    wire: Wire,
    delay_ms: Option<f64>,
    tool_p50: Option<f64>,
    server_p50: f64,
    truth: &Truth,
) -> Option<ConnectionLine> {
    let c = &truth.connections;
    let (http1, h2) = (c.requests("http1"), c.requests("h2"));
    let requests = http1 + h2;
    let mut line = ConnectionLine {
        asked: String::new(),
        requests_http1: http1,
        requests_h2: h2,
        connections: c.protocols.values().map(|p| p.connections).sum(),
        tls_handshakes: c.handshakes(),
        handshake_delay_ms: delay_ms,
        expected_added_ms: None,
        added_ms: tool_p50.map(|t| t - server_p50),
        within: None,
        note: String::new(),
    };
    match wire {
        Wire::Plain => return None,
        _ if requests == 0 => {
            line.asked = if wire == Wire::Tls { "tls" } else { "h2" }.into();
            line.within = Some(false);
            line.note = "the server received no request from the tool".into();
        }
        Wire::Http2 => {
            line.asked = "h2".into();
            line.within = Some(http1 == 0);
            line.note = match (h2, http1) {
                (_, 0) => format!("all {h2} requests arrived over HTTP/2"),
                (0, _) => {
                    format!("asked for HTTP/2, the tool sent all {http1} requests over HTTP/1.1")
                }
                _ => format!("asked for HTTP/2, {http1} of {requests} requests came over HTTP/1.1"),
            };
        }
        Wire::Tls => {
            line.asked = "tls".into();
            let per_request = if requests == 0 {
                0.0
            } else {
                line.tls_handshakes as f64 / requests as f64
            };
            let handshakes = line.tls_handshakes;
            match (delay_ms, line.added_ms) {
                (Some(delay), Some(added)) if per_request >= PER_REQUEST => {
                    let expected = delay * per_request.min(1.0);
                    line.expected_added_ms = Some(expected);
                    line.within = Some(added >= SHOWN * expected);
                    line.note = if added >= SHOWN * expected {
                        format!("{handshakes} handshakes for {requests} requests: its median holds them ({added:.1} ms above the server's, {expected:.1} ms expected)")
                    } else {
                        format!("{handshakes} handshakes for {requests} requests, each {delay} ms longer, yet its median is only {added:.1} ms above the server's: its latencies leave out the connections it made")
                    };
                }
                _ => {
                    line.note = format!("{handshakes} handshakes for {requests} requests: the tool kept its connections, so its median cannot show them; counts judged only");
                }
            }
        }
    }
    Some(line)
}

/// The delay in ms of a behaviour's `tls_handshake_delay` when fixed
/// (`"fixed(20)"`), else its mean is not known here: `None`.
pub fn fixed_delay_ms(behaviour: &serde_json::Value) -> Option<f64> {
    let d = behaviour.get("tls_handshake_delay")?.as_str()?;
    d.trim()
        .strip_prefix("fixed(")?
        .strip_suffix(')')?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::server::connections::{ConnectionCounts, ProtocolCounts};

    fn truth(http1: u64, h2: u64, handshakes: u64) -> Truth {
        let p = |requests: u64, full: u64| ProtocolCounts {
            connections: full,
            tls_full: full,
            tls_resumed: 0,
            requests,
        };
        Truth {
            requests: http1 + h2,
            statuses: BTreeMap::new(),
            no_response: BTreeMap::new(),
            histogram: crate::histogram::new_histogram(),
            connections: ConnectionCounts {
                accepted: handshakes,
                tls_failed: 0,
                protocols: BTreeMap::from([
                    (
                        "http1".into(),
                        p(http1, if h2 == 0 { handshakes } else { 0 }),
                    ),
                    ("h2".into(), p(h2, if h2 == 0 { 0 } else { handshakes })),
                ]),
            },
        }
    }

    #[test]
    fn a_tool_whose_latency_leaves_out_its_handshakes_is_off() {
        let t = truth(1000, 0, 1000);
        let holds = judge(Wire::Tls, Some(20.0), Some(21.0), 0.2, &t).unwrap();
        assert_eq!(holds.within, Some(true), "{}", holds.note);
        let leaves_out = judge(Wire::Tls, Some(20.0), Some(0.4), 0.2, &t).unwrap();
        assert_eq!(leaves_out.within, Some(false));
        assert!(leaves_out.note.contains("leave out"), "{}", leaves_out.note);
        // Kept connections: not judged.
        let kept = judge(Wire::Tls, Some(20.0), Some(0.4), 0.2, &truth(1000, 0, 10)).unwrap();
        assert_eq!(kept.within, None);
    }

    #[test]
    fn h2_means_every_request_over_http2() {
        assert_eq!(
            judge(Wire::Http2, None, None, 0.0, &truth(0, 50, 1))
                .unwrap()
                .within,
            Some(true)
        );
        let h1 = judge(Wire::Http2, None, None, 0.0, &truth(50, 0, 1)).unwrap();
        assert_eq!(h1.within, Some(false));
        assert!(h1.note.contains("HTTP/1.1"), "{}", h1.note);
        assert!(judge(Wire::Plain, None, None, 0.0, &truth(1, 0, 0)).is_none());
        let none = judge(Wire::Tls, Some(20.0), None, 0.0, &truth(0, 0, 0)).unwrap();
        assert_eq!(none.within, Some(false));
        assert_eq!(
            fixed_delay_ms(&serde_json::json!({"tls_handshake_delay": "fixed(20)"})),
            Some(20.0)
        );
    }
}
