//! Storage faults: a database that stops accepting writes (full, read-only,
//! failing I/O) while reads go on. In: the emulated condition the behaviour
//! sets ([`StorageFault`]), and every write's result. Out: the write's
//! error as [`StoreError::Storage`] (503), and the state readiness reports.
//!
//! The emulation makes SQLite itself fail, on the one write connection:
//! `full` caps the file at its current size (`PRAGMA max_page_count`), so
//! a write that needs a new page gets `SQLITE_FULL` and one that fits in
//! existing pages still succeeds, as on a full disk with free space inside
//! the file; `read-only` sets `PRAGMA query_only`, so every write gets
//! `SQLITE_READONLY`. Clearing the condition lifts the cap or the flag on
//! the same connection: no restart, nothing acknowledged is lost (a failed
//! write's transaction is rolled back whole).

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

use serde::{Deserialize, Serialize};

use super::StoreError;

/// The storage condition to emulate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StorageFault {
    /// Writes go through.
    #[default]
    None,
    /// The database cannot grow: writes needing a new page fail.
    Full,
    /// No write is allowed.
    ReadOnly,
}

impl StorageFault {
    const ALL: [StorageFault; 3] = [Self::None, Self::Full, Self::ReadOnly];

    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Full => "full",
            Self::ReadOnly => "read-only",
        }
    }

    pub fn is_none(&self) -> bool {
        *self == Self::None
    }
}

impl fmt::Display for StorageFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StorageFault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown storage fault {s:?}; expected none, full or read-only"))
    }
}

/// Why the database refused a write, from SQLite's own result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFailure {
    /// `SQLITE_FULL`: the disk, or the database's page cap, is full.
    Full,
    /// `SQLITE_READONLY`: the file or the connection is read-only.
    ReadOnly,
    /// `SQLITE_IOERR` or `SQLITE_CANTOPEN`: the storage failed.
    Io,
}

impl StorageFailure {
    /// The failure a SQLite error stands for, if it is a storage one.
    pub fn of(error: &StoreError) -> Option<Self> {
        let primary = match error {
            StoreError::Database(sqlx::Error::Database(e)) => e.code()?.parse::<i32>().ok()? & 0xff,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => e.extended_code & 0xff,
            _ => return None,
        };
        match primary {
            13 => Some(Self::Full),
            8 => Some(Self::ReadOnly),
            10 | 14 => Some(Self::Io),
            _ => None,
        }
    }
}

impl fmt::Display for StorageFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "the database or its disk is full",
            Self::ReadOnly => "the database is read-only",
            Self::Io => "the storage failed (I/O error)",
        })
    }
}

/// The emulated condition, and what a write's storage failure becomes.
#[derive(Debug, Default)]
pub(super) struct WriteHealth {
    fault: AtomicU8,
}

impl WriteHealth {
    pub(super) fn fault(&self) -> StorageFault {
        StorageFault::ALL[usize::from(self.fault.load(Ordering::Relaxed)).min(2)]
    }

    pub(super) fn set_fault(&self, fault: StorageFault) {
        let i = StorageFault::ALL
            .iter()
            .position(|f| *f == fault)
            .unwrap_or(0);
        self.fault.store(i as u8, Ordering::Relaxed);
    }

    /// A storage failure as [`StoreError::Storage`] (and logged); other errors as they are.
    pub(super) fn classify(&self, e: StoreError) -> StoreError {
        match StorageFailure::of(&e) {
            Some(failure) => {
                tracing::warn!(error = ?e, %failure, emulated = %self.fault(), "a write failed on storage");
                StoreError::Storage(failure)
            }
            None => e,
        }
    }
}

/// Puts the write connection in `fault`'s condition (and out of any other).
pub(super) fn apply(conn: &rusqlite::Connection, fault: StorageFault) -> rusqlite::Result<()> {
    let query_only = if fault == StorageFault::ReadOnly {
        "ON"
    } else {
        "OFF"
    };
    conn.execute_batch(&format!("PRAGMA query_only = {query_only}"))?;
    let cap: i64 = match fault {
        StorageFault::Full => conn.query_row("PRAGMA page_count", [], |r| r.get(0))?,
        _ => i64::from(u32::MAX - 1),
    };
    // The pragma answers with the cap it set: a row to read, not a batch.
    conn.query_row(&format!("PRAGMA max_page_count = {cap}"), [], |_| Ok(()))?;
    Ok(())
}
