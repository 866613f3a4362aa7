//! The real `seed-data` binary: determinism, stats, database loading, errors.

use std::process::Command;

fn seed_data(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seed-data"))
        .args(args)
        .output()
        .expect("run seed-data")
}

#[test]
fn the_same_seed_gives_byte_identical_files_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    for (name, seed) in [("a.jsonl", "42"), ("b.jsonl", "42"), ("c.jsonl", "43")] {
        let out = seed_data(&["--missions", "1000", "--seed", seed, "--out", &path(name)]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let a = std::fs::read(path("a.jsonl")).unwrap();
    let b = std::fs::read(path("b.jsonl")).unwrap();
    let c = std::fs::read(path("c.jsonl")).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);

    let lines: Vec<&str> = std::str::from_utf8(&a).unwrap().lines().collect();
    assert_eq!(lines.len(), 1000);
    let first: seed_data::Mission = serde_json::from_str(lines[0]).unwrap();
    let last: seed_data::Mission = serde_json::from_str(lines[999]).unwrap();
    assert_eq!(first.summary.id.to_string(), "MISSION-0001");
    assert_eq!(last.summary.id.to_string(), "MISSION-1000");
}

#[test]
fn stats_print_the_documented_shares_beside_the_observed_ones() {
    let out = seed_data(&["--missions", "1000", "--seed", "42", "--stats"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for (region, share) in seed_data::generator::REGION_SHARES {
        let line = text
            .lines()
            .find(|l| l.starts_with(region.as_str()))
            .unwrap_or_else(|| panic!("{region} missing:\n{text}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        let observed: f64 = cols[1].trim_end_matches('%').parse().unwrap();
        let documented: f64 = cols[2].trim_end_matches('%').parse().unwrap();
        assert_eq!(documented, f64::from(share));
        assert!((observed - documented).abs() < 4.0, "{line}");
    }
    let active: u32 = text
        .lines()
        .find_map(|l| l.strip_prefix("active CENTCOM missions: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(active >= 30, "{active}");
    assert!(text.contains("waypoints per mission: min 3"), "{text}");
}

#[test]
fn loads_straight_into_the_api_database_and_refuses_a_non_empty_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("api.db").display());

    let out = seed_data(&["--missions", "300", "--seed", "5", "--database", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let path = mock_api::store::database_path(&url).unwrap();
        let store = mock_api::Store::open(&path, 1).await.unwrap();
        assert_eq!(store.mission_count().await.unwrap(), 300);
        let m = store
            .mission(seed_data::MissionId::new(300).unwrap(), Default::default())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m, seed_data::mission(5, 300));
        store.close().await;
    });

    let out = seed_data(&["--missions", "10", "--database", &url]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("api.db") && err.contains("already holds 300"),
        "{err}"
    );
}

#[test]
fn bad_arguments_name_the_flag_or_file_and_exit_non_zero() {
    let out = seed_data(&["--missions", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--missions"));

    let out = seed_data(&["--out", "/nonexistent-dir/x.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/x.jsonl"));

    let out = seed_data(&["--database", "sqlite::memory:"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--database"));
}
