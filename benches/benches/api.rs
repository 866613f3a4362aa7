//! The mission API's three seed-document requests, on a real SQLite file at
//! 1,000 and 100,000 missions: through the router without a socket
//! (`tower::ServiceExt::oneshot`), and end to end through a real socket
//! (mock-api on 127.0.0.1 port 0, a reqwest client), so criterion's
//! statistics and change detection cover the whole request path.
//!
//! `cargo bench -p benches --bench api`

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mock_api::{Application, Config};
use seed_data::Generator;
use tower::ServiceExt;

fn requests(missions: u32) -> Vec<(&'static str, &'static str, String, Option<&'static str>)> {
    let heavy = Generator::new(42, 1000.min(missions))
        .max_by_key(|m| m.waypoints.len())
        .expect("missions")
        .summary
        .id;
    vec![
        (
            "mission read (typical)",
            "GET",
            "/api/missions/MISSION-0001".to_owned(),
            None,
        ),
        (
            "mission read (most waypoints)",
            "GET",
            format!("/api/missions/{heavy}"),
            None,
        ),
        (
            "waypoint update",
            "PUT",
            "/api/missions/MISSION-0002/waypoints/wp-001".to_owned(),
            Some(r#"{"lat": 38.9, "lon": -77.0}"#),
        ),
        (
            "search active CENTCOM",
            "GET",
            "/api/missions?status=active&region=CENTCOM".to_owned(),
            None,
        ),
    ]
}

fn api(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for missions in [1_000u32, 100_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::ephemeral(&dir.path().join("api.db"));
        config.missions = missions;
        let app = rt.block_on(Application::build(&config)).expect("build");
        let router = mock_api::app(app.state().clone());
        let base = format!("http://{}", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = rt.spawn(app.run_until(async {
            let _ = stopped.await;
        }));

        let mut g = c.benchmark_group(format!("handlers via oneshot, {missions} missions"));
        g.measurement_time(Duration::from_secs(4));
        for (name, method, path, body) in requests(missions) {
            g.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.to_async(&rt).iter(|| {
                    let router = router.clone();
                    let req = Request::builder()
                        .method(method)
                        .uri(&path)
                        .header("content-type", "application/json")
                        .body(body.map_or_else(Body::empty, Body::from))
                        .expect("request");
                    async move {
                        let res = router.oneshot(req).await.expect("infallible");
                        assert!(res.status().is_success());
                        axum::body::to_bytes(res.into_body(), usize::MAX)
                            .await
                            .expect("body")
                            .len()
                    }
                })
            });
        }
        g.finish();

        let client = reqwest::Client::new();
        let mut g = c.benchmark_group(format!("end to end over 127.0.0.1, {missions} missions"));
        g.measurement_time(Duration::from_secs(4));
        for (name, method, path, body) in requests(missions) {
            let url = format!("{base}{path}");
            g.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.to_async(&rt).iter(|| {
                    let mut req = client.request(method.parse().expect("method"), &url);
                    if let Some(body) = body {
                        req = req.header("content-type", "application/json").body(body);
                    }
                    async move {
                        let res = req.send().await.expect("send");
                        assert!(res.status().is_success());
                        res.bytes().await.expect("body").len()
                    }
                })
            });
        }
        g.finish();
        let _ = stop.send(());
        let _ = rt.block_on(server);
    }
}

criterion_group!(benches, api);
criterion_main!(benches);
