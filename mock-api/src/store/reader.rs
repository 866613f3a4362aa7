//! Mission reads without a driver thread: a few rusqlite connections to the
//! same file, used on the request's own thread.
//!
//! Why: a driver that runs each connection on a thread of its own hands
//! every statement and row across and back, which for one small indexed
//! read costs more than SQLite's own work (BENCHMARKS.md has the profile).
//! Here the statement runs where the request is, from a prepared-statement
//! cache, and rows are decoded straight into the domain types. The read is
//! real: every request runs its SQL against the file; nothing is cached
//! but statements.
//!
//! The paths that are slow on purpose (the `n-plus-one` and `missing-index`
//! causes) run on tokio's blocking pool instead, so that they slow their
//! route and not every other request on the same worker thread.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use seed_data::{Mission, MissionId, MissionSummary};
use tokio::sync::Semaphore;

use super::rows::{self, mission_columns, waypoint_columns};
use super::QueryPlan;
use super::StoreError;

/// A mission row.
const MISSION_SQL: &str = concat!(
    "SELECT ",
    mission_columns!(),
    " FROM missions WHERE id = ?1"
);

/// A mission's waypoints in route order (a range of the covering index
/// `waypoints_for_read`).
const WAYPOINTS_SQL: &str = concat!(
    "SELECT ",
    waypoint_columns!(),
    " FROM waypoints WHERE mission_id = ?1 ORDER BY seq"
);

/// One waypoint of a mission (the N+1 path).
const WAYPOINT_SQL: &str = concat!(
    "SELECT ",
    waypoint_columns!(),
    " FROM waypoints WHERE mission_id = ?1 AND seq = ?2"
);

/// What a plain mission read runs (`/__admin/queries` explains these).
pub(super) const MISSION_READ: [&str; 2] = [MISSION_SQL, WAYPOINTS_SQL];

/// What a mission read runs under `plan`: the N+1 path's per-waypoint
/// statement, or the waypoints read without an index.
pub(super) fn mission_read_sql(plan: QueryPlan) -> Vec<String> {
    let waypoints = if plan.n_plus_one {
        WAYPOINT_SQL
    } else {
        WAYPOINTS_SQL
    };
    vec![MISSION_SQL.to_owned(), with_plan(waypoints, plan)]
}

/// Idle read connections, opened on demand and kept up to a bound.
#[derive(Debug)]
pub(super) struct Readers {
    path: PathBuf,
    max_idle: usize,
    /// Bounds the slow paths running on the blocking pool at once (as a
    /// pool of `max_idle` connections would): the rest wait their turn.
    slow: Arc<Semaphore>,
    /// `None` once closed: connections in use are then dropped, not kept.
    idle: Mutex<Option<Vec<Connection>>>,
}

impl Readers {
    pub(super) fn new(path: &Path, max_idle: usize) -> Readers {
        Readers {
            path: path.to_owned(),
            max_idle: max_idle.max(1),
            slow: Arc::new(Semaphore::new(max_idle.max(1))),
            idle: Mutex::new(Some(Vec::new())),
        }
    }

    fn open(&self) -> Result<Connection, StoreError> {
        // Read-write (not created) so that whichever connection closes last
        // can checkpoint the WAL; `query_only` keeps this one to reads.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(
            "PRAGMA query_only = 1; PRAGMA cache_size = -32000; PRAGMA temp_store = memory;",
        )?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(conn)
    }

    /// Runs `f` on an idle connection (or a new one) and keeps the
    /// connection for the next read.
    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self.lock().as_mut().and_then(Vec::pop);
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let out = f(&conn);
        if let Some(idle) = self.lock().as_mut() {
            if idle.len() < self.max_idle {
                idle.push(conn);
            }
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<Connection>>> {
        // A panic while holding the lock cannot leave the list half-changed.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes the idle connections; later reads open their own and close them after.
    pub(super) fn close(&self) {
        self.lock().take();
    }

    /// A mission with its waypoints, read in one transaction (one
    /// snapshot). The returned duration is the time spent in SQLite.
    pub(super) fn mission(&self, id: MissionId) -> Result<(Option<Mission>, Duration), StoreError> {
        self.with(|conn| {
            let start = Instant::now();
            let mission = snapshot(conn, |conn| read_mission(conn, WAYPOINTS_SQL, id))?;
            Ok((mission, start.elapsed()))
        })
    }

    /// Runs `f` on a connection on the blocking pool, one of a bounded
    /// number at a time (`Busy` after waiting `wait`): for reads that are
    /// slow on purpose.
    pub(super) async fn slow<T: Send + 'static>(
        self: Arc<Self>,
        wait: Duration,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let permit = tokio::time::timeout(wait, Arc::clone(&self.slow).acquire_owned())
            .await
            .map_err(|_| StoreError::Busy)?
            .map_err(|_| StoreError::Busy)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            self.with(f)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("a slow read did not finish: {e}")))?
    }

    /// The emulated slow paths, in one transaction as well, on the blocking
    /// pool (one of a bounded number at a time; `Busy` after waiting
    /// `wait`): `n_plus_one` reads the mission row and then each waypoint
    /// with a statement of its own; `missing_index` reads the waypoints
    /// without any index (a full scan). Returns the mission and the number
    /// of statements run.
    pub(super) async fn mission_slow(
        self: Arc<Self>,
        id: MissionId,
        plan: QueryPlan,
        wait: Duration,
    ) -> Result<(Option<Mission>, u64), StoreError> {
        self.slow(wait, move |conn| {
            let read = snapshot(conn, |conn| {
                if plan.n_plus_one {
                    n_plus_one(conn, id, plan)
                } else {
                    Ok((read_mission(conn, &with_plan(WAYPOINTS_SQL, plan), id)?, 2))
                }
            });
            if let Ok((_, queries)) = &read {
                // One round trip per query, the connection held meanwhile.
                std::thread::sleep(plan.round_trip * (*queries).min(10_000) as u32);
            }
            read
        })
        .await
    }
}

/// `sql` with the plan's index qualifier after its `FROM waypoints`.
fn with_plan(sql: &str, plan: QueryPlan) -> String {
    sql.replace(
        "FROM waypoints",
        &format!("FROM waypoints{}", plan.indexed()),
    )
}

/// Runs `f` inside one read transaction (`BEGIN` ... `COMMIT`, both from
/// the statement cache), so that its statements see one snapshot.
pub(super) fn snapshot<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let out = f(conn);
    let end = if out.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = conn.prepare_cached(end).and_then(|mut s| s.execute([]));
    let out = out?;
    ended?;
    Ok(out)
}

/// The mission row alone.
fn read_summary(conn: &Connection, id: MissionId) -> Result<Option<MissionSummary>, StoreError> {
    let mut stmt = conn.prepare_cached(MISSION_SQL)?;
    let mut found = stmt.query([i64::from(id.number())])?;
    found.next()?.map(rows::summary).transpose()
}

/// The mission row, then its waypoints with `waypoints_sql`.
fn read_mission(
    conn: &Connection,
    waypoints_sql: &str,
    id: MissionId,
) -> Result<Option<Mission>, StoreError> {
    let Some(summary) = read_summary(conn, id)? else {
        return Ok(None);
    };
    let mut waypoints = Vec::with_capacity(summary.waypoint_count as usize);
    let mut stmt = conn.prepare_cached(waypoints_sql)?;
    let mut rows = stmt.query([i64::from(id.number())])?;
    while let Some(row) = rows.next()? {
        waypoints.push(rows::waypoint(row)?);
    }
    Ok(Some(summary.with_waypoints(waypoints)))
}

fn n_plus_one(
    conn: &Connection,
    id: MissionId,
    plan: QueryPlan,
) -> Result<(Option<Mission>, u64), StoreError> {
    let Some(summary) = read_summary(conn, id)? else {
        return Ok((None, 1));
    };
    let number = i64::from(id.number());
    let mut stmt = conn.prepare_cached(&with_plan(WAYPOINT_SQL, plan))?;
    let mut waypoints = Vec::with_capacity(summary.waypoint_count as usize);
    let mut queries = 1;
    for seq in 1..=i64::from(summary.waypoint_count) {
        queries += 1;
        let mut found = stmt.query([number, seq])?;
        if let Some(row) = found.next()? {
            waypoints.push(rows::waypoint(row)?);
        }
    }
    Ok((Some(summary.with_waypoints(waypoints)), queries))
}
