//! A short, bounded version of the seed document's load at its spike: 750
//! concurrent clients, each with its own keep-alive connection, no think
//! time, the 60/20/20 mix (20% writes). The server must answer with zero 5xx
//! and never "database is locked".

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use crate::helpers::spawn_app;

const CLIENTS: u64 = 750;
const RUN_FOR: Duration = Duration::from_secs(4);
const MAX_REQUESTS_PER_CLIENT: u32 = 400;

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    ok: AtomicU64,
    server_errors: AtomicU64,
    locked: AtomicU64,
    other: AtomicU64,
    transport: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seven_hundred_fifty_clients_without_think_time_get_no_5xx_and_no_lock_errors() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let app = spawn_app().await;
    let base = format!("http://{}", app.addr);
    let tally = Arc::new(Tally::default());
    let deadline = Instant::now() + RUN_FOR;

    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let base = base.clone();
            let tally = Arc::clone(&tally);
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap();
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(i);
                for _ in 0..MAX_REQUESTS_PER_CLIENT {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let mission = format!("MISSION-{:04}", rng.random_range(1..=1000));
                    let pick = rng.random_range(0..10);
                    let req = if pick < 6 {
                        client.get(format!("{base}/api/missions/{mission}"))
                    } else if pick < 8 {
                        let lat = 38.8977 + rng.random_range(-0.1..0.1);
                        let lon = -77.0365 + rng.random_range(-0.1..0.1);
                        client
                            .put(format!("{base}/api/missions/{mission}/waypoints/wp-001"))
                            .json(&serde_json::json!({"lat": lat, "lon": lon}))
                    } else {
                        client.get(format!("{base}/api/missions?status=active&region=CENTCOM"))
                    };
                    tally.requests.fetch_add(1, Ordering::Relaxed);
                    match req.send().await {
                        Ok(res) => {
                            let status = res.status();
                            let body = res.text().await.unwrap_or_default();
                            if body.contains("locked") {
                                tally.locked.fetch_add(1, Ordering::Relaxed);
                            }
                            if status.is_server_error() {
                                tally.server_errors.fetch_add(1, Ordering::Relaxed);
                            } else if status == 200 {
                                tally.ok.fetch_add(1, Ordering::Relaxed);
                            } else {
                                tally.other.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(_) => {
                            tally.transport.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }

    let requests = tally.requests.load(Ordering::Relaxed);
    let ok = tally.ok.load(Ordering::Relaxed);
    eprintln!("load: {requests} requests, {ok} ok in {RUN_FOR:?} from {CLIENTS} clients");
    assert_eq!(
        tally.server_errors.load(Ordering::Relaxed),
        0,
        "5xx answers"
    );
    assert_eq!(
        tally.locked.load(Ordering::Relaxed),
        0,
        "'database is locked' answers"
    );
    assert_eq!(
        tally.transport.load(Ordering::Relaxed),
        0,
        "connection failures"
    );
    assert_eq!(tally.other.load(Ordering::Relaxed), 0, "non-200 answers");
    assert!(
        requests >= CLIENTS,
        "every client made at least one request"
    );
    assert_eq!(ok, requests);
}
