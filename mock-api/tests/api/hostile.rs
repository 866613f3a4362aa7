//! mock-api against hostile clients: a client dribbling its headers is
//! dropped after the header timeout, a body that does not arrive is 408,
//! past the connection cap new connections are answered 503 while the open
//! ones keep their service, 10,000 idle connections do not stop it
//! answering others, and `--admin-listen` keeps the admin and truth
//! endpoints off the API's address.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{assert_problem, spawn_app_configured, start_binary, EXCLUSIVE};

/// Reads until the server closes the connection (or `bound` passes);
/// returns what arrived and when the close came.
async fn read_to_close(stream: &mut TcpStream, bound: Duration) -> (String, Option<Duration>) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = bound.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (String::from_utf8_lossy(&got).into(), Some(start.elapsed()))
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into(), None),
        }
    }
}

#[tokio::test]
async fn a_client_dribbling_its_headers_is_dropped_after_the_header_timeout() {
    let app = spawn_app_configured(|c| {
        c.missions = 3;
        c.header_timeout = Duration::from_millis(500);
    })
    .await;
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let dribble = async {
        // One header byte every 50 ms, forever (or until the server hangs up).
        for i in 0..200u32 {
            let byte = [b'a' + (i % 26) as u8];
            if slow.write_all(&byte).await.is_err() {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        started.elapsed()
    };
    let others = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.get("/healthz").await.status()
    };
    let (dropped_after, other) = tokio::join!(dribble, others);
    assert_eq!(other, StatusCode::OK, "others are served meanwhile");
    assert!(
        dropped_after >= Duration::from_millis(400) && dropped_after < Duration::from_secs(5),
        "dropped after {dropped_after:?} (header timeout 500 ms)"
    );
    // The same bound closes an idle keep-alive connection.
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    let (_, closed) = read_to_close(&mut idle, Duration::from_secs(5)).await;
    let closed = closed.expect("an idle connection is closed within 5 s");
    assert!(
        closed >= Duration::from_millis(400),
        "closed after {closed:?}"
    );
}

#[tokio::test]
async fn a_body_that_does_not_arrive_is_408() {
    let app = spawn_app_configured(|c| {
        c.missions = 3;
        c.body_timeout = Duration::from_millis(500);
    })
    .await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(
            b"PUT /api/missions/MISSION-0001/waypoints/wp-001 HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"lat\": 1,",
        )
        .await
        .unwrap();
    let (answer, _) = read_to_close(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    // Nothing was written.
    assert_eq!(app.mission("MISSION-0001").await["version"], 1);
}

#[tokio::test]
async fn past_the_cap_new_connections_get_503_and_open_ones_keep_their_service() {
    let app = spawn_app_configured(|c| {
        c.missions = 3;
        c.max_connections = 4;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let res = reqwest::Client::new()
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["retry-after"], "1");
    let detail = assert_problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(detail.contains("--max-connections"), "{detail}");
    // A held connection is served as usual.
    let conn = &mut held[0];
    conn.write_all(
        b"GET /api/missions/MISSION-0001 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let (answer, _) = read_to_close(conn, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Its slot is free again once it closed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let res = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Idle connections the test opens.
const IDLE: usize = 10_000;

/// Raises this process's descriptor limit (the server it spawns inherits
/// it) to what 10,000 idle connections and a margin need, up to the hard
/// limit; a hard limit below that fails the test, naming it, rather than
/// opening fewer connections than the test's name says.
fn allow_idle_connections() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let need = (IDLE + 500) as u64;
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|c| c >= need) || limit.current.is_none() {
        return;
    }
    let hard = limit.maximum;
    assert!(
        hard.is_none_or(|h| h >= need),
        "the descriptor hard limit ({hard:?}) is below the {need} this test needs: raise it (ulimit -Hn)"
    );
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(need),
            maximum: hard,
        },
    )
    .expect("raise the descriptor limit");
}

#[tokio::test]
async fn ten_thousand_idle_connections_do_not_stop_it_answering_others() {
    let _exclusive = EXCLUSIVE.lock().await;
    allow_idle_connections();
    let dir = tempfile::tempdir().unwrap();
    // Idle connections are closed after --header-timeout: longer than the test.
    let server = start_binary(
        &dir.path().join("idle.db"),
        &["--missions", "20", "--header-timeout", "5m"],
    );
    let addr = server.base.trim_start_matches("http://").to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = format!("{}/api/missions/MISSION-0001", server.base);
    let mut before = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
        before.push(t.elapsed());
    }

    let started = Instant::now();
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(
            TcpStream::connect(&addr)
                .await
                .expect("connect an idle connection"),
        );
    }
    let opened_in = started.elapsed();
    let mut after = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
        after.push(t.elapsed());
    }
    // The idle connections were accepted and are still served.
    for conn in idle.iter_mut().step_by(1000) {
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let (answer, _) = read_to_close(conn, Duration::from_secs(10)).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    before.sort();
    after.sort();
    let (median_before, median_after) = (before[100], after[100]);
    let worst = *after.last().unwrap();
    eprintln!(
        "{IDLE} idle connections opened in {opened_in:?}; mission read median {median_before:?} \
         before, {median_after:?} with them open (worst {worst:?})"
    );
    assert_eq!(idle.len(), IDLE);
    // Not a speed target (BENCHMARKS.md has those): a bound only a server
    // that does work per idle connection on every request would break.
    let bound = median_before * 10 + Duration::from_millis(10);
    assert!(
        median_after < bound,
        "the median read went from {median_before:?} to {median_after:?} with {IDLE} idle connections open"
    );
    assert!(worst < Duration::from_secs(2), "a request took {worst:?}");
}

#[tokio::test]
async fn admin_listen_keeps_admin_and_truth_off_the_api_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_binary(
        &dir.path().join("admin.db"),
        &[
            "--missions",
            "3",
            "--admin-listen",
            "127.0.0.1:0",
            "--admin-token",
            "secret-admin-token",
        ],
    );
    let line = server.next_line();
    let admin = line
        .strip_prefix("admin listening on ")
        .unwrap_or_else(|| panic!("second line {line:?}"))
        .to_owned();
    assert!(!admin.ends_with(":0") && admin != server.base, "{admin}");
    let client = reqwest::Client::new();
    let get = |url: String| client.get(url).send();
    for path in ["/__admin/stats", "/__admin/behaviour", "/metrics"] {
        let res = get(format!("{}{path}", server.base)).await.unwrap();
        assert_problem(res, StatusCode::NOT_FOUND).await;
        let res = get(format!("{admin}{path}")).await.unwrap();
        assert_eq!(res.status(), 200, "{admin}{path}");
    }
    let res = client
        .put(format!("{}/__admin/behaviour", server.base))
        .bearer_auth("secret-admin-token")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "the API address has no admin, token or not"
    );
    let res = client
        .put(format!("{admin}/__admin/behaviour"))
        .bearer_auth("secret-admin-token")
        .json(&serde_json::json!({"seed": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The API is on the API address only; health on both.
    let res = get(format!("{}/api/missions/MISSION-0001", server.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = get(format!("{admin}/api/missions/MISSION-0001"))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(get(format!("{admin}/healthz")).await.unwrap().status(), 200);
    // The API address documents what it serves: no admin operations.
    let doc: serde_json::Value = get(format!("{}/openapi.json", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/missions/{id}"));
    assert!(
        !paths
            .keys()
            .any(|p| p.starts_with("/__admin") || p == "/metrics"),
        "{:?}",
        paths.keys()
    );
    // The truth counted the API request.
    let stats: serde_json::Value = get(format!("{admin}/__admin/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats.to_string().contains("get_mission"), "{stats}");
}
