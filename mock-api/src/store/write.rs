//! Writes: bulk loading, moving a waypoint, creating and deleting missions.
//! In: domain values. Out: what was stored, or an [`StoreError`]. Each write is
//! one unit of work for the [`Writer`](super::writer::Writer) (its own
//! savepoint in a transaction it may share with other writes, answered
//! after the commit); its statements count as the request's database work.

use rusqlite::{params, Connection, OptionalExtension, ToSql};
use seed_data::{Altitude, Mission, MissionId, MissionSummary, Timestamp, Waypoint, WaypointId};

use super::rows::{self, waypoint_columns};
use super::StoreError;
use super::{NewMission, QueryPlan, Store, WaypointChange, LOAD_BATCH};
use crate::truth::evidence::{evidence_only, StatementKind};

/// The head of a mission insert; the rows follow as `VALUES (...), ...`.
const INSERT_MISSIONS: &str = "INSERT INTO missions (id, name, status, region, priority, \
     commander, unit, created_at, updated_at, version, waypoint_count)";

/// The head of a waypoint insert.
const INSERT_WAYPOINTS: &str = "INSERT INTO waypoints (mission_id, seq, name, lat, lon, alt_m)";

/// One row of it, as `/__admin/queries` explains it (a write sends up to
/// a hundred rows per statement).
const INSERT_WAYPOINT_ROW: &str =
    "INSERT INTO waypoints (mission_id, seq, name, lat, lon, alt_m) VALUES (?, ?, ?, ?, ?, ?)";

/// A waypoint's move bumps its mission's version first.
const BUMP_VERSION: &str = "UPDATE missions SET version = version + 1, updated_at = ?1 \
     WHERE id = ?2 AND (?3 IS NULL OR version = ?3) RETURNING version";

/// A new mission's row (its id assigned by SQLite).
const INSERT_MISSION: &str = "INSERT INTO missions (name, status, region, priority, commander, \
     unit, created_at, updated_at, version, waypoint_count) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9) RETURNING id";

const MISSION_VERSION: &str = "SELECT version FROM missions WHERE id = ?1";

const DELETE_MISSION: &str = "DELETE FROM missions WHERE id = ?1";

/// The waypoint's move, with the plan's index qualifier.
fn move_waypoint_sql(plan: QueryPlan) -> String {
    format!(
        "UPDATE waypoints{} SET lat = ?1, lon = ?2, alt_m = COALESCE(?3, alt_m) \
         WHERE mission_id = ?4 AND seq = ?5 RETURNING {}",
        plan.indexed(),
        waypoint_columns!()
    )
}

/// Rows per multi-row INSERT (well under SQLite's bound-parameter limit):
/// one statement per hundred rows costs far less than one per row when
/// bulk loading.
const ROWS_PER_INSERT: usize = 100;

impl Store {
    /// Writes a stream of missions, [`LOAD_BATCH`] per unit of work; holds
    /// one batch in memory at a time. Returns the count.
    pub async fn load(
        &self,
        missions: impl Iterator<Item = Mission>,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut missions = missions.peekable();
        while missions.peek().is_some() {
            let batch: Vec<Mission> = missions.by_ref().take(LOAD_BATCH).collect();
            let n = batch.len() as u64;
            self.writer
                .write_alone(move |conn| insert_missions(conn, &batch))
                .await?;
            total += n;
            progress(total);
        }
        Ok(total)
    }

    /// waypoint_update: see `update_waypoint_untraced`; under a `store` span (exported with
    /// `--otlp-endpoint`: its statements and SQL as attributes).
    pub async fn update_waypoint(
        &self,
        mission: MissionId,
        waypoint: WaypointId,
        change: WaypointChange,
        expected_version: Option<i64>,
        plan: QueryPlan,
    ) -> Result<(Waypoint, i64), StoreError> {
        use tracing::Instrument;
        let span = super::store_span(StatementKind::WaypointUpdate);
        self.update_waypoint_untraced(mission, waypoint, change, expected_version, plan)
            .instrument(span)
            .await
    }

    /// Moves a waypoint and bumps its mission's version and `updated_at`, in
    /// one unit of work. With `expected_version`, a mission at another
    /// version is left alone and the call fails with
    /// [`StoreError::PreconditionFailed`]. Returns the waypoint as stored and the
    /// mission's new version.
    async fn update_waypoint_untraced(
        &self,
        mission: MissionId,
        waypoint: WaypointId,
        change: WaypointChange,
        expected_version: Option<i64>,
        plan: QueryPlan,
    ) -> Result<(Waypoint, i64), StoreError> {
        let now = Timestamp::now().to_string();
        let start = std::time::Instant::now();
        let out = self
            .writer
            .write(2, move |conn| {
                move_waypoint(
                    conn,
                    mission,
                    waypoint,
                    change,
                    expected_version,
                    plan,
                    &now,
                )
            })
            .await;
        let sql = move_waypoint_sql(plan);
        self.written(
            StatementKind::WaypointUpdate,
            &[BUMP_VERSION, &sql],
            2,
            start,
        );
        out
    }

    /// A write's evidence (its queries the writer counted).
    fn written(&self, kind: StatementKind, sql: &[&str], n: u64, start: std::time::Instant) {
        evidence_only(&self.evidence, kind, sql, n, start.elapsed());
    }

    /// mission_create: see `create_untraced`; under a `store` span (exported with
    /// `--otlp-endpoint`: its statements and SQL as attributes).
    pub async fn create(&self, new: NewMission) -> Result<Mission, StoreError> {
        use tracing::Instrument;
        let span = super::store_span(StatementKind::MissionCreate);
        self.create_untraced(new).instrument(span).await
    }

    /// Creates a mission (id assigned: one past the highest ever used).
    async fn create_untraced(&self, new: NewMission) -> Result<Mission, StoreError> {
        let queries = 1 + new.waypoints.len() as u64;
        let start = std::time::Instant::now();
        let out = self
            .writer
            .write(queries, move |conn| insert_mission(conn, new))
            .await;
        let kind = StatementKind::MissionCreate;
        self.written(kind, &[INSERT_MISSION, INSERT_WAYPOINT_ROW], queries, start);
        out
    }

    /// mission_delete: see `delete_untraced`; under a `store` span (exported with
    /// `--otlp-endpoint`: its statements and SQL as attributes).
    pub async fn delete(
        &self,
        id: MissionId,
        expected_version: Option<i64>,
    ) -> Result<(), StoreError> {
        use tracing::Instrument;
        let span = super::store_span(StatementKind::MissionDelete);
        self.delete_untraced(id, expected_version)
            .instrument(span)
            .await
    }

    /// Deletes a mission and its waypoints. With `expected_version`, only at
    /// that version.
    async fn delete_untraced(
        &self,
        id: MissionId,
        expected_version: Option<i64>,
    ) -> Result<(), StoreError> {
        let start = std::time::Instant::now();
        let out = self
            .writer
            .write(2, move |conn| delete_mission(conn, id, expected_version))
            .await;
        let kind = StatementKind::MissionDelete;
        self.written(kind, &[MISSION_VERSION, DELETE_MISSION], 2, start);
        out
    }
}

fn insert_missions(conn: &Connection, batch: &[Mission]) -> Result<(), StoreError> {
    let texts: Vec<[String; 4]> = batch
        .iter()
        .map(|m| {
            let s = &m.summary;
            [
                s.status.as_str().to_owned(),
                s.region.as_str().to_owned(),
                s.created_at.to_string(),
                s.updated_at.to_string(),
            ]
        })
        .collect();
    let numbers: Vec<[i64; 3]> = batch
        .iter()
        .map(|m| {
            let s = &m.summary;
            [
                i64::from(s.id.number()),
                i64::from(s.priority.get()),
                m.waypoints.len() as i64,
            ]
        })
        .collect();
    let rows: Vec<[&dyn ToSql; 11]> = batch
        .iter()
        .zip(&texts)
        .zip(&numbers)
        .map(
            |((m, [status, region, created, updated]), [id, priority, waypoints])| {
                let s = &m.summary;
                [
                    id as &dyn ToSql,
                    &s.name,
                    status,
                    region,
                    priority,
                    &s.commander,
                    &s.unit,
                    created,
                    updated,
                    &s.version,
                    waypoints,
                ]
            },
        )
        .collect();
    insert_rows(conn, INSERT_MISSIONS, &rows)?;
    let waypoints = batch
        .iter()
        .flat_map(|m| m.waypoints.iter().map(move |w| (m.summary.id, w)));
    insert_waypoints(conn, waypoints)
}

fn move_waypoint(
    conn: &Connection,
    mission: MissionId,
    waypoint: WaypointId,
    change: WaypointChange,
    expected_version: Option<i64>,
    plan: QueryPlan,
    now: &str,
) -> Result<(Waypoint, i64), StoreError> {
    let id = i64::from(mission.number());
    let version: Option<i64> = conn
        .prepare_cached(BUMP_VERSION)?
        .query_row(params![now, id, expected_version], |r| r.get(0))
        .optional()?;
    let Some(version) = version else {
        let current: Option<i64> = conn
            .prepare_cached(MISSION_VERSION)?
            .query_row([id], |r| r.get(0))
            .optional()?;
        return Err(match (current, expected_version) {
            (Some(current), Some(expected)) => StoreError::PreconditionFailed {
                expected: expected.to_string(),
                current,
            },
            _ => StoreError::NotFound(format!("no mission {mission}")),
        });
    };
    let sql = move_waypoint_sql(plan);
    let mut update = conn.prepare_cached(&sql)?;
    let mut found = update.query(params![
        change.lat.get(),
        change.lon.get(),
        change.alt_m.map(Altitude::get),
        id,
        i64::from(waypoint.seq()),
    ])?;
    let Some(row) = found.next()? else {
        // The unit's savepoint is rolled back: so is the version bump.
        return Err(StoreError::NotFound(format!(
            "mission {mission} has no waypoint {waypoint}"
        )));
    };
    let wp = rows::waypoint(row)?;
    Ok((wp, version))
}

fn insert_mission(conn: &Connection, new: NewMission) -> Result<Mission, StoreError> {
    let now = Timestamp::now();
    let id: i64 = conn.prepare_cached(INSERT_MISSION)?.query_row(
        params![
            new.name,
            new.status.as_str(),
            new.region.as_str(),
            i64::from(new.priority.get()),
            new.commander,
            new.unit,
            now.to_string(),
            now.to_string(),
            new.waypoints.len() as i64,
        ],
        |r| r.get(0),
    )?;
    let mission_id = u32::try_from(id)
        .ok()
        .and_then(MissionId::new)
        .ok_or_else(|| StoreError::Internal(format!("mission id {id} out of range")))?;
    let waypoints: Vec<Waypoint> = new
        .waypoints
        .into_iter()
        .zip(1u32..)
        .map(|((name, lat, lon, alt_m), seq)| Waypoint {
            id: WaypointId::new(seq).expect("seq starts at 1"),
            name,
            lat,
            lon,
            alt_m,
        })
        .collect();
    insert_waypoints(conn, waypoints.iter().map(|w| (mission_id, w)))?;
    let summary = MissionSummary {
        id: mission_id,
        name: new.name,
        status: new.status,
        region: new.region,
        priority: new.priority,
        commander: new.commander,
        unit: new.unit,
        created_at: now,
        updated_at: now,
        version: 1,
        waypoint_count: 0,
    };
    Ok(summary.with_waypoints(waypoints))
}

fn delete_mission(
    conn: &Connection,
    id: MissionId,
    expected_version: Option<i64>,
) -> Result<(), StoreError> {
    let current: Option<i64> = conn
        .prepare_cached(MISSION_VERSION)?
        .query_row([i64::from(id.number())], |r| r.get(0))
        .optional()?;
    match (current, expected_version) {
        (None, _) => return Err(StoreError::NotFound(format!("no mission {id}"))),
        (Some(current), Some(expected)) if current != expected => {
            return Err(StoreError::PreconditionFailed {
                expected: expected.to_string(),
                current,
            })
        }
        _ => {}
    }
    conn.prepare_cached(DELETE_MISSION)?
        .execute([i64::from(id.number())])?;
    Ok(())
}

/// A waypoint row's values: (mission, seq), (lat, lon, altitude), name.
type WaypointValues<'a> = ([i64; 2], [Option<f64>; 3], &'a str);

fn insert_waypoints<'a>(
    conn: &Connection,
    waypoints: impl Iterator<Item = (MissionId, &'a Waypoint)>,
) -> Result<(), StoreError> {
    let values: Vec<WaypointValues<'_>> = waypoints
        .map(|(mission, w)| {
            (
                [i64::from(mission.number()), i64::from(w.id.seq())],
                [
                    Some(w.lat.get()),
                    Some(w.lon.get()),
                    w.alt_m.map(Altitude::get),
                ],
                w.name.as_str(),
            )
        })
        .collect();
    let rows: Vec<[&dyn ToSql; 6]> = values
        .iter()
        .map(|([mission, seq], [lat, lon, alt], name)| {
            [mission as &dyn ToSql, seq, name, lat, lon, alt]
        })
        .collect();
    insert_rows(conn, INSERT_WAYPOINTS, &rows)
}

/// Inserts `rows` with `head` (`INSERT INTO t (columns)`), up to
/// [`ROWS_PER_INSERT`] rows per statement (statements from the cache).
fn insert_rows<const N: usize>(
    conn: &Connection,
    head: &str,
    rows: &[[&dyn ToSql; N]],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let one = format!("({})", vec!["?"; N].join(", "));
        let sql = format!("{head} VALUES {}", vec![one; chunk.len()].join(", "));
        let params = chunk.iter().flat_map(|row| row.iter().copied());
        conn.prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(params))?;
    }
    Ok(())
}
