//! `/openapi.json`: the OpenAPI 3 document, generated from the handlers'
//! annotations and the domain types, so it follows the code. In: the
//! annotations. Out: the document, made exact by [`exact`]: every pattern
//! the handlers enforce comes from the same constant the parser uses, every
//! API operation lists the statuses a fault or the database can give it,
//! and links tell a stateful client how ids flow from one call to the next.

use std::sync::LazyLock;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use seed_data::{MissionId, WaypointId};
use serde_json::{json, Value};
use utoipa::OpenApi;

use crate::extract::IF_MATCH_PATTERN;

use crate::routes::{admin, evidence, health, missions};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Mission planning API (mock-api)",
        description = "A known target for HTTP load testing: missions and waypoints on SQLite. \
                       Every error is application/problem+json (RFC 9457)."
    ),
    paths(
        missions::get_mission,
        missions::update_waypoint,
        missions::search_missions,
        missions::create_mission,
        missions::delete_mission,
        health::healthz,
        health::readyz,
        admin::get_behaviour,
        admin::put_behaviour,
        admin::reset,
        admin::stats,
        admin::metrics,
        evidence::slow,
        evidence::queries,
    ),
    components(schemas(
        crate::error::Problem,
        seed_data::Status,
        seed_data::Region,
        super::missions::CountParam
    )),
    tags(
        (name = "missions", description = "Missions and their waypoints"),
        (name = "health", description = "Liveness and readiness"),
        (name = "admin", description = "Behaviour (latency, faults, emulated causes) and ground truth"),
    )
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| serialised(true));

/// The document without the admin and truth operations, for an API
/// address whose admin is on its own listener (`--admin-listen`).
static API_DOCUMENT: LazyLock<String> = LazyLock::new(|| serialised(false));

fn serialised(with_admin: bool) -> String {
    let mut doc = document().unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document could not be made exact");
        serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
    });
    if !with_admin {
        if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            paths.retain(|path, _| !path.starts_with("/__admin") && path != "/metrics");
        }
    }
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_owned())
}

/// The exact document.
pub fn document() -> Result<Value, String> {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).map_err(|e| e.to_string())?;
    exact(&mut doc)?;
    Ok(doc)
}

/// A free-text property: `max` characters at most, not blank.
fn text(doc: &mut Value, pointer: &str, max: usize) -> Result<(), String> {
    let schema = at(doc, pointer)?;
    schema["minLength"] = json!(1);
    schema["maxLength"] = json!(max);
    schema["pattern"] = json!(seed_data::TEXT_PATTERN);
    Ok(())
}

fn at<'a>(doc: &'a mut Value, pointer: &str) -> Result<&'a mut Value, String> {
    doc.pointer_mut(pointer)
        .ok_or_else(|| format!("no {pointer} in the generated document"))
}

/// Adds what the annotations cannot say: patterns shared with the parsers,
/// examples that hit seeded data, the fault and database statuses, links.
fn exact(doc: &mut Value) -> Result<(), String> {
    for (object, field, max) in [
        ("NewMissionBody", "name", 200),
        ("NewMissionBody", "commander", 200),
        ("NewMissionBody", "unit", 200),
        ("NewWaypointBody", "name", 100),
    ] {
        text(
            doc,
            &format!("/components/schemas/{object}/properties/{field}"),
            max,
        )?;
    }
    at(doc, "/components/schemas/MissionSummary/properties/id")?["pattern"] =
        json!(MissionId::PATTERN);
    at(doc, "/components/schemas/Waypoint/properties/id")?["pattern"] = json!(WaypointId::PATTERN);
    let paths = at(doc, "/paths")?
        .as_object_mut()
        .ok_or("paths is not an object")?;
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            parameters(op);
            if path.starts_with("/api/") {
                fault_statuses(op);
            }
        }
    }
    links(doc)
}

/// Patterns and examples of the id, cursor and `If-Match` parameters.
fn parameters(op: &mut Value) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params {
        let (pattern, example) = match p["name"].as_str() {
            Some("id") => (MissionId::PATTERN, "MISSION-0001"),
            Some("wp_id") => (WaypointId::PATTERN, "wp-001"),
            Some("cursor") => (MissionId::PATTERN, "MISSION-0050"),
            Some("If-Match") => (IF_MATCH_PATTERN, "\"1\""),
            _ => continue,
        };
        // A string, never null: an absent parameter is left out, not sent as "null".
        p["schema"] = json!({"type": "string", "pattern": pattern});
        p["example"] = json!(example);
    }
}

/// Every API route can be given a fault (500, 503, 502 under
/// slow-dependency) by the behaviour, and answers 503 when the database is
/// busy or not accepting writes.
fn fault_statuses(op: &mut Value) {
    let has_body = op.get("requestBody").is_some();
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    responses
        .entry("500")
        .or_insert_with(|| problem("An injected fault (behaviour) or a database failure"));
    if has_body {
        responses
            .entry("408")
            .or_insert_with(|| problem("The request body did not arrive within --body-timeout"));
    }
    responses.entry("503").or_insert_with(|| {
        problem("An injected fault, a busy database, or storage not accepting writes (read-only or full)")
    });
}

/// How ids flow: a created or read mission's id (and its `ETag`) feed the
/// operations on that mission.
fn links(doc: &mut Value) -> Result<(), String> {
    let on_mission = json!({
        "GetMission": {
            "operationId": "get_mission",
            "parameters": {"id": "$response.body#/id"}
        },
        "UpdateFirstWaypoint": {
            "operationId": "update_waypoint",
            "parameters": {
                "id": "$response.body#/id",
                "wp_id": "$response.body#/waypoints/0/id",
                "header.If-Match": "$response.header.ETag"
            }
        },
        "DeleteMission": {
            "operationId": "delete_mission",
            "parameters": {"id": "$response.body#/id", "header.If-Match": "$response.header.ETag"}
        }
    });
    at(doc, "/paths/~1api~1missions/post/responses/201")?["links"] = on_mission.clone();
    let mut read = on_mission;
    if let Some(m) = read.as_object_mut() {
        m.remove("GetMission");
    }
    at(doc, "/paths/~1api~1missions~1{id}/get/responses/200")?["links"] = read;
    Ok(())
}

/// `/openapi.json`, listing the admin operations when this address serves them.
pub fn router(with_admin: bool) -> Router<AppState> {
    let doc: &'static LazyLock<String> = if with_admin { &DOCUMENT } else { &API_DOCUMENT };
    Router::new().route(
        "/openapi.json",
        get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc.as_str()) }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_made_exact() {
        let doc = document().expect("every pointer exists");
        let name = &doc["components"]["schemas"]["NewMissionBody"]["properties"]["name"];
        assert_eq!(name["maxLength"], 200);
        assert_eq!(name["pattern"], seed_data::TEXT_PATTERN);
        let link = &doc["paths"]["/api/missions"]["post"]["responses"]["201"]["links"];
        assert_eq!(link["GetMission"]["operationId"], "get_mission");
        let api_only: Value = serde_json::from_str(&serialised(false)).unwrap();
        let paths = api_only["paths"].as_object().unwrap();
        assert!(paths.contains_key("/api/missions") && paths.contains_key("/healthz"));
        assert!(!paths
            .keys()
            .any(|p| p.starts_with("/__admin") || p == "/metrics"));
    }
}
