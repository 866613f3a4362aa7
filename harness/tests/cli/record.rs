//! The run record: it validates against the documented schema, and two
//! records' histograms merge to the sum of their counts.

use harness::record::{EncodedHistogram, RunRecord};

use crate::helpers::{read_record, run_against, spawn_target, stderr};

const SHORT: &str = r#"
name = "short"
[requirement]
id = "REQ-SHORT"
text = "Mission reads stay fast."
[keys.mission_id]
distribution = "uniform"
n = 1000
format = "MISSION-{:04}"
[think_time]
kind = "constant"
value = "10ms"
[[tasks]]
name = "get mission"
weight = 3
path = "/api/missions/{mission_id}"
[[tasks]]
name = "update waypoint"
method = "PUT"
path = "/api/missions/{mission_id}/waypoints/wp-001"
body = { lat = "10 ± 1", lon = "20 ± 1" }
[[stages]]
name = "ramp"
users = 10
duration = "1s"
[[stages]]
name = "hold"
users = 10
duration = "2s"
steady = true
[[slos]]
metric = "p99"
bound = 2000
[[slos]]
metric = "error_rate"
bound = 0.0
task = "update waypoint"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn records_validate_against_the_schema_and_merge_exactly() {
    let _exclusive = crate::helpers::EXCLUSIVE.lock().await;
    let target = spawn_target().await;
    let scenario = target.scenario("short.toml", SHORT);
    let mut paths = Vec::new();
    for (i, seed) in ["1", "2"].iter().enumerate() {
        let out = target.path(&format!("short-{i}.json"));
        let o = run_against(
            &target,
            &out,
            &[
                "--scenario",
                &scenario,
                "--seed",
                seed,
                "--label",
                "build-7",
            ],
        )
        .await;
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        paths.push(out);
    }

    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/run-record.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    for p in &paths {
        let r = read_record(p);
        let errors: Vec<String> = validator
            .iter_errors(&r)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", p.display());
        assert_eq!(r["schema_version"], 8);
        assert_eq!(r["label"], "build-7");
        assert!(r["timeseries"].as_array().unwrap().len() >= 3);
        assert_eq!(r["slos"][1]["id"], "REQ-SHORT.error_rate.update_waypoint");
    }

    // A version 3 record (the same without classes) still reads and
    // judges alike.
    let mut v3 = read_record(&paths[0]);
    v3["schema_version"] = serde_json::json!(3);
    assert!(validator.iter_errors(&v3).next().is_none());
    let v3_path = paths[0].with_file_name("v3.json");
    std::fs::write(&v3_path, v3.to_string()).unwrap();
    let again = RunRecord::read(&v3_path).unwrap();
    assert_eq!(again.verdict, RunRecord::read(&paths[0]).unwrap().verdict);
    assert!(again.classes.is_empty());

    // A version 2 record (the same without a capacity section) still reads
    // and judges alike.
    let mut v2 = read_record(&paths[0]);
    v2["schema_version"] = serde_json::json!(2);
    assert!(validator.iter_errors(&v2).next().is_none());
    let v2_path = paths[0].with_file_name("v2.json");
    std::fs::write(&v2_path, v2.to_string()).unwrap();
    let again = RunRecord::read(&v2_path).unwrap();
    assert_eq!(again.verdict, RunRecord::read(&paths[0]).unwrap().verdict);
    assert_eq!(again.capacity, None);

    // Schema violations are caught: the validator is not a rubber stamp.
    let mut broken = read_record(&paths[0]);
    broken["verdict"] = serde_json::json!("maybe");
    broken.as_object_mut().unwrap().remove("steady");
    assert!(validator.iter_errors(&broken).count() >= 2);

    // Merge the steady histograms of both runs: counts add up exactly.
    let a = RunRecord::read(&paths[0]).unwrap();
    let b = RunRecord::read(&paths[1]).unwrap();
    let (ha, hb) = (
        a.steady
            .histogram
            .clone()
            .expect("a run records its histograms"),
        b.steady
            .histogram
            .clone()
            .expect("a run records its histograms"),
    );
    let mut merged = ha.clone();
    merged.merge(&hb);
    assert_eq!(merged.0.len(), ha.0.len() + hb.0.len());
    // And per row: every task × stage histogram holds as many values as the
    // row has responses, and survives a round trip.
    for row in a.tasks.iter() {
        let h = row
            .histogram
            .as_ref()
            .expect("a run records its histograms");
        assert_eq!(h.0.len(), row.requests, "{} / {}", row.stage, row.name);
        let again = EncodedHistogram::decode(&h.encode()).unwrap();
        assert_eq!(&again, h);
    }
}

#[test]
fn records_of_another_schema_version_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("future.json");
    std::fs::write(&p, r#"{"schema_version": 99}"#).unwrap();
    let err = RunRecord::read(&p).unwrap_err().to_string();
    assert!(err.contains("future.json") && err.contains("99"), "{err}");
}
