//! The store: the SQLite schema (embedded migrations), the queries the
//! routes need, and bulk loading of the generator's stream.
//!
//! Concurrency: SQLite allows one writer at a time. Every write goes through
//! a pool of exactly one connection, so our own writers queue in the pool
//! instead of fighting over the file lock ("database is locked"); reads use
//! a separate pool of connections (used only for reads) that WAL lets run
//! beside the writer. A busy timeout covers other processes (e.g. `seed-data
//! --database`) writing to the same file. Mission reads, the hottest route,
//! skip the driver's thread hand-offs ([`reader`]).

mod reader;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use seed_data::{
    Altitude, Latitude, Longitude, Mission, MissionId, MissionSummary, Priority, Region, Status,
    Timestamp, Waypoint, WaypointId,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::error::Error;
use crate::truth;
use reader::Readers;

/// Embedded migrations (`mock-api/migrations`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Missions per transaction when bulk loading.
const LOAD_BATCH: usize = 2_000;
/// How long a read waits for a connection before the server answers 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// Rows per multi-row INSERT (well under SQLite's bound-parameter limit).
const ROWS_PER_INSERT: usize = 400;

/// Which query path to take: the emulated regression causes switch the
/// SQL the store really runs (no sleeps stand in for them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryPlan {
    /// Search and waypoint lookups run `NOT INDEXED`: full scans.
    pub missing_index: bool,
    /// A mission read loads its waypoints with one query each.
    pub n_plus_one: bool,
}

impl QueryPlan {
    /// The qualifier after a table name (and its alias) that forbids indexes.
    fn indexed(self) -> &'static str {
        if self.missing_index {
            " NOT INDEXED"
        } else {
            ""
        }
    }
}

/// Search filters and page.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub status: Option<Status>,
    pub region: Option<Region>,
    /// Return missions after this one.
    pub after: Option<MissionId>,
    pub limit: u32,
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub missions: Vec<MissionSummary>,
    /// The last id of this page when more rows follow.
    pub next: Option<MissionId>,
    /// How many missions match the filters in all.
    pub total: u64,
}

/// A waypoint change.
#[derive(Debug, Clone, Copy)]
pub struct WaypointChange {
    pub lat: Latitude,
    pub lon: Longitude,
    /// `None` keeps the current altitude.
    pub alt_m: Option<Altitude>,
}

/// A mission to create; the store assigns the id, version and times.
#[derive(Debug, Clone)]
pub struct NewMission {
    pub name: String,
    pub status: Status,
    pub region: Region,
    pub priority: Priority,
    pub commander: String,
    pub unit: String,
    /// `(name, lat, lon, alt_m)` in route order.
    pub waypoints: Vec<(String, Latitude, Longitude, Option<Altitude>)>,
}

/// Handles to the database: a read pool and a single-connection write pool.
#[derive(Debug, Clone)]
pub struct Store {
    read: SqlitePool,
    write: SqlitePool,
    readers: Arc<Readers>,
    path: PathBuf,
}

/// Parses `sqlite://PATH` (or `sqlite:PATH`, or a bare path) into a file path.
pub fn database_path(url: &str) -> Result<PathBuf, Error> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Err(Error::Internal(format!(
            "database URL {url:?} must name a file, e.g. sqlite://mock-api.db"
        )));
    }
    Ok(PathBuf::from(path))
}

impl Store {
    /// Opens (creating if missing) the SQLite file at `path` and applies the migrations.
    pub async fn open(path: &Path, read_connections: u32) -> Result<Self, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Internal(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-32000")
            .pragma("temp_store", "memory");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(read_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // Not opened read-only: whichever connection closes last must be
            // able to checkpoint the WAL into the main file and remove it.
            .connect_with(options)
            .await?;
        Ok(Self {
            read,
            write,
            readers: Arc::new(Readers::new(path, read_connections as usize)),
            path: path.to_owned(),
        })
    }

    /// Deletes the database file and its WAL and shared-memory files, if any.
    pub fn remove_files(path: &Path) -> std::io::Result<()> {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes both pools, then checkpoints the WAL into the main file from a
    /// last connection (closing it removes the WAL), so that the file on disk
    /// is complete on its own.
    pub async fn close(&self) {
        self.readers.close();
        self.read.close().await;
        self.write.close().await;
        let options = SqliteConnectOptions::new()
            .filename(&self.path)
            .busy_timeout(Duration::from_secs(10));
        match SqliteConnection::connect_with(&options).await {
            Ok(mut conn) => {
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&mut conn)
                    .await
                {
                    tracing::warn!(error = %e, "final WAL checkpoint failed");
                }
                let _ = conn.close().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot reopen the database for the final checkpoint")
            }
        }
    }

    /// Answers when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn mission_count(&self) -> Result<u64, Error> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM missions")
            .fetch_one(&self.read)
            .await?;
        Ok(n as u64)
    }

    /// Writes a stream of missions, in batches of [`LOAD_BATCH`] per
    /// transaction; holds one batch in memory at a time. Returns the count.
    pub async fn load(
        &self,
        missions: impl Iterator<Item = Mission>,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, Error> {
        let mut total = 0u64;
        let mut batch = Vec::with_capacity(LOAD_BATCH);
        let mut missions = missions.peekable();
        while missions.peek().is_some() {
            batch.clear();
            batch.extend(missions.by_ref().take(LOAD_BATCH));
            let mut tx = self.write.begin().await?;
            for chunk in batch.chunks(ROWS_PER_INSERT) {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO missions (id, name, status, region, priority, commander, unit, \
                     created_at, updated_at, version, waypoint_count) ",
                );
                q.push_values(chunk, |mut b, m| {
                    b.push_bind(i64::from(m.id.number()))
                        .push_bind(&m.name)
                        .push_bind(m.status.as_str())
                        .push_bind(m.region.as_str())
                        .push_bind(i64::from(m.priority.get()))
                        .push_bind(&m.commander)
                        .push_bind(&m.unit)
                        .push_bind(m.created_at.to_string())
                        .push_bind(m.updated_at.to_string())
                        .push_bind(m.version)
                        .push_bind(m.waypoints.len() as i64);
                });
                q.build().execute(&mut *tx).await?;
            }
            let rows = batch
                .iter()
                .flat_map(|m| m.waypoints.iter().map(move |w| (m.id, w)));
            insert_waypoints(&mut tx, rows).await?;
            tx.commit().await?;
            total += batch.len() as u64;
            progress(total);
        }
        Ok(total)
    }

    /// A mission with its waypoints in route order: the mission row and its
    /// waypoints in one read transaction (one snapshot), on the request's
    /// own thread; with `n_plus_one` (the mission row, then each waypoint
    /// with a query of its own) or `missing_index`, on the blocking pool.
    pub async fn mission(&self, id: MissionId, plan: QueryPlan) -> Result<Option<Mission>, Error> {
        if plan == QueryPlan::default() {
            let (mission, elapsed) = self.readers.mission(id)?;
            truth::count_queries(2, elapsed);
            return Ok(mission);
        }
        let start = std::time::Instant::now();
        let (mission, queries) = Arc::clone(&self.readers)
            .mission_slow(id, plan, ACQUIRE_TIMEOUT)
            .await?;
        truth::count_queries(queries, start.elapsed());
        Ok(mission)
    }

    /// Moves a waypoint and bumps its mission's version and `updated_at`, in
    /// one transaction. With `expected_version`, a mission at another version
    /// is left alone and the call fails with [`Error::PreconditionFailed`].
    /// Returns the waypoint as stored and the mission's new version.
    pub async fn update_waypoint(
        &self,
        mission: MissionId,
        waypoint: WaypointId,
        change: WaypointChange,
        expected_version: Option<i64>,
        plan: QueryPlan,
    ) -> Result<(Waypoint, i64), Error> {
        let mut tx = self.write.begin().await?;
        let id = i64::from(mission.number());
        let version: Option<i64> = truth::timed(
            1,
            sqlx::query_scalar(
                "UPDATE missions SET version = version + 1, updated_at = ?1 \
                 WHERE id = ?2 AND (?3 IS NULL OR version = ?3) RETURNING version",
            )
            .bind(Timestamp::now().to_string())
            .bind(id)
            .bind(expected_version)
            .fetch_optional(&mut *tx),
        )
        .await?;
        let Some(version) = version else {
            let current: Option<i64> = truth::timed(
                1,
                sqlx::query_scalar("SELECT version FROM missions WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&mut *tx),
            )
            .await?;
            return Err(match (current, expected_version) {
                (Some(current), Some(expected)) => Error::PreconditionFailed {
                    expected: expected.to_string(),
                    current,
                },
                _ => Error::NotFound(format!("no mission {mission}")),
            });
        };
        let sql = format!(
            "UPDATE waypoints{} SET lat = ?1, lon = ?2, alt_m = COALESCE(?3, alt_m) \
             WHERE mission_id = ?4 AND seq = ?5 \
             RETURNING seq, name AS wp_name, lat, lon, alt_m",
            plan.indexed()
        );
        let row = truth::timed(
            1,
            sqlx::query(&sql)
                .bind(change.lat.get())
                .bind(change.lon.get())
                .bind(change.alt_m.map(Altitude::get))
                .bind(id)
                .bind(i64::from(waypoint.seq()))
                .fetch_optional(&mut *tx),
        )
        .await?;
        let Some(row) = row else {
            // Dropping the transaction rolls the version bump back.
            return Err(Error::NotFound(format!(
                "mission {mission} has no waypoint {waypoint}"
            )));
        };
        let wp = waypoint_from_row(&row)?;
        tx.commit().await?;
        Ok((wp, version))
    }

    /// Mission summaries matching the filters, in id order, one page, and
    /// how many match in all.
    pub async fn search(&self, query: &SearchQuery, plan: QueryPlan) -> Result<SearchPage, Error> {
        fn filters(q: &mut QueryBuilder<'_, Sqlite>, query: &SearchQuery) {
            if let Some(status) = query.status {
                q.push(" AND status = ").push_bind(status.as_str());
            }
            if let Some(region) = query.region {
                q.push(" AND region = ").push_bind(region.as_str());
            }
        }
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT id, name, status, region, priority, commander, unit, created_at, \
             updated_at, version, waypoint_count FROM missions{} WHERE id > ",
            plan.indexed()
        ));
        q.push_bind(query.after.map_or(0, |id| i64::from(id.number())));
        filters(&mut q, query);
        q.push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(query.limit) + 1);
        let mut count = QueryBuilder::<Sqlite>::new(format!(
            "SELECT COUNT(*) FROM missions{} WHERE 1",
            plan.indexed()
        ));
        filters(&mut count, query);

        let mut conn = self.read.acquire().await?;
        let rows = truth::timed(1, q.build().fetch_all(&mut *conn)).await?;
        let total: i64 = truth::timed(1, count.build_query_scalar().fetch_one(&mut *conn)).await?;
        let mut missions = rows
            .iter()
            .map(summary_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if missions.len() > query.limit as usize {
            missions.truncate(query.limit as usize);
            missions.last().map(|m| m.id)
        } else {
            None
        };
        Ok(SearchPage {
            missions,
            next,
            total: total as u64,
        })
    }

    /// Creates a mission (id assigned: one past the highest ever used).
    pub async fn create(&self, new: NewMission) -> Result<Mission, Error> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let id: i64 = truth::timed(
            1,
            sqlx::query_scalar(
                "INSERT INTO missions (name, status, region, priority, commander, unit, created_at, \
                 updated_at, version, waypoint_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) RETURNING id",
            )
            .bind(&new.name)
            .bind(new.status.as_str())
            .bind(new.region.as_str())
            .bind(i64::from(new.priority.get()))
            .bind(&new.commander)
            .bind(&new.unit)
            .bind(now.to_string())
            .bind(now.to_string())
            .bind(new.waypoints.len() as i64)
            .fetch_one(&mut *tx),
        )
        .await?;
        let mission_id = u32::try_from(id)
            .ok()
            .and_then(MissionId::new)
            .ok_or_else(|| Error::Internal(format!("mission id {id} out of range")))?;
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
        insert_waypoints(&mut tx, waypoints.iter().map(|w| (mission_id, w))).await?;
        tx.commit().await?;
        Ok(Mission {
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
            waypoints,
        })
    }

    /// Deletes a mission and its waypoints. With `expected_version`, only at
    /// that version. Returns whether a mission was deleted.
    pub async fn delete(&self, id: MissionId, expected_version: Option<i64>) -> Result<(), Error> {
        let mut tx = self.write.begin().await?;
        let current: Option<i64> = truth::timed(
            1,
            sqlx::query_scalar("SELECT version FROM missions WHERE id = ?")
                .bind(i64::from(id.number()))
                .fetch_optional(&mut *tx),
        )
        .await?;
        match (current, expected_version) {
            (None, _) => return Err(Error::NotFound(format!("no mission {id}"))),
            (Some(current), Some(expected)) if current != expected => {
                return Err(Error::PreconditionFailed {
                    expected: expected.to_string(),
                    current,
                })
            }
            _ => {}
        }
        truth::timed(
            1,
            sqlx::query("DELETE FROM missions WHERE id = ?")
                .bind(i64::from(id.number()))
                .execute(&mut *tx),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_waypoints<'a>(
    tx: &mut sqlx::SqliteConnection,
    rows: impl Iterator<Item = (MissionId, &'a Waypoint)>,
) -> Result<(), Error> {
    let rows: Vec<_> = rows.collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO waypoints (mission_id, seq, name, lat, lon, alt_m) ",
        );
        q.push_values(chunk, |mut b, (mission, w)| {
            b.push_bind(i64::from(mission.number()))
                .push_bind(i64::from(w.id.seq()))
                .push_bind(&w.name)
                .push_bind(w.lat.get())
                .push_bind(w.lon.get())
                .push_bind(w.alt_m.map(Altitude::get));
        });
        truth::timed(1, q.build().execute(&mut *tx)).await?;
    }
    Ok(())
}

/// A stored value that does not parse back means the file was edited by
/// hand or is corrupt: a server error, with the reason logged.
fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored {what} does not parse: {e}"))
}

/// A mission row as stored, before its values are parsed.
#[derive(Debug)]
struct MissionRow {
    id: i64,
    name: String,
    status: String,
    region: String,
    priority: i64,
    commander: String,
    unit: String,
    created_at: String,
    updated_at: String,
    version: i64,
    waypoint_count: i64,
}

impl MissionRow {
    fn into_summary(self) -> Result<MissionSummary, Error> {
        Ok(MissionSummary {
            id: u32::try_from(self.id)
                .ok()
                .and_then(MissionId::new)
                .ok_or_else(|| corrupt("mission id", self.id))?,
            name: self.name,
            status: Status::from_str(&self.status).map_err(|e| corrupt("status", e))?,
            region: Region::from_str(&self.region).map_err(|e| corrupt("region", e))?,
            priority: Priority::parse(self.priority).map_err(|e| corrupt("priority", e))?,
            commander: self.commander,
            unit: self.unit,
            created_at: Timestamp::parse(&self.created_at).map_err(|e| corrupt("created_at", e))?,
            updated_at: Timestamp::parse(&self.updated_at).map_err(|e| corrupt("updated_at", e))?,
            version: self.version,
            waypoint_count: u32::try_from(self.waypoint_count)
                .map_err(|e| corrupt("waypoint_count", e))?,
        })
    }
}

/// A waypoint row as stored, before its values are parsed.
#[derive(Debug)]
struct WaypointRow {
    seq: i64,
    name: String,
    lat: f64,
    lon: f64,
    alt_m: Option<f64>,
}

impl WaypointRow {
    fn into_waypoint(self) -> Result<Waypoint, Error> {
        Ok(Waypoint {
            id: u32::try_from(self.seq)
                .ok()
                .and_then(WaypointId::new)
                .ok_or_else(|| corrupt("waypoint seq", self.seq))?,
            name: self.name,
            lat: Latitude::parse(self.lat).map_err(|e| corrupt("lat", e))?,
            lon: Longitude::parse(self.lon).map_err(|e| corrupt("lon", e))?,
            alt_m: self
                .alt_m
                .map(Altitude::parse)
                .transpose()
                .map_err(|e| corrupt("alt_m", e))?,
        })
    }
}

fn summary_from_row(row: &SqliteRow) -> Result<MissionSummary, Error> {
    MissionRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        status: row.try_get("status")?,
        region: row.try_get("region")?,
        priority: row.try_get("priority")?,
        commander: row.try_get("commander")?,
        unit: row.try_get("unit")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
        waypoint_count: row.try_get("waypoint_count")?,
    }
    .into_summary()
}

fn waypoint_from_row(row: &SqliteRow) -> Result<Waypoint, Error> {
    WaypointRow {
        seq: row.try_get("seq")?,
        name: row.try_get("wp_name")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        alt_m: row.try_get("alt_m")?,
    }
    .into_waypoint()
}
