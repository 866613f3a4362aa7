//! The Prometheus text exposition (format 0.0.4) of the truth. In: the
//! per-route statistics and the process gauges. Out: `/metrics` text.

use std::fmt::Write as _;

use super::{ConnectionsSnapshot, RouteStats, Truth};
use crate::route::Route;

/// Upper bounds (seconds) of the request duration histogram's buckets.
const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Truth {
    /// Prometheus text exposition (format 0.0.4).
    pub fn prometheus(&self, rss_bytes: u64, leaked_bytes: u64, missions: u64) -> String {
        let routes = self.routes();
        let mut out = String::new();
        requests(&mut out, &routes);
        durations(&mut out, &routes);
        work(&mut out, &routes);
        connections(&mut out, &self.connections.snapshot());
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
            header(&mut out, name, help, "gauge");
            let _ = writeln!(out, "{name} {v}");
        }
        out
    }
}

/// Requests by route and status; those that got no response by why.
fn requests(out: &mut String, routes: &[(Route, RouteStats)]) {
    let name = "mockapi_http_requests_total";
    header(
        out,
        name,
        "Requests answered, by route and status.",
        "counter",
    );
    for (r, s) in routes {
        for (status, n) in &s.statuses {
            let _ = writeln!(
                out,
                "{name}{{route=\"{}\",status=\"{status}\"}} {n}",
                r.name()
            );
        }
    }
    let name = "mockapi_http_requests_unanswered_total";
    header(
        out,
        name,
        "Requests that got no response (no status was sent), by route and reason.",
        "counter",
    );
    for (r, s) in routes {
        for (why, n) in &s.no_response {
            let _ = writeln!(
                out,
                "{name}{{route=\"{}\",reason=\"{}\"}} {n}",
                r.name(),
                why.name()
            );
        }
    }
}

/// Service times as a cumulative histogram per route.
fn durations(out: &mut String, routes: &[(Route, RouteStats)]) {
    let name = "mockapi_http_request_duration_seconds";
    header(
        out,
        name,
        "Service time: request head received to response body complete.",
        "histogram",
    );
    for (r, s) in routes {
        let (route, h) = (r.name(), &s.histogram);
        for b in BUCKETS {
            let upto = (b * 1e6) as u64;
            let n: u64 = h
                .iter_recorded()
                .filter(|v| v.value_iterated_to() <= upto)
                .map(|v| v.count_at_value())
                .sum();
            let _ = writeln!(out, "{name}_bucket{{route=\"{route}\",le=\"{b}\"}} {n}");
        }
        let sum: f64 = h
            .iter_recorded()
            .map(|v| v.value_iterated_to() as f64 * v.count_at_value() as f64)
            .sum::<f64>()
            / 1e6;
        let count = h.len();
        let _ = writeln!(
            out,
            "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(out, "{name}_sum{{route=\"{route}\"}} {sum}");
        let _ = writeln!(out, "{name}_count{{route=\"{route}\"}} {count}");
    }
}

/// The database and upstream counters, and each one's value for a route.
const WORK: [(&str, &str); 4] = [
    (
        "mockapi_db_queries_total",
        "Database queries made while serving requests.",
    ),
    (
        "mockapi_db_query_seconds_total",
        "Time spent in database queries.",
    ),
    (
        "mockapi_upstream_calls_total",
        "Calls to the emulated upstream service.",
    ),
    (
        "mockapi_upstream_seconds_total",
        "Time spent waiting for the upstream service.",
    ),
];

fn work_values(s: &RouteStats) -> [f64; 4] {
    [
        s.db_queries as f64,
        s.db_us as f64 / 1e6,
        s.upstream_calls as f64,
        s.upstream_us as f64 / 1e6,
    ]
}

/// Database and upstream work per route.
fn work(out: &mut String, routes: &[(Route, RouteStats)]) {
    for (i, (name, help)) in WORK.into_iter().enumerate() {
        header(out, name, help, "counter");
        for (r, s) in routes {
            let _ = writeln!(
                out,
                "{name}{{route=\"{}\"}} {}",
                r.name(),
                work_values(s)[i]
            );
        }
    }
}

/// Connections, TLS handshakes and requests by protocol.
fn connections(out: &mut String, c: &ConnectionsSnapshot) {
    let name = "mockapi_connections_accepted_total";
    header(out, name, "TCP connections accepted.", "counter");
    let _ = writeln!(out, "{name} {}", c.accepted);
    let name = "mockapi_connections_total";
    header(
        out,
        name,
        "Connections that carried at least one request, by protocol.",
        "counter",
    );
    for (protocol, p) in &c.protocols {
        let _ = writeln!(out, "{name}{{protocol=\"{protocol}\"}} {}", p.connections);
    }
    let name = "mockapi_tls_handshakes_total";
    header(
        out,
        name,
        "TLS handshakes, by the protocol ALPN chose and kind (full, resumed), or failed.",
        "counter",
    );
    for (protocol, p) in &c.protocols {
        for (kind, n) in [("full", p.tls_full), ("resumed", p.tls_resumed)] {
            let _ = writeln!(out, "{name}{{protocol=\"{protocol}\",kind=\"{kind}\"}} {n}");
        }
    }
    let _ = writeln!(
        out,
        "{name}{{protocol=\"none\",kind=\"failed\"}} {}",
        c.tls_failed
    );
    let name = "mockapi_requests_by_protocol_total";
    header(out, name, "Requests received, by HTTP version.", "counter");
    for (protocol, p) in &c.protocols {
        let _ = writeln!(out, "{name}{{protocol=\"{protocol}\"}} {}", p.requests);
    }
}
