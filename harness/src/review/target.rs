//! What a target says about itself, for `harness review --target`. In: its
//! base URL. Out: [`Facts`]: whether it answers, how much data it holds
//! (`/__admin/stats`), which emulated behaviour is on
//! (`/__admin/behaviour`), and which of its operations take an id
//! (`/openapi.json`). A target that offers none of these is still
//! reviewed; what it does not say is reported as unknown.

use std::time::Duration;

use serde_json::Value;

use crate::error::Error;
use crate::load::endpoint::parse_target;

/// The target's facts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub url: String,
    /// It answered an HTTP request.
    pub reachable: bool,
    /// Missions it holds (`/__admin/stats`), if it says.
    pub missions: Option<u64>,
    /// Emulated behaviour in force, in words (`None`: it does not say).
    pub behaviour_on: Option<Vec<String>>,
    /// Operations whose path takes an id (`GET /api/missions/{id}`).
    pub id_operations: Vec<String>,
}

async fn json(client: &reqwest::Client, url: String) -> Option<Value> {
    let res = client.get(url).send().await.ok()?;
    if !res.status().is_success() {
        return None;
    }
    res.json().await.ok()
}

impl Facts {
    /// Reads the facts; only a malformed URL is an error.
    pub async fn read(url: &str, tls: &crate::load::tls::TlsOptions) -> Result<Self, Error> {
        let base = parse_target(url)?;
        let base = base.as_str().trim_end_matches('/').to_owned();
        let client = crate::load::tls::reqwest_builder(tls)?
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| Error::Usage(format!("cannot build an HTTP client: {e}")))?;
        let mut facts = Facts {
            url: url.to_owned(),
            ..Facts::default()
        };
        facts.reachable = client.get(&base).send().await.is_ok();
        if !facts.reachable {
            return Ok(facts);
        }
        if let Some(stats) = json(&client, format!("{base}/__admin/stats")).await {
            facts.missions = stats.get("missions").and_then(Value::as_u64);
        }
        if let Some(b) = json(&client, format!("{base}/__admin/behaviour")).await {
            facts.behaviour_on = Some(behaviour_on(&b));
        }
        if let Some(doc) = json(&client, format!("{base}/openapi.json")).await {
            facts.id_operations = id_operations(&doc);
        }
        Ok(facts)
    }
}

/// mock-api's behaviour settings that change what a run measures, when on.
pub fn behaviour_on(b: &Value) -> Vec<String> {
    let mut on = Vec::new();
    let non_empty = |k: &str| match b.get(k) {
        Some(Value::Object(m)) if !m.is_empty() => Some(Value::Object(m.clone()).to_string()),
        Some(Value::Array(a)) if !a.is_empty() => Some(Value::Array(a.clone()).to_string()),
        _ => None,
    };
    for key in ["latency", "concurrency", "faults", "emulate", "links"] {
        if let Some(v) = non_empty(key) {
            on.push(format!("{key} {v}"));
        }
    }
    for key in ["stall", "dependency_concurrency"] {
        if let Some(v) = b.get(key).filter(|v| !v.is_null()) {
            on.push(format!("{key} {v}"));
        }
    }
    if let Some(s) = b
        .get("storage")
        .and_then(Value::as_str)
        .filter(|s| *s != "none")
    {
        on.push(format!("storage {s}"));
    }
    for key in ["db_round_trip_us", "leak_pause_us_per_mib"] {
        if b.get(key).and_then(Value::as_f64).is_some_and(|v| v > 0.0) {
            on.push(format!("{key} {}", b[key]));
        }
    }
    on
}

/// `METHOD /path/{id}` for each operation whose path takes a parameter
/// (admin operations left out).
pub fn id_operations(doc: &Value) -> Vec<String> {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut ops = Vec::new();
    for (path, item) in paths {
        if !path.contains('{') || path.starts_with("/__admin") {
            continue;
        }
        for method in ["get", "put", "patch", "delete", "post"] {
            if item.get(method).is_some() {
                ops.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_settings_that_change_a_run_count_as_on() {
        let plain = json!({"seed": 0, "latency": {}, "faults": [], "emulate": [],
            "storage": "none", "db_round_trip_us": 0, "leak_pause_us_per_mib": 0.0});
        assert!(behaviour_on(&plain).is_empty());
        let on = json!({"latency": {"get_mission": "fixed(50)"}, "emulate": ["n-plus-one"],
            "storage": "full", "db_round_trip_us": 200});
        let words = behaviour_on(&on);
        assert_eq!(words.len(), 4, "{words:?}");
        assert!(words[0].contains("fixed(50)"));
    }

    #[test]
    fn id_operations_come_from_the_paths_with_parameters() {
        let doc = json!({"paths": {
            "/api/missions": {"get": {}, "post": {}},
            "/api/missions/{id}": {"get": {}, "delete": {}},
            "/__admin/things/{x}": {"get": {}}
        }});
        assert_eq!(
            id_operations(&doc),
            ["GET /api/missions/{id}", "DELETE /api/missions/{id}"]
        );
    }
}
