//! HTTPS and HTTP/2: `--tls` with the certificate mock-api made, both
//! protocols by ALPN and h2c on a plain listener, each counted in the
//! truth; and the HTTP/2 defences: a rapid-reset flood (CVE-2023-44487)
//! from a real HTTP/2 client library neither takes the target down nor
//! starves a normal client beside it.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode, Version};
use serde_json::Value;

use crate::helpers::{spawn_app_configured, EXCLUSIVE};

/// A client that trusts only the certificate mock-api wrote.
fn trusting(cert: &std::path::Path) -> reqwest::ClientBuilder {
    let pem = std::fs::read(cert).expect("the certificate file mock-api wrote");
    let cert = reqwest::Certificate::from_pem(&pem).expect("a PEM certificate");
    Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
}

#[tokio::test]
async fn tls_serves_http2_and_http1_with_the_certificate_it_wrote_and_counts_them() {
    let app = spawn_app_configured(|c| c.tls = true).await;
    let cert = app.tls_cert.clone().expect("--tls writes a certificate");
    assert_eq!(
        cert,
        app.db_path.with_file_name("api.db.cert.pem"),
        "beside the database"
    );
    let url = format!("https://{}/api/missions/MISSION-0001", app.addr);

    let h2 = trusting(&cert).build().unwrap();
    for _ in 0..3 {
        let res = h2.get(&url).send().await.expect("HTTPS over HTTP/2");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.version(), Version::HTTP_2, "ALPN chose h2");
        let mission: Value = res.json().await.unwrap();
        assert_eq!(mission["id"], "MISSION-0001");
    }
    let h1 = trusting(&cert).http1_only().build().unwrap();
    let res = h1.get(&url).send().await.expect("HTTPS over HTTP/1.1");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.version(), Version::HTTP_11);

    // A client that does not trust the certificate fails its handshake.
    let untrusting = Client::builder()
        .tls_built_in_root_certs(true)
        .build()
        .unwrap();
    let err = untrusting.get(&url).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");

    let stats: Value = h1
        .get(format!("https://{}/__admin/stats", app.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = &stats["connections"];
    assert_eq!(stats["schema_version"], 3);
    assert_eq!(c["protocols"]["h2"]["connections"], 1, "{c}");
    assert_eq!(c["protocols"]["h2"]["requests"], 3, "{c}");
    assert_eq!(c["protocols"]["h2"]["tls_full"], 1, "{c}");
    // The stats request itself, the HTTP/1.1 client's second, is a read
    // of the truth: not counted.
    assert_eq!(c["protocols"]["http1"]["connections"], 1, "{c}");
    assert_eq!(c["protocols"]["http1"]["requests"], 1, "{c}");
    assert_eq!(c["protocols"]["http1"]["tls_full"], 1, "{c}");
    assert_eq!(c["tls_failed"], 1, "{c}");
    assert_eq!(c["accepted"], 3, "{c}");

    let metrics = h1
        .get(format!("https://{}/metrics", app.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "mockapi_connections_total{protocol=\"h2\"} 1",
        "mockapi_tls_handshakes_total{protocol=\"h2\",kind=\"full\"} 1",
        "mockapi_tls_handshakes_total{protocol=\"none\",kind=\"failed\"} 1",
        "mockapi_requests_by_protocol_total{protocol=\"h2\"} 3",
        "mockapi_requests_by_protocol_total{protocol=\"http1\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn forced_protocols_and_h2c_on_a_plain_listener() {
    // Plain: HTTP/1.1, and HTTP/2 with prior knowledge (h2c).
    let app = spawn_app_configured(|_| {}).await;
    let h2c = Client::builder().http2_prior_knowledge().build().unwrap();
    let res = h2c.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        (res.status(), res.version()),
        (StatusCode::OK, Version::HTTP_2)
    );
    let res = app.get("/healthz").await;
    assert_eq!(res.version(), Version::HTTP_11);

    // --tls --http1-only: ALPN offers only http/1.1.
    let app = spawn_app_configured(|c| {
        c.tls = true;
        c.http1_only = true;
    })
    .await;
    let client = trusting(app.tls_cert.as_ref().unwrap()).build().unwrap();
    let res = client
        .get(format!("https://{}/healthz", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), Version::HTTP_11);

    // --tls --http2-only: a client that offers only http/1.1 is refused.
    let app = spawn_app_configured(|c| {
        c.tls = true;
        c.http2_only = true;
    })
    .await;
    let cert = app.tls_cert.clone().unwrap();
    let url = format!("https://{}/healthz", app.addr);
    let res = trusting(&cert).build().unwrap().get(&url).send().await;
    assert_eq!(res.unwrap().version(), Version::HTTP_2);
    let h1 = trusting(&cert).http1_only().build().unwrap();
    assert!(h1.get(&url).send().await.is_err());
}

/// Latencies of `n` sequential `GET /healthz` on a fresh HTTP/1.1 client.
async fn normal_client(base: &str, n: usize) -> Vec<Duration> {
    let client = Client::new();
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let res = client.get(format!("{base}/healthz")).send().await;
        assert_eq!(res.expect("the normal client is served").status(), 200);
        times.push(start.elapsed());
    }
    times.sort();
    times
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rapid_reset_flood_neither_stops_the_target_nor_starves_others() {
    let _exclusive = EXCLUSIVE.lock().await;
    let app = spawn_app_configured(|_| {}).await;
    let base = format!("http://{}", app.addr);
    let alone = normal_client(&base, 200).await;

    // The flood: h2c connections opening streams and cancelling each at
    // once, as fast as the client library allows, for 3 s; a connection
    // the server ends, the attacker opens again.
    let (addr, target) = (app.addr, base.clone());
    let flood = tokio::spawn(async move {
        let (mut opened, mut calmed, until) = (0u64, 0u64, Instant::now() + Duration::from_secs(3));
        while Instant::now() < until {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (client, connection) = h2::client::handshake(tcp).await.expect("h2c handshake");
            let driver = tokio::spawn(connection);
            if let Ok(mut client) = client.ready().await {
                while Instant::now() < until {
                    let url = format!("{target}/api/missions/MISSION-0001");
                    let request = axum::http::Request::get(url).body(()).unwrap();
                    let Ok((_response, mut stream)) = client.send_request(request, true) else {
                        break;
                    };
                    stream.send_reset(h2::Reason::CANCEL);
                    opened += 1;
                    if opened % 64 == 0 {
                        // Lets the connection's driver put the frames on the wire.
                        tokio::task::yield_now().await;
                    }
                    match client.ready().await {
                        Ok(c) => client = c,
                        Err(_) => break,
                    }
                }
            }
            let ended = tokio::time::timeout(Duration::from_secs(5), driver).await;
            if let Ok(Ok(Err(e))) = ended {
                calmed += u64::from(e.reason() == Some(h2::Reason::ENHANCE_YOUR_CALM));
            }
        }
        (opened, calmed)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let beside = normal_client(&format!("http://{}", app.addr), 200).await;
    let flooding = !flood.is_finished();
    let (opened, calmed) = flood.await.unwrap();
    let p = |t: &[Duration], q: f64| t[((t.len() - 1) as f64 * q) as usize];
    eprintln!(
        "rapid reset: {opened} streams opened and cancelled in 3 s; {calmed} connections ended \
         with GOAWAY ENHANCE_YOUR_CALM; normal client alone p50 {:?} p99 {:?}, beside the \
         flood p50 {:?} p99 {:?}",
        p(&alone, 0.5),
        p(&alone, 0.99),
        p(&beside, 0.5),
        p(&beside, 0.99)
    );
    assert!(calmed >= 1, "the server ends a rapid-reset connection");
    assert!(flooding, "the normal client ran while the flood went on");
    assert!(opened >= 10_000, "a flood: {opened} streams");
    // Not starved: the normal client's median stays within 50 ms.
    assert!(p(&beside, 0.5) < Duration::from_millis(50), "{beside:?}");
    // And the target still serves, over HTTP/2 as well.
    assert_eq!(app.get("/healthz").await.status(), 200);
    let h2c = Client::builder().http2_prior_knowledge().build().unwrap();
    let res = h2c.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn faults_and_the_connection_cap_hold_under_tls_and_http2() {
    // A reset fault: the request's connection is reset under TLS too,
    // over HTTP/2 (the whole connection: TCP has no stream to reset),
    // and counted as a request with no response.
    let app = spawn_app_configured(|c| {
        c.tls = true;
        c.missions = 2;
        c.fault = vec!["get_mission=reset:1".into()];
    })
    .await;
    let cert = app.tls_cert.clone().unwrap();
    let h2 = trusting(&cert).build().unwrap();
    let base = format!("https://{}", app.addr);
    let err = h2
        .get(format!("{base}/api/missions/MISSION-0001"))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status(), "{err:?}");
    let res = h2.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(
        (res.status(), res.version()),
        (StatusCode::OK, Version::HTTP_2)
    );
    let stats: Value = h2
        .get(format!("{base}/__admin/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["routes"]["get_mission"]["no_response"]["reset"], 1);

    // The cap: one connection served; a second one's request is answered
    // 503 problem+json over TLS, and the first keeps its service.
    let app = spawn_app_configured(|c| {
        c.tls = true;
        c.max_connections = 1;
    })
    .await;
    let cert = app.tls_cert.clone().unwrap();
    let base = format!("https://{}", app.addr);
    let first = trusting(&cert).http1_only().build().unwrap();
    assert_eq!(
        first
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let second = trusting(&cert).http1_only().build().unwrap();
    let refused = second.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        first
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
