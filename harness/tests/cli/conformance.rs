//! The conformance suite: both HTTP/1.1 engines, native and hyper (the
//! reference), send the same requests to the same real servers, and must
//! make the same of every answer: the outcome of each request (ok, or its
//! error class), what a step keeps (status, body length) and how many
//! connections it took. The servers: `conformance_server` (every framing,
//! interim answers, trailers, heads longer than the native engine's
//! buffer and than hyper's bound, garbage, resets, hangs, closes at every point
//! of a response, 128 MiB bodies fast and slow) and a real mock-api, plain
//! and over TLS.

use std::sync::Arc;
use std::time::Duration;

use harness::load::client::{Call, Connection, ErrorClass, Outcome};
use harness::load::endpoint::{Endpoint, Engine, Transport};
use harness::scenario::transport::TlsOptions;
use hyper::header::HeaderName;
use hyper::Method;

use crate::conformance_server::{self, MIB};
use crate::helpers::{spawn_target, spawn_target_with, EXCLUSIVE};

/// A case: a request sent `times` on one user's connection.
struct Case {
    path: &'static str,
    method: Method,
    expect: u16,
    times: usize,
    /// Between requests (lets a server's close arrive first).
    pause_ms: u64,
    keep: bool,
    /// The first request's outcome: `None` for ok.
    want: Option<ErrorClass>,
    /// Connections the server accepted for the case, when it is certain.
    conns: Option<usize>,
}

fn case(path: &'static str, want: Option<ErrorClass>, times: usize, conns: Option<usize>) -> Case {
    Case {
        path,
        method: Method::GET,
        expect: 200,
        times,
        pause_ms: 0,
        keep: true,
        want,
        conns,
    }
}

fn cases() -> Vec<Case> {
    use ErrorClass::*;
    vec![
        case("/length", None, 3, Some(1)),
        case("/chunked", None, 3, Some(1)),
        case("/trailers", None, 3, Some(1)),
        case("/close-delimited", None, 3, Some(3)),
        Case {
            method: Method::HEAD,
            ..case("/head", None, 3, Some(1))
        },
        Case {
            expect: 204,
            ..case("/no-content", None, 3, Some(1))
        },
        Case {
            expect: 304,
            ..case("/not-modified", None, 3, Some(1))
        },
        case("/interim", None, 3, Some(1)),
        case("/connection-close", None, 3, Some(3)),
        case("/http10", None, 3, Some(3)),
        Case {
            pause_ms: 60,
            ..case("/stale", None, 3, Some(3))
        },
        case("/extra-bytes", None, 2, None),
        case("/status-500", Some(Status5xx), 2, Some(1)),
        case("/status-404", Some(Status4xx), 2, Some(1)),
        case("/status-302", Some(StatusOther), 2, Some(1)),
        case("/garbage", Some(Request), 2, Some(2)),
        case("/reset-before-head", Some(Request), 2, Some(2)),
        case("/close-before-head", Some(Request), 2, Some(2)),
        case("/close-in-head", Some(Request), 2, Some(2)),
        case("/bad-length", Some(Request), 1, Some(1)),
        case("/reset-in-body", Some(Body), 2, Some(2)),
        case("/close-in-body", Some(Body), 2, Some(2)),
        case("/close-in-chunk", Some(Body), 2, Some(2)),
        case("/close-before-last-chunk", Some(Body), 2, Some(2)),
        case("/bad-chunk", Some(Body), 1, Some(1)),
        case("/long-head", None, 2, Some(1)),
        case("/too-long-head", Some(Request), 1, Some(1)),
        case("/hang", Some(Timeout), 1, Some(1)),
        case("/hang-in-body", Some(Timeout), 1, Some(1)),
        case("/dribble", Some(Timeout), 1, Some(1)),
        case("/chunked-large", None, 2, Some(1)),
        case("/kept-large", None, 2, Some(1)),
        Case {
            keep: false,
            ..case("/big-fast", None, 2, Some(1))
        },
        Case {
            keep: false,
            ..case("/big-slow", None, 1, Some(1))
        },
    ]
}

/// What an engine made of a case.
#[derive(Debug, PartialEq)]
struct Seen {
    /// Each request: `None` for ok, else its class.
    outcomes: Vec<Option<ErrorClass>>,
    /// Each kept answer's status and body length.
    kept: Vec<(u16, usize)>,
    conns: usize,
}

fn transport(engine: Engine, ca_cert: Option<std::path::PathBuf>) -> Transport {
    Transport {
        engine,
        tls: TlsOptions {
            ca_cert,
            ..TlsOptions::default()
        },
        ..Transport::default()
    }
}

async fn send(
    connection: &mut Connection,
    method: &Method,
    path: &str,
    expect: u16,
    keep: bool,
    body: Option<String>,
) -> (Option<ErrorClass>, Option<(u16, usize)>) {
    // Both engines send the W3C trace context the flow gives them.
    const TRACE: &[u8; 55] = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let headers: [(HeaderName, String); 1] =
        [(HeaderName::from_static("x-conformance"), "1".to_owned())];
    let call = Call {
        method,
        path,
        headers: &headers,
        expect: &[expect],
        keep,
        trace: Some(TRACE),
    };
    let (outcome, kept) = connection.call(call, body).await;
    let class = match outcome {
        Outcome::Ok => None,
        Outcome::Error(class, _) => Some(class),
    };
    (class, kept.map(|k| (k.status, k.body.len())))
}

async fn run_case(server: &conformance_server::CaseServer, engine: Engine, c: &Case) -> Seen {
    let timeout = if c.path.starts_with("/big") {
        60_000
    } else {
        800
    };
    let endpoint = Endpoint::new(
        &server.url,
        Duration::from_millis(timeout),
        &transport(engine, None),
    );
    let mut connection = Connection::new(Arc::new(endpoint));
    let before = server.accepted();
    let mut seen = Seen {
        outcomes: Vec::new(),
        kept: Vec::new(),
        conns: 0,
    };
    for i in 0..c.times {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(c.pause_ms)).await;
        }
        let (class, kept) = send(&mut connection, &c.method, c.path, c.expect, c.keep, None).await;
        seen.outcomes.push(class);
        seen.kept.extend(kept);
    }
    drop(connection);
    // Let the server's accept loop catch up.
    tokio::time::sleep(Duration::from_millis(20)).await;
    seen.conns = server.accepted() - before;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_engines_make_the_same_of_every_framing_and_failure() {
    let _exclusive = EXCLUSIVE.lock().await;
    let server = conformance_server::start().await;
    let mut table = String::from("case                      native                        hyper\n");
    let mut wrong = Vec::new();
    for c in cases() {
        let native = run_case(&server, Engine::Native, &c).await;
        let hyper = run_case(&server, Engine::Hyper, &c).await;
        table.push_str(&format!(
            "{:<25} {:<29} {:?}\n",
            c.path,
            format!("{:?}", native.outcomes),
            hyper.outcomes
        ));
        let mut why = Vec::new();
        if native.outcomes[0] != c.want {
            why.push(format!(
                "native's first outcome {:?}, want {:?}",
                native.outcomes[0], c.want
            ));
        }
        if native.outcomes != hyper.outcomes || native.kept != hyper.kept {
            why.push(format!("native {native:?} but hyper {hyper:?}"));
        }
        if let Some(n) = c.conns {
            if native.conns != n || hyper.conns != n {
                why.push(format!(
                    "connections: native {}, hyper {}, want {n}",
                    native.conns, hyper.conns
                ));
            }
        }
        if !why.is_empty() {
            wrong.push(format!("{}: {}", c.path, why.join("; ")));
        }
    }
    eprintln!("{table}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_bodies_stop_at_the_cap_and_large_bodies_are_read_whole() {
    let _exclusive = EXCLUSIVE.lock().await;
    let server = conformance_server::start().await;
    for engine in Engine::ALL {
        let c = case("/kept-large", None, 1, None);
        let seen = run_case(&server, engine, &c).await;
        assert_eq!(seen.kept, vec![(200, 4 * MIB)], "{engine:?}");
        let c = case("/chunked-large", None, 1, None);
        let seen = run_case(&server, engine, &c).await;
        assert_eq!(seen.kept, vec![(200, 4 * MIB)], "{engine:?}");
    }
}

/// The same requests to a real mock-api, plain and over TLS: the same
/// outcomes, statuses and bodies from both engines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_engines_get_the_same_answers_from_mock_api_plain_and_over_tls() {
    let _exclusive = EXCLUSIVE.lock().await;
    let plain = spawn_target().await;
    let tls = spawn_target_with(|c| c.tls = true).await;
    let body = r#"{"lat": 38.9, "lon": -77.0}"#;
    let requests: [(Method, &str, u16, Option<&str>); 5] = [
        (Method::GET, "/healthz", 200, None),
        (Method::GET, "/api/missions/MISSION-0001", 200, None),
        (Method::GET, "/api/missions/NOPE-1", 200, None),
        (
            Method::PUT,
            "/api/missions/MISSION-0002/waypoints/wp-001",
            200,
            Some(body),
        ),
        (
            Method::GET,
            "/api/missions?status=active&region=CENTCOM",
            200,
            None,
        ),
    ];
    for target in [&plain, &tls] {
        let url = reqwest::Url::parse(&target.url).unwrap();
        let mut answers = Vec::new();
        for engine in Engine::ALL {
            let t = transport(engine, target.tls_cert.clone());
            let endpoint = Arc::new(Endpoint::new(&url, Duration::from_secs(5), &t));
            let mut connection = Connection::new(Arc::clone(&endpoint));
            let mut seen = Vec::new();
            for (method, path, expect, body) in &requests {
                let out = send(
                    &mut connection,
                    method,
                    path,
                    *expect,
                    true,
                    body.map(str::to_owned),
                )
                .await;
                seen.push(out);
            }
            let opened = endpoint
                .counts
                .opened
                .load(std::sync::atomic::Ordering::Relaxed);
            answers.push((seen, opened));
        }
        eprintln!(
            "{}: native {:?}\n   hyper {:?}",
            target.url, answers[0], answers[1]
        );
        assert_eq!(answers[0], answers[1], "{}", target.url);
        let (seen, opened) = &answers[0];
        assert_eq!(*opened, 1, "one keep-alive connection for every request");
        assert_eq!(seen[0].0, None);
        assert_eq!(seen[2].0, Some(ErrorClass::Status4xx));
        assert!(
            seen[1].1.is_some_and(|(s, len)| s == 200 && len > 50),
            "{seen:?}"
        );
    }
}
