//! Rows to domain values, once for both drivers. In: a row of sqlx (the
//! read pool, writes) or of rusqlite (mission reads) holding the columns
//! [`mission_columns!`] or [`waypoint_columns!`] name, in that order. Out:
//! a [`MissionSummary`] or a [`Waypoint`]; a stored value that does not
//! parse back is a server error.

use std::str::FromStr;

use seed_data::{
    Altitude, Latitude, Longitude, MissionId, MissionSummary, Priority, Region, Status, Timestamp,
    Waypoint, WaypointId,
};
use sqlx::Row as _;

use crate::error::Error;

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
    fn int(&self, i: usize) -> Result<i64, Error>;
    fn real(&self, i: usize) -> Result<f64, Error>;
    fn maybe_real(&self, i: usize) -> Result<Option<f64>, Error>;
    fn text(&self, i: usize) -> Result<String, Error>;
}

impl Columns for sqlx::sqlite::SqliteRow {
    fn int(&self, i: usize) -> Result<i64, Error> {
        Ok(self.try_get(i)?)
    }
    fn real(&self, i: usize) -> Result<f64, Error> {
        Ok(self.try_get(i)?)
    }
    fn maybe_real(&self, i: usize) -> Result<Option<f64>, Error> {
        Ok(self.try_get(i)?)
    }
    fn text(&self, i: usize) -> Result<String, Error> {
        Ok(self.try_get(i)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<i64, Error> {
        Ok(self.get(i)?)
    }
    fn real(&self, i: usize) -> Result<f64, Error> {
        Ok(self.get(i)?)
    }
    fn maybe_real(&self, i: usize) -> Result<Option<f64>, Error> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<String, Error> {
        Ok(self.get(i)?)
    }
}

/// A stored value that does not parse back means the file was edited by
/// hand or is corrupt: a server error, with the reason logged.
fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored {what} does not parse: {e}"))
}

fn parsed<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> Result<T, Error> {
    r.map_err(|e| corrupt(what, e))
}

/// A mission row ([`mission_columns!`]).
pub(super) fn summary(r: &impl Columns) -> Result<MissionSummary, Error> {
    let id = r.int(0)?;
    let count = r.int(10)?;
    Ok(MissionSummary {
        id: u32::try_from(id)
            .ok()
            .and_then(MissionId::new)
            .ok_or_else(|| corrupt("mission id", id))?,
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
pub(super) fn waypoint(r: &impl Columns) -> Result<Waypoint, Error> {
    let seq = r.int(0)?;
    Ok(Waypoint {
        id: u32::try_from(seq)
            .ok()
            .and_then(WaypointId::new)
            .ok_or_else(|| corrupt("waypoint seq", seq))?,
        name: r.text(1)?,
        lat: parsed("lat", Latitude::parse(r.real(2)?))?,
        lon: parsed("lon", Longitude::parse(r.real(3)?))?,
        alt_m: parsed("alt_m", r.maybe_real(4)?.map(Altitude::parse).transpose())?,
    })
}
