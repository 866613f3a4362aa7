//! `/api/missions`: read, search, create and delete missions; move waypoints.
//! In: a request (and the emulated causes' [`Effects`] the request layer
//! decided). Out: a response or an [`Error`].
//!
//! Handlers parse raw input into domain values (errors become 422 naming the
//! field), call the store, and shape the response (status, `ETag`,
//! `Location`). No SQL here. Their routes are in [`crate::route`].

use std::fmt;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use seed_data::{
    parse_text, Altitude, Latitude, Longitude, Mission, MissionId, MissionSummary, Priority,
    Region, Status, Waypoint, WaypointId,
};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::behaviour::Effects;
use crate::error::{Error, Problem};
use crate::extract::{etag, if_match, ApiPath, ApiQuery, AppJson};
use crate::state::AppState;
use crate::store::{CountMode, NewMission, SearchQuery, WaypointChange};

/// Default and largest page size of a search.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;
/// Most waypoints a created mission may have.
pub const MAX_WAYPOINTS: usize = 1000;

fn mission_id(raw: &str) -> Result<MissionId, Error> {
    MissionId::parse(raw).map_err(|e| Error::NotFound(format!("no mission {raw:?}: {e}")))
}

/// A mission as a JSON response, written into a buffer sized for it up front
/// (about 100 bytes per waypoint): growing a small buffer by doubling showed
/// in profiles as reallocation and copying.
fn mission_json(mission: &Mission) -> Result<Response, Error> {
    let mut body = Vec::with_capacity(384 + 112 * mission.waypoints.len());
    serde_json::to_writer(&mut body, mission)
        .map_err(|e| Error::Internal(format!("mission does not serialise: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

fn with_etag(mut res: Response, version: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// A mission with its waypoints in route order.
#[utoipa::path(get, path = "/api/missions/{id}", tag = "missions",
    params(("id" = String, Path, description = "Mission id, e.g. MISSION-0001")),
    responses(
        (status = 200, description = "The mission and its ordered waypoints", body = Mission,
            headers(("ETag" = String, description = "The mission's version, e.g. \"3\""))),
        (status = 404, description = "No such mission", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The upstream service failed (slow-dependency emulation)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_mission(
    State(state): State<AppState>,
    effects: Effects,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, Error> {
    let id = mission_id(&id)?;
    let mission = state
        .store
        .mission(id, effects.plan)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no mission {id}")))?;
    if effects.upstream {
        state.upstream.deconflict(&id.to_string()).await?;
    }
    let version = mission.summary.version;
    Ok(with_etag(mission_json(&mission)?, version))
}

/// A JSON number, or `null` (read as NaN), so that a client sending no
/// usable value gets a 422 naming the field rather than a parse error.
/// Numbers written as strings are refused, as the OpenAPI document says.
fn number_like<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
            Ok(f64::NAN)
        }
    }
    d.deserialize_any(V)
}

/// An integer: JSON Schema counts `5.0` as the integer 5, and so do we.
/// Other fractions and non-numbers are refused.
fn integer_like<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            Ok(i64::try_from(v).unwrap_or(i64::MAX))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Ok(v as i64)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
    }
    d.deserialize_any(V)
}

fn optional_number_like<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    number_like(d).map(Some)
}

/// The body of a waypoint update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"lat": 38.9, "lon": -77.0, "alt_m": 1200.0}))]
pub struct WaypointUpdate {
    /// Degrees north, in [-90, 90].
    #[serde(deserialize_with = "number_like")]
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    /// Degrees east, in [-180, 180].
    #[serde(deserialize_with = "number_like")]
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// Metres, -11000 to 36000000; left unchanged when absent.
    #[serde(default, deserialize_with = "optional_number_like")]
    #[schema(value_type = f64, minimum = -11000, maximum = 36000000)]
    pub alt_m: Option<f64>,
}

/// Parses a point's raw coordinates; errors name the field, with `prefix`
/// before it (`waypoints[3].` for a created mission's route).
fn parse_point(
    prefix: &str,
    lat: f64,
    lon: f64,
    alt_m: Option<f64>,
) -> Result<(Latitude, Longitude, Option<Altitude>), Error> {
    let field = |f: &str| format!("{prefix}{f}");
    Ok((
        Latitude::parse(lat).map_err(|e| Error::invalid(field("lat"), e))?,
        Longitude::parse(lon).map_err(|e| Error::invalid(field("lon"), e))?,
        alt_m
            .map(Altitude::parse)
            .transpose()
            .map_err(|e| Error::invalid(field("alt_m"), e))?,
    ))
}

impl WaypointUpdate {
    fn parse(&self) -> Result<WaypointChange, Error> {
        let (lat, lon, alt_m) = parse_point("", self.lat, self.lon, self.alt_m)?;
        Ok(WaypointChange { lat, lon, alt_m })
    }
}

/// Moves a waypoint; bumps the mission's version and `updated_at`.
#[utoipa::path(put, path = "/api/missions/{id}/waypoints/{wp_id}", tag = "missions",
    params(
        ("id" = String, Path, description = "Mission id, e.g. MISSION-0001"),
        ("wp_id" = String, Path, description = "Waypoint id, e.g. wp-001"),
        ("If-Match" = Option<String>, Header, description = "Only update if the mission is at this version (its ETag)"),
    ),
    request_body = WaypointUpdate,
    responses(
        (status = 200, description = "The waypoint as stored", body = Waypoint,
            headers(("ETag" = String, description = "The mission's new version"))),
        (status = 400, description = "Malformed JSON or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such mission or waypoint", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a stale version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Coordinates out of range or not numbers", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_waypoint(
    State(state): State<AppState>,
    effects: Effects,
    ApiPath((id, wp_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    AppJson(body): AppJson<WaypointUpdate>,
) -> Result<Response, Error> {
    let id = mission_id(&id)?;
    let wp = WaypointId::parse(&wp_id)
        .map_err(|e| Error::NotFound(format!("mission {id} has no waypoint {wp_id:?}: {e}")))?;
    let expected = if_match(&headers)?;
    let change = body.parse()?;
    let (waypoint, version) = state
        .store
        .update_waypoint(id, wp, change, expected, effects.plan)
        .await?;
    Ok(with_etag(Json(waypoint).into_response(), version))
}

/// Search filters; all optional.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// One of draft, planned, active, completed, aborted.
    #[param(value_type = Option<Status>, example = "active")]
    pub status: Option<String>,
    /// One of CENTCOM, EUCOM, INDOPACOM, AFRICOM, SOUTHCOM, NORTHCOM, SPACECOM.
    #[param(value_type = Option<Region>, example = "CENTCOM")]
    pub region: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500, example = 20)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page: a mission id.
    #[param(example = "MISSION-0050")]
    pub cursor: Option<String>,
    /// How to count the matches for `total`: `bounded` (default: exactly up
    /// to 10,000, then `total` = 10000 with `total_exact` false), `exact`
    /// (however many: a COUNT over every match) or `none` (`total` null).
    #[param(value_type = Option<CountParam>, example = "exact")]
    pub count: Option<String>,
}

/// How a search counts its matches: `bounded`, `exact` or `none` (the
/// `count` parameter's values, for the document).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum CountParam {
    Bounded,
    Exact,
    None,
}

impl SearchParams {
    fn parse(&self) -> Result<SearchQuery, Error> {
        // Present means given, even when empty: `status=` is not a status.
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref()
        }
        let status = given(&self.status)
            .map(str::parse::<Status>)
            .transpose()
            .map_err(|e| Error::invalid("status", e))?;
        let region = given(&self.region)
            .map(str::parse::<Region>)
            .transpose()
            .map_err(|e| Error::invalid("region", e))?;
        let limit = match given(&self.limit) {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Error::Unprocessable(format!(
                        "limit must be an integer from 1 to {MAX_LIMIT}, got {raw:?}"
                    ))
                })?,
        };
        let after = given(&self.cursor)
            .map(MissionId::parse)
            .transpose()
            .map_err(|e| Error::invalid("cursor", e))?;
        let count = match given(&self.count) {
            None | Some("bounded") => CountMode::Bounded,
            Some("exact") => CountMode::Exact,
            Some("none") => CountMode::None,
            Some(other) => {
                return Err(Error::Unprocessable(format!(
                    "count must be bounded, exact or none, got {other:?}"
                )))
            }
        };
        Ok(SearchQuery {
            status,
            region,
            after,
            limit,
            count,
        })
    }
}

/// One page of search results.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MissionPage {
    pub missions: Vec<MissionSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many missions match the filters in all; with the default
    /// `count=bounded`, at most 10,000 (then `total_exact` is false: at
    /// least that many); `null` with `count=none`.
    pub total: Option<u64>,
    /// Whether `total` is the exact number of matches.
    pub total_exact: bool,
}

/// Mission summaries (no waypoints) in id order, keyset-paginated.
#[utoipa::path(get, path = "/api/missions", tag = "missions",
    params(SearchParams),
    responses(
        (status = 200, description = "One page of summaries", body = MissionPage),
        (status = 400, description = "Malformed query string", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status or region, bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search_missions(
    State(state): State<AppState>,
    effects: Effects,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<MissionPage>, Error> {
    let query = params.parse()?;
    let page = state.store.search(&query, effects.plan).await?;
    Ok(Json(MissionPage {
        missions: page.missions,
        next_cursor: page.next.map(|id| id.to_string()),
        total: page.total,
        total_exact: page.total_exact,
    }))
}

/// A waypoint of a mission to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewWaypointBody {
    /// 1 to 100 characters, not blank; defaults to `WP-<n>`.
    pub name: Option<String>,
    #[serde(deserialize_with = "number_like")]
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    #[serde(deserialize_with = "number_like")]
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// Metres, -11000 to 36000000; absent for surface waypoints.
    #[serde(default, deserialize_with = "optional_number_like")]
    #[schema(value_type = f64, minimum = -11000, maximum = 36000000)]
    pub alt_m: Option<f64>,
}

/// The body of a mission to create; the server assigns id, version and times.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "name": "Operation Example", "status": "planned", "region": "CENTCOM", "priority": 2,
    "commander": "Col. A. Example", "unit": "1st Example Wing",
    "waypoints": [{"name": "Start", "lat": 25.1, "lon": 51.3}, {"lat": 26.0, "lon": 50.5, "alt_m": 3000.0}]
}))]
pub struct NewMissionBody {
    /// 1 to 200 characters, not blank (stored trimmed).
    pub name: String,
    #[schema(value_type = Status)]
    pub status: String,
    #[schema(value_type = Region)]
    pub region: String,
    #[serde(deserialize_with = "integer_like")]
    #[schema(minimum = 1, maximum = 5)]
    pub priority: i64,
    /// 1 to 200 characters, not blank.
    pub commander: String,
    /// 1 to 200 characters, not blank.
    pub unit: String,
    /// 1 to 1000 waypoints, in route order.
    #[schema(min_items = 1, max_items = 1000)]
    pub waypoints: Vec<NewWaypointBody>,
}

impl NewMissionBody {
    fn parse(self) -> Result<NewMission, Error> {
        if self.waypoints.is_empty() || self.waypoints.len() > MAX_WAYPOINTS {
            return Err(Error::Unprocessable(format!(
                "waypoints: a mission has 1 to {MAX_WAYPOINTS} waypoints, got {}",
                self.waypoints.len()
            )));
        }
        let waypoints = self
            .waypoints
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let prefix = format!("waypoints[{i}].");
                let name = match &w.name {
                    Some(n) => parse_text("name", n, 100)
                        .map_err(|e| Error::invalid(format!("{prefix}name"), e))?,
                    None => format!("WP-{}", i + 1),
                };
                let (lat, lon, alt_m) = parse_point(&prefix, w.lat, w.lon, w.alt_m)?;
                Ok((name, lat, lon, alt_m))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(NewMission {
            name: parse_text("name", &self.name, 200).map_err(|e| Error::invalid("name", e))?,
            status: self
                .status
                .parse()
                .map_err(|e| Error::invalid("status", e))?,
            region: self
                .region
                .parse()
                .map_err(|e| Error::invalid("region", e))?,
            priority: Priority::parse(self.priority).map_err(|e| Error::invalid("priority", e))?,
            commander: parse_text("commander", &self.commander, 200)
                .map_err(|e| Error::invalid("commander", e))?,
            unit: parse_text("unit", &self.unit, 200).map_err(|e| Error::invalid("unit", e))?,
            waypoints,
        })
    }
}

/// Creates a mission; its id is one past the highest ever used.
#[utoipa::path(post, path = "/api/missions", tag = "missions",
    request_body = NewMissionBody,
    responses(
        (status = 201, description = "Created", body = Mission,
            headers(("Location" = String, description = "/api/missions/{id}"), ("ETag" = String))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or invalid", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_mission(
    State(state): State<AppState>,
    AppJson(body): AppJson<NewMissionBody>,
) -> Result<Response, Error> {
    let mission = state.store.create(body.parse()?).await?;
    let location = format!("/api/missions/{}", mission.summary.id);
    let version = mission.summary.version;
    let mut res = (StatusCode::CREATED, Json(mission)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(with_etag(res, version))
}

/// Deletes a mission and its waypoints.
#[utoipa::path(delete, path = "/api/missions/{id}", tag = "missions",
    params(
        ("id" = String, Path, description = "Mission id, e.g. MISSION-0001"),
        ("If-Match" = Option<String>, Header, description = "Only delete if the mission is at this version"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such mission", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a stale version", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_mission(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let id = mission_id(&id)?;
    state.store.delete(id, if_match(&headers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
