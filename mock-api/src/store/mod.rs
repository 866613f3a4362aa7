//! The store. In: domain values (ids, changes, new missions, filters) and
//! the [`QueryPlan`] the emulated causes chose. Out: domain values read
//! back, or a [`StoreError`]. It owns the SQLite schema (embedded migrations),
//! the queries the routes need, and bulk loading of the generator's stream.
//!
//! - [`reader`]: mission reads on rusqlite connections on the request's
//!   own thread. `search`: searches, on the same connections. `write`:
//!   writes and bulk loading, as units of work for [`writer`]: the one
//!   write connection, on its own thread, with group commit.
//!   `rows`: rows of either driver decoded into domain values, once.
//!
//! Concurrency: SQLite allows one writer at a time. Every write goes through
//! exactly one connection, owned by the write thread, so our own writers
//! queue for it instead of fighting over the file lock ("database is
//! locked"), and writes that queue together share a commit; reads use
//! separate connections (used only for reads) that WAL lets run beside the
//! writer. A busy timeout covers other processes (e.g. `seed-data
//! --database`) writing to the same file. Mission reads and searches skip
//! the driver's thread hand-offs ([`reader`]).

mod error;
mod reader;
mod rows;
mod search;
mod storage;
mod write;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use seed_data::{
    Altitude, Latitude, Longitude, Mission, MissionId, MissionSummary, Priority, Region, Status,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, SqliteConnection};

use crate::truth::evidence::{statement, Evidence, StatementKind};
pub use error::StoreError;
use reader::Readers;
pub use storage::{StorageFailure, StorageFault};
use tracing::Instrument;
use writer::Writer;

/// Embedded migrations (`mock-api/migrations`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Missions per transaction when bulk loading.
const LOAD_BATCH: usize = 2_000;
/// How long a read waits for a connection before the server answers 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Which query path to take: the emulated regression causes switch the
/// SQL the store really runs (no sleeps stand in for them). Apart from
/// them, a mission read may pay a round trip per query, as it would to a
/// database over a network (the infrastructure, not a cause).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryPlan {
    /// Search and waypoint lookups run `NOT INDEXED`: full scans.
    pub missing_index: bool,
    /// A mission read loads its waypoints with one query each.
    pub n_plus_one: bool,
    /// Each query of a mission read waits this long, holding its
    /// connection (0: the in-process database's own cost only).
    pub round_trip: Duration,
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

/// Matches a search counts exactly by default; past it, `total` is this
/// bound and `total_exact` is false (as Elasticsearch's
/// `track_total_hits` does at 10,000).
pub const COUNT_BOUND: u64 = 10_000;

/// How a search counts the missions that match it (`?count=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CountMode {
    /// Exactly up to [`COUNT_BOUND`], then "at least" that (the default:
    /// the count's cost stays bounded as the data grows).
    #[default]
    Bounded,
    /// Exactly, however many: a COUNT over every match.
    Exact,
    /// Not at all (`total` is null).
    None,
}

/// Search filters and page.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub status: Option<Status>,
    pub region: Option<Region>,
    /// Return missions after this one.
    pub after: Option<MissionId>,
    pub limit: u32,
    pub count: CountMode,
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub missions: Vec<MissionSummary>,
    /// The last id of this page when more rows follow.
    pub next: Option<MissionId>,
    /// How many missions match the filters in all (`None`: not counted).
    pub total: Option<u64>,
    /// Whether `total` is the exact count (not the bound).
    pub total_exact: bool,
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

/// Handles to the database: a read pool, the mission readers and the
/// write thread.
#[derive(Debug, Clone)]
pub struct Store {
    read: SqlitePool,
    writer: Writer,
    readers: Arc<Readers>,
    path: PathBuf,
    /// Statement kinds and slow requests (`/__admin/queries`, `/__admin/slow`).
    pub evidence: Arc<Evidence>,
}

/// A store call's span (`debug`: exported with `--otlp-endpoint`, off
/// otherwise); its statements and SQL are recorded when they have run
/// ([`crate::truth::evidence::evidence_only`]).
pub(crate) fn store_span(kind: StatementKind) -> tracing::Span {
    tracing::debug_span!(
        "store",
        kind = kind.as_str(),
        statements = tracing::field::Empty,
        sql = tracing::field::Empty
    )
}

/// Parses `sqlite://PATH` (or `sqlite:PATH`, or a bare path) into a file path.
pub fn database_path(url: &str) -> Result<PathBuf, StoreError> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Err(StoreError::Internal(format!(
            "database URL {url:?} must name a file, e.g. sqlite://mock-api.db"
        )));
    }
    Ok(PathBuf::from(path))
}

impl Store {
    /// Opens (creating if missing) the SQLite file at `path` and applies the migrations.
    pub async fn open(path: &Path, read_connections: u32) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                folder: dir.to_owned(),
                source,
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
        {
            // Creates the file in WAL mode and brings the schema up to date.
            let mut conn = SqliteConnection::connect_with(&options).await?;
            MIGRATOR.run(&mut conn).await?;
            conn.close().await?;
        }
        let writer = Writer::start(path)?;
        let read = SqlitePoolOptions::new()
            .max_connections(read_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // Not opened read-only: whichever connection closes last must be
            // able to checkpoint the WAL into the main file and remove it.
            .connect_with(options)
            .await?;
        Ok(Self {
            read,
            writer,
            readers: Arc::new(Readers::new(path, read_connections as usize)),
            path: path.to_owned(),
            evidence: Arc::default(),
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
        self.writer.close().await;
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
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Emulates a storage condition on the write connection (or clears it).
    pub async fn set_storage_fault(&self, fault: StorageFault) -> Result<(), StoreError> {
        self.writer.set_fault(fault).await
    }

    pub fn storage_fault(&self) -> StorageFault {
        self.writer.fault()
    }

    /// Answers when the database would accept a write now: an insert that
    /// needs new pages, always rolled back.
    pub async fn probe_writes(&self) -> Result<(), StoreError> {
        self.writer
            .try_and_undo(|conn| {
                conn.execute("INSERT INTO write_probe (pad) VALUES (zeroblob(8192))", [])?;
                Ok(())
            })
            .await
    }

    /// SQLite's `EXPLAIN QUERY PLAN` for `sql` (parameters unbound): its
    /// plan lines, indented by depth.
    pub fn explain(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        self.readers.with(|conn| {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            // Parameters left unbound (NULL): the plan does not depend on them.
            let mut rows = stmt.raw_query();
            let mut depth: Vec<(i64, usize)> = Vec::new();
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let (id, parent, detail): (i64, i64, String) = (r.get(0)?, r.get(1)?, r.get(3)?);
                let d = depth
                    .iter()
                    .find(|(i, _)| *i == parent)
                    .map_or(0, |(_, d)| d + 1);
                depth.push((id, d));
                out.push(format!("{}{detail}", "  ".repeat(d)));
            }
            Ok(out)
        })
    }

    pub async fn mission_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM missions")
            .fetch_one(&self.read)
            .await?;
        Ok(n as u64)
    }

    /// mission_read: see `mission_untraced`; under a `store` span (exported with
    /// `--otlp-endpoint`: its statements and SQL as attributes).
    pub async fn mission(
        &self,
        id: MissionId,
        plan: QueryPlan,
    ) -> Result<Option<Mission>, StoreError> {
        let span = store_span(StatementKind::MissionRead);
        self.mission_untraced(id, plan).instrument(span).await
    }

    /// A mission with its waypoints in route order: the mission row and its
    /// waypoints in one read transaction (one snapshot), on the request's
    /// own thread; with `n_plus_one` (the mission row, then each waypoint
    /// with a query of its own) or `missing_index`, on the blocking pool.
    async fn mission_untraced(
        &self,
        id: MissionId,
        plan: QueryPlan,
    ) -> Result<Option<Mission>, StoreError> {
        let kind = StatementKind::MissionRead;
        if plan == QueryPlan::default() {
            let (mission, elapsed) = self.readers.mission(id)?;
            statement(&self.evidence, kind, &reader::MISSION_READ, 2, elapsed);
            return Ok(mission);
        }
        let start = std::time::Instant::now();
        let (mission, queries) = Arc::clone(&self.readers)
            .mission_slow(id, plan, ACQUIRE_TIMEOUT)
            .await?;
        let sql = reader::mission_read_sql(plan);
        let sql: Vec<&str> = sql.iter().map(String::as_str).collect();
        statement(&self.evidence, kind, &sql, queries, start.elapsed());
        Ok(mission)
    }
}
