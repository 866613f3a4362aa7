//! kill -9 under write load: the real binary takes concurrent creates and
//! waypoint moves, is killed with SIGKILL mid-stream, and is restarted on the
//! same file. The file passes `PRAGMA integrity_check`, and every write that
//! was acknowledged (2xx received) reads back; a write in flight at the kill
//! may or may not have landed, and nothing else may have.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{start_binary, Binary};

fn start(db: &Path) -> Binary {
    start_binary(db, &["--missions", "20"])
}

/// What one writer saw: acknowledged creates (id, name) and moves of its
/// own mission's first waypoint (lat), and the one write in flight, if any.
#[derive(Default)]
struct Seen {
    created: Vec<(String, String)>,
    moved: Vec<f64>,
    in_flight_create: Option<String>,
    in_flight_move: Option<f64>,
}

async fn writer(client: reqwest::Client, base: String, w: usize, stop: Instant) -> Seen {
    let mut seen = Seen::default();
    let mission = format!("MISSION-{:04}", w + 1);
    for i in 0u32..10_000 {
        if Instant::now() > stop {
            break;
        }
        if i % 2 == 0 {
            let name = format!("durable w{w} i{i}");
            seen.in_flight_create = Some(name.clone());
            let res = client
                .post(format!("{base}/api/missions"))
                .json(&json!({
                    "name": name, "status": "planned", "region": "EUCOM", "priority": 3,
                    "commander": "Col. Kill", "unit": "Nine Wing",
                    "waypoints": [{"lat": 1.0, "lon": 1.0}, {"lat": 2.0, "lon": 2.0}]
                }))
                .send()
                .await;
            let Ok(res) = res else { break };
            if res.status() != 201 {
                break;
            }
            let Ok(body) = res.json::<Value>().await else {
                break;
            };
            seen.in_flight_create = None;
            seen.created
                .push((body["id"].as_str().unwrap().to_owned(), name));
        } else {
            let lat = f64::from(w as u32) + f64::from(i) / 100_000.0;
            seen.in_flight_move = Some(lat);
            let res = client
                .put(format!("{base}/api/missions/{mission}/waypoints/wp-001"))
                .json(&json!({"lat": lat, "lon": 0.5}))
                .send()
                .await;
            match res {
                Ok(r) if r.status() == 200 => {
                    seen.in_flight_move = None;
                    seen.moved.push(lat);
                }
                _ => break,
            }
        }
    }
    seen
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_and_the_file_stays_sound() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill9.db");
    let mut server = start(&db);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let writers = 8;
    let stop = Instant::now() + Duration::from_secs(5);
    let tasks: Vec<_> = (0..writers)
        .map(|w| tokio::spawn(writer(client.clone(), server.base.clone(), w, stop)))
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.child.kill().expect("SIGKILL");
    let _ = server.child.wait();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    let acknowledged: usize = seen.iter().map(|s| s.created.len() + s.moved.len()).sum();
    assert!(
        acknowledged > 20,
        "only {acknowledged} writes before the kill"
    );
    eprintln!("{acknowledged} writes acknowledged before SIGKILL");
    drop(server);

    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }

    let server = start(&db);
    for (w, s) in seen.iter().enumerate() {
        for (id, name) in &s.created {
            let res = client
                .get(format!("{}/api/missions/{id}", server.base))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "acknowledged create {id} lost");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["name"], name.as_str());
            assert_eq!(body["waypoints"].as_array().unwrap().len(), 2);
        }
        let mission = format!("MISSION-{:04}", w + 1);
        let body: Value = server.json(&format!("/api/missions/{mission}")).await;
        let lat = body["waypoints"][0]["lat"].as_f64().unwrap();
        let acceptable: Vec<f64> = s
            .moved
            .last()
            .into_iter()
            .chain(&s.in_flight_move)
            .copied()
            .collect();
        if !acceptable.is_empty() {
            assert!(
                acceptable.contains(&lat),
                "{mission} wp-001 lat {lat}: the last acknowledged move was {:?}, in flight {:?}",
                s.moved.last(),
                s.in_flight_move
            );
        }
        // Versions count every move that landed: at least the acknowledged ones.
        assert!(body["version"].as_i64().unwrap() > s.moved.len() as i64);
    }
    // Nothing beyond what was sent: missions are the seeded 20, the
    // acknowledged creates, and at most one in flight per writer.
    let created: usize = seen.iter().map(|s| s.created.len()).sum();
    let in_flight = seen.iter().filter(|s| s.in_flight_create.is_some()).count();
    let stats: Value = server.json("/__admin/stats").await;
    let missions = stats["missions"].as_u64().unwrap() as usize;
    assert!(
        (20 + created..=20 + created + in_flight).contains(&missions),
        "{missions} missions after {created} acknowledged creates and {in_flight} in flight"
    );
}
