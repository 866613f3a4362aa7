//! The real `mock-api` binary: start-up line, flags, graceful shutdown.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::helpers::{start_binary, Binary};

fn terminate(server: &mut Binary) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    for _ in 0..100 {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("mock-api did not stop within 10 s of SIGTERM");
}

#[tokio::test]
async fn starts_prints_its_port_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bin.db");
    // Mission reads take 2 s more: one is surely in flight when the signal comes.
    let mut server = start_binary(&db, &["--latency", "get_mission=fixed(2000)"]);

    let client = reqwest::Client::new();
    let res = client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client
        .get(format!("{}/api/missions?limit=500", server.base))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["total"], 1000, "seeded with 1000 missions by default");
    // A request in flight when the signal arrives still completes.
    let started = std::time::Instant::now();
    let slow = tokio::spawn({
        let url = format!("{}/api/missions/MISSION-1000", server.base);
        async move { reqwest::get(url).await.map(|r| r.status()) }
    });
    // Well inside its 2 s: received and waiting, not yet answered.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let status = tokio::task::spawn_blocking(move || {
        let s = terminate(&mut server);
        drop(server);
        s
    })
    .await
    .unwrap();

    assert!(status.success(), "exit status {status:?}");
    let answered = slow
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(answered, 200);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "answered after its 2 s, not cut short: {:?}",
        started.elapsed()
    );
    // The database was closed cleanly: the WAL was checkpointed into the
    // main file (and removed, or at least emptied).
    assert!(db.exists());
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let wal_len = std::fs::metadata(Path::new(&wal))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(wal_len, 0, "WAL left with data: not closed cleanly");
}

#[tokio::test]
async fn missions_seed_and_reset_flags_shape_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flags.db");
    let client = reqwest::Client::new();
    let expected = seed_data::mission(7, 50);

    let server = start_binary(&db, &["--missions", "50", "--seed", "7"]);
    let got: seed_data::Mission = server.json("/api/missions/MISSION-0050").await;
    assert_eq!(got, expected);
    assert_eq!(
        client
            .get(format!("{}/api/missions/MISSION-0051", server.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let res = client
        .put(format!(
            "{}/api/missions/MISSION-0050/waypoints/wp-001",
            server.base
        ))
        .json(&serde_json::json!({"lat": 1.5, "lon": 2.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    drop(server);

    // Restarted without --reset: the change is kept.
    let server = start_binary(&db, &["--missions", "50", "--seed", "7"]);
    let got: serde_json::Value = server.json("/api/missions/MISSION-0050").await;
    assert_eq!(got["waypoints"][0]["lat"], 1.5);
    drop(server);

    // With --reset: dropped and reseeded.
    let server = start_binary(&db, &["--missions", "50", "--seed", "7", "--reset"]);
    let got: seed_data::Mission = server.json("/api/missions/MISSION-0050").await;
    assert_eq!(got, expected);
}

#[test]
fn a_bad_flag_is_named_and_exits_non_zero() {
    let out = Command::new(env!("CARGO_BIN_EXE_mock-api"))
        .args(["--listen", "not-an-address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn an_unusable_database_path_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mock-api"))
        .args(["--listen", "127.0.0.1:0", "--database"])
        .arg(format!("sqlite://{}/sub/db.sqlite", file.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plain-file"), "{err}");
}

#[test]
fn bad_behaviour_flags_and_files_name_the_flag_or_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mock-api"))
            .args(["--listen", "127.0.0.1:0", "--database"])
            .arg(format!("sqlite://{}", dir.path().join("b.db").display()))
            .args(extra)
            .output()
            .unwrap()
    };
    for (args, needle) in [
        (vec!["--latency", "get_mission=fixed(-5)"], "--latency"),
        (vec!["--latency", "everywhere=fixed(5)"], "everywhere"),
        (vec!["--fault", "all=418:0.1"], "--fault"),
        (vec!["--emulate", "gremlins"], "--emulate"),
        (vec!["--dependency-latency", "soon"], "--dependency-latency"),
        (vec!["--stall", "10s"], "--stall"),
        (vec!["--stall", "1s:2s"], "--stall"),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let file = dir.path().join("behaviour.toml");
    std::fs::write(
        &file,
        "seed = 1\n[latency]\nget_mission = \"fixed(5)\"\nsearch_missions = \"sometimes\"\n",
    )
    .unwrap();
    let out = run(&["--behaviour", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:4", file.display())), "{err}");
}

#[tokio::test]
async fn a_behaviour_file_and_flags_combine() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("behaviour.toml");
    std::fs::write(&file, "seed = 7\nemulate = [\"n-plus-one\"]\n[latency]\nall = \"uniform(1,2)\"\n[[faults]]\nroute = \"search_missions\"\nkind = \"503\"\nprobability = 0.02\n").unwrap();
    let db = dir.path().join("c.db");
    let server = start_binary(
        &db,
        &[
            "--missions",
            "3",
            "--behaviour",
            file.to_str().unwrap(),
            "--latency",
            "get_mission=fixed(5)",
            "--emulate",
            "memory-leak",
        ],
    );
    let b: serde_json::Value = server.json("/__admin/behaviour").await;
    assert_eq!(b["seed"], 7);
    assert_eq!(b["latency"]["all"], "uniform(1,2)");
    assert_eq!(b["latency"]["get_mission"], "fixed(5)");
    assert_eq!(
        b["emulate"],
        serde_json::json!(["n-plus-one", "memory-leak"])
    );
    assert_eq!(b["faults"][0]["kind"], "503");
}

/// In a process of its own, so that the RSS measured is the leaking
/// server's alone (other tests in this binary allocate and free).
#[tokio::test]
async fn memory_leak_grows_rss_by_at_least_the_leaked_bytes_and_stops_at_the_cap() {
    const MIB: u64 = 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let server = start_binary(
        &dir.path().join("leak.db"),
        &[
            "--missions",
            "5",
            "--emulate",
            "memory-leak",
            "--leak-bytes",
            &MIB.to_string(),
            "--leak-cap-bytes",
            &(96 * MIB).to_string(),
        ],
    );
    let client = reqwest::Client::new();
    let stats = || async { server.json::<serde_json::Value>("/__admin/stats").await };
    let read = || {
        client
            .get(format!("{}/api/missions/MISSION-0001", server.base))
            .send()
    };
    let before = stats().await["rss_bytes"].as_u64().unwrap();
    for _ in 0..64 {
        assert_eq!(read().await.unwrap().status(), 200);
    }
    let s = stats().await;
    assert_eq!(s["leaked_bytes"], 64 * MIB);
    let after = s["rss_bytes"].as_u64().unwrap();
    assert!(after >= before + 64 * MIB, "rss {before} -> {after}");
    for _ in 0..64 {
        read().await.unwrap();
    }
    assert_eq!(stats().await["leaked_bytes"], 96 * MIB, "capped");
}
