//! The mission: its attributes (priority, status, region), its waypoints,
//! its summary (what a search returns) and the whole mission (the summary
//! with its route). In: parsed values. Out: the one definition of a
//! mission every crate shares.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Altitude, DomainError, Latitude, Longitude, MissionId, Timestamp, WaypointId};

/// Mission priority, 1 (routine) to 5 (flash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Priority(u8);

impl Priority {
    pub fn parse(value: i64) -> Result<Self, DomainError> {
        if (1..=5).contains(&value) {
            Ok(Self(value as u8))
        } else {
            Err(DomainError::Priority(value))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Priority {
    type Error = DomainError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Priority> for i64 {
    fn from(value: Priority) -> i64 {
        value.0.into()
    }
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $err:ident, { $($variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(DomainError::$err(other.to_owned())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// Where a mission is in its life.
    Status, Status, {
        Draft => "draft",
        Planned => "planned",
        Active => "active",
        Completed => "completed",
        Aborted => "aborted",
    }
);

string_enum!(
    /// The combatant command a mission belongs to.
    Region, Region, {
        Centcom => "CENTCOM",
        Eucom => "EUCOM",
        Indopacom => "INDOPACOM",
        Africom => "AFRICOM",
        Southcom => "SOUTHCOM",
        Northcom => "NORTHCOM",
        Spacecom => "SPACECOM",
    }
);

/// One point of a mission's route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Waypoint {
    /// `wp-001`, `wp-002`, ... in route order.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "wp-001"))]
    pub id: WaypointId,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = f64, minimum = -90, maximum = 90))]
    pub lat: Latitude,
    #[cfg_attr(feature = "openapi", schema(value_type = f64, minimum = -180, maximum = 180))]
    pub lon: Longitude,
    /// Altitude in metres; absent for surface waypoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub alt_m: Option<Altitude>,
}

/// A mission without its route: what a search returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MissionSummary {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "MISSION-0001"))]
    pub id: MissionId,
    pub name: String,
    pub status: Status,
    pub region: Region,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1, maximum = 5))]
    pub priority: Priority,
    pub commander: String,
    pub unit: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Bumped by every change; the mission's `ETag`.
    pub version: i64,
    pub waypoint_count: u32,
}

/// A mission with its ordered route: its summary (whose `waypoint_count`
/// is the route's length) and the route itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mission {
    #[serde(flatten)]
    pub summary: MissionSummary,
    /// The route, in order; never empty (every mission has `wp-001`).
    pub waypoints: Vec<Waypoint>,
}

impl MissionSummary {
    /// The full mission: this summary with its route (the count is taken from the route).
    pub fn with_waypoints(mut self, waypoints: Vec<Waypoint>) -> Mission {
        self.waypoint_count = waypoints.len() as u32;
        Mission {
            summary: self,
            waypoints,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_their_wire_names_only() {
        assert_eq!("CENTCOM".parse::<Region>().unwrap(), Region::Centcom);
        assert!("centcom".parse::<Region>().is_err());
        assert_eq!("active".parse::<Status>().unwrap(), Status::Active);
        assert!("ACTIVE".parse::<Status>().is_err());
        assert_eq!(
            serde_json::to_string(&Region::Indopacom).unwrap(),
            "\"INDOPACOM\""
        );
    }

    #[test]
    fn invalid_priorities_fail_to_deserialize() {
        assert!(serde_json::from_str::<Priority>("0").is_err());
    }

    #[test]
    fn a_mission_is_its_summary_and_its_route() {
        let summary: MissionSummary = serde_json::from_value(serde_json::json!({
            "id": "MISSION-0007", "name": "Op", "status": "active", "region": "EUCOM",
            "priority": 3, "commander": "c", "unit": "u",
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
            "version": 2, "waypoint_count": 0
        }))
        .unwrap();
        let waypoint = Waypoint {
            id: WaypointId::new(1).unwrap(),
            name: "WP-1".into(),
            lat: Latitude::parse(1.0).unwrap(),
            lon: Longitude::parse(2.0).unwrap(),
            alt_m: None,
        };
        let mission = summary.clone().with_waypoints(vec![waypoint]);
        assert_eq!(mission.summary.waypoint_count, 1);
        let json = serde_json::to_value(&mission).unwrap();
        assert_eq!(json["id"], "MISSION-0007");
        assert_eq!(json["waypoints"][0]["id"], "wp-001");
        assert_eq!(serde_json::from_value::<Mission>(json).unwrap(), mission);
    }
}
