//! The store's one error type. In: SQLite's and sqlx's errors, and the
//! store's own refusals. Out: [`StoreError`], which says what went wrong
//! with the data, never how to answer over HTTP: the routes turn it into
//! an HTTP problem where the two meet (`From<StoreError>` in `routes`).

use super::StorageFailure;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The mission or waypoint does not exist.
    #[error("{0}")]
    NotFound(String),
    /// `If-Match` named a version that is not the current one.
    #[error("the mission is at version {current}; If-Match asked for {expected}")]
    PreconditionFailed { expected: String, current: i64 },
    /// The database did not answer in time (its connections all busy).
    #[error("the database is busy; retry shortly")]
    Busy,
    /// The database refused a write for a storage reason (full, read-only,
    /// I/O); reads are still served.
    #[error("the database is not accepting writes ({0}); reads are still served; retry later")]
    Storage(StorageFailure),
    /// A failure through sqlx (the pool and its driver).
    #[error("sqlx: {0}")]
    Database(#[from] sqlx::Error),
    /// A failure of a direct SQLite connection (reads, the write thread).
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Migrations could not be applied (start-up only).
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database's folder could not be made.
    #[error("cannot create the database's folder {}", folder.display())]
    Folder {
        folder: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The write thread could not be started.
    #[error("cannot start the write thread")]
    Thread(#[source] std::io::Error),
    /// What the store holds or was asked is not what it should be (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

impl StoreError {
    /// Whether it says the database was too busy to answer (pool timed
    /// out, file locked): worth a retry.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Busy | StoreError::Database(sqlx::Error::PoolTimedOut) => true,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}
