//! The emulated causes by degrees: the share of requests a cause affects,
//! the round trip that makes N+1 cost what it would over a network, and
//! the pressure that makes a leak slow requests as the heap grows.

use serde_json::{json, Value};

use crate::helpers::spawn_app_configured;
use crate::known_target::{put_behaviour, reset, stats, TOKEN};

#[tokio::test]
async fn a_causes_share_picks_that_share_of_requests_the_same_on_every_replay() {
    let app = spawn_app_configured(|c| {
        c.missions = 5;
        c.admin_token = Some(TOKEN.into());
    })
    .await;
    let waypoints = seed_data::mission(42, 3).waypoints.len() as u64;
    // Plain reads take 2 queries, N+1 reads 1 + waypoints: count the latter.
    let affected = |s: &Value| {
        let r = &s["routes"]["get_mission"];
        let (n, q) = (
            r["count"].as_u64().unwrap(),
            r["db_queries"].as_u64().unwrap(),
        );
        (q - 2 * n) / (waypoints - 1)
    };
    let mut seen = Vec::new();
    for _ in 0..2 {
        let body = json!({"seed": 3, "emulate": ["n-plus-one"], "n_plus_one_share": 0.25});
        assert_eq!(put_behaviour(&app, body).await.status(), 200);
        reset(&app).await;
        for _ in 0..400 {
            let _: Value = app.mission("MISSION-0003").await;
        }
        seen.push(affected(&stats(&app).await));
    }
    // 100 expected of 400; the binomial's sd is about 9.
    assert!((60..=140).contains(&seen[0]), "{seen:?}");
    assert_eq!(seen[0], seen[1], "the same seed picks the same requests");
    let b: Value = app.get("/__admin/behaviour").await.json().await.unwrap();
    assert_eq!(b["n_plus_one_share"], 0.25);

    let res = put_behaviour(&app, json!({"n_plus_one_share": 1.5})).await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("n_plus_one_share"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_round_trip_per_query_makes_n_plus_one_cost_what_it_would_over_a_network() {
    let app = spawn_app_configured(|c| {
        c.missions = 5;
        c.admin_token = Some(TOKEN.into());
    })
    .await;
    let waypoints = seed_data::mission(42, 3).waypoints.len() as f64;
    let p50 = |s: &Value| s["routes"]["get_mission"]["p50_ms"].as_f64().unwrap();
    put_behaviour(&app, json!({"db_round_trip_us": 2000})).await;
    reset(&app).await;
    for _ in 0..5 {
        let _: Value = app.mission("MISSION-0003").await;
    }
    let plain = p50(&stats(&app).await);
    // Two queries, two round trips of 2 ms.
    assert!((4.0..8.0).contains(&plain), "{plain}");
    put_behaviour(
        &app,
        json!({"db_round_trip_us": 2000, "emulate": ["n-plus-one"]}),
    )
    .await;
    reset(&app).await;
    for _ in 0..5 {
        let _: Value = app.mission("MISSION-0003").await;
    }
    let slow = p50(&stats(&app).await);
    let expected = 2.0 * (1.0 + waypoints);
    assert!(
        slow >= expected && slow < expected + 6.0,
        "{slow} vs {expected}"
    );
    let res = put_behaviour(&app, json!({"db_round_trip_us": 5_000_000})).await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn a_leak_with_pressure_slows_requests_as_the_heap_grows() {
    let app = spawn_app_configured(|c| {
        c.missions = 5;
        c.admin_token = Some(TOKEN.into());
    })
    .await;
    let body =
        json!({"emulate": ["memory-leak"], "leak_bytes": 4 << 20, "leak_pause_us_per_mib": 1000.0});
    assert_eq!(put_behaviour(&app, body).await.status(), 200);
    reset(&app).await;
    for _ in 0..6 {
        let _: Value = app.mission("MISSION-0003").await;
    }
    let s = stats(&app).await;
    // The sixth request found 20 MiB retained (plus its own 4): 24 ms.
    let max = s["routes"]["get_mission"]["max_ms"].as_f64().unwrap();
    assert!(max >= 24.0, "{max}");
    let p50 = s["routes"]["get_mission"]["p50_ms"].as_f64().unwrap();
    assert!(p50 < max, "pauses grow with the heap: {p50} then {max}");
    let res = put_behaviour(&app, json!({"leak_pause_us_per_mib": -1.0})).await;
    assert_eq!(res.status(), 422);
}
