//! Rows to domain values, once for both drivers. In: a row of rusqlite
//! (mission reads, searches, writes) or of sqlx holding the columns
//! [`mission_columns!`] or [`waypoint_columns!`] name, in that order. Out:
//! a [`MissionSummary`] or a [`Waypoint`]; a stored value that does not
//! parse back is a server error.

use std::str::FromStr;

use seed_data::{
    Altitude, Latitude, Longitude, MissionId, MissionSummary, Priority, Region, Status, Timestamp,
    Waypoint, WaypointId,
};
use sqlx::Row as _;

use super::StoreError;

/// The columns of a mission row, in the order [`summary`] reads them.
macro_rules! mission_columns {
    () => {
        "id, name, status, region, priority, commander, unit, created_at, updated_at, version, waypoint_count"
    };
}
/// The columns of a waypoint row, in the order [`waypoint`] reads them.
macro_rules! waypoint_columns {
    () => {
        "seq, name, lat, lon, alt_m"
    };
}
pub(crate) use {mission_columns, waypoint_columns};

/// A row of either driver, read by column position.
pub(super) trait Columns {
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    fn real(&self, i: usize) -> Result<f64, StoreError>;
    fn maybe_real(&self, i: usize) -> Result<Option<f64>, StoreError>;
    fn text(&self, i: usize) -> Result<String, StoreError>;
}

/// `Columns` for a driver's row type, through its getter by index.
macro_rules! columns {
    ($row:ty, $get:ident) => {
        impl Columns for $row {
            fn int(&self, i: usize) -> Result<i64, StoreError> {
                Ok(self.$get(i)?)
            }
            fn real(&self, i: usize) -> Result<f64, StoreError> {
                Ok(self.$get(i)?)
            }
            fn maybe_real(&self, i: usize) -> Result<Option<f64>, StoreError> {
                Ok(self.$get(i)?)
            }
            fn text(&self, i: usize) -> Result<String, StoreError> {
                Ok(self.$get(i)?)
            }
        }
    };
}
columns!(sqlx::sqlite::SqliteRow, try_get);
columns!(rusqlite::Row<'_>, get);

/// A stored value that does not parse back means the file was edited by
/// hand or is corrupt: a server error, with the reason logged.
fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("stored {what} does not parse: {e}"))
}

fn parsed<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| corrupt(what, e))
}

/// A stored number that must make an id (1 or more, within `u32`).
fn id<T>(what: &str, n: i64, new: fn(u32) -> Option<T>) -> Result<T, StoreError> {
    u32::try_from(n)
        .ok()
        .and_then(new)
        .ok_or_else(|| corrupt(what, n))
}

/// A mission row ([`mission_columns!`]).
pub(super) fn summary(r: &impl Columns) -> Result<MissionSummary, StoreError> {
    let count = r.int(10)?;
    Ok(MissionSummary {
        id: id("mission id", r.int(0)?, MissionId::new)?,
        name: r.text(1)?,
        status: parsed("status", Status::from_str(&r.text(2)?))?,
        region: parsed("region", Region::from_str(&r.text(3)?))?,
        priority: parsed("priority", Priority::parse(r.int(4)?))?,
        commander: r.text(5)?,
        unit: r.text(6)?,
        created_at: parsed("created_at", Timestamp::parse(&r.text(7)?))?,
        updated_at: parsed("updated_at", Timestamp::parse(&r.text(8)?))?,
        version: r.int(9)?,
        waypoint_count: parsed("waypoint_count", u32::try_from(count))?,
    })
}

/// A waypoint row ([`waypoint_columns!`]).
pub(super) fn waypoint(r: &impl Columns) -> Result<Waypoint, StoreError> {
    Ok(Waypoint {
        id: id("waypoint seq", r.int(0)?, WaypointId::new)?,
        name: r.text(1)?,
        lat: parsed("lat", Latitude::parse(r.real(2)?))?,
        lon: parsed("lon", Longitude::parse(r.real(3)?))?,
        alt_m: parsed("alt_m", r.maybe_real(4)?.map(Altitude::parse).transpose())?,
    })
}
