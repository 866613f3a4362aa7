//! The write thread's batches, against a real SQLite file: what is
//! committed together, what is rolled back alone, and when each write is
//! answered.

use super::*;

/// A connection to a fresh file with a table `t (n)` and a table
/// `child` whose foreign key is checked at commit.
fn db(dir: &tempfile::TempDir) -> Connection {
    let conn = Connection::open(dir.path().join("w.db")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;
         CREATE TABLE t (n INTEGER PRIMARY KEY);
         CREATE TABLE child (p INTEGER REFERENCES t (n) DEFERRABLE INITIALLY DEFERRED);",
    )
    .unwrap();
    conn
}

/// A unit of `work` to keep (in a transaction of its own when
/// `alone`) and the receiver of its answer.
fn unit<T, F>(work: F, alone: bool) -> (Box<dyn Unit>, oneshot::Receiver<Reply<T>>)
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    Work::unit(work, true, alone)
}

/// A unit that inserts `n` into `t` (then fails, with `fail`) and the
/// receiver of its answer.
fn insert(n: i64, fail: bool) -> (Box<dyn Unit>, oneshot::Receiver<Reply<i64>>) {
    let work = move |conn: &Connection| {
        conn.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
        if fail {
            return Err(StoreError::NotFound(format!(
                "unit {n} fails after its insert"
            )));
        }
        Ok(n)
    };
    unit(work, false)
}

fn rows(conn: &Connection, table: &str) -> Vec<i64> {
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
        .unwrap();
    let n = stmt.query_map([], |r| r.get(0)).unwrap();
    n.map(Result::unwrap).collect()
}

#[test]
fn a_failed_unit_is_rolled_back_alone_and_the_others_commit_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db(&dir);
    let health = WriteHealth::default();
    let (a, mut ra) = insert(1, false);
    let (b, mut rb) = insert(2, true);
    let (c, mut rc) = insert(3, false);
    let mut queue = VecDeque::from([a, b, c]);
    batch(&mut conn, &mut queue, &health);
    assert!(queue.is_empty());
    assert!(matches!(ra.try_recv().unwrap().0, Ok(1)));
    assert!(matches!(
        rb.try_recv().unwrap().0,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(rc.try_recv().unwrap().0, Ok(3)));
    assert_eq!(rows(&conn, "t"), [1, 3]);
    assert!(conn.is_autocommit(), "the batch's transaction is closed");
}

#[test]
fn nothing_is_acknowledged_when_the_commit_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db(&dir);
    let health = WriteHealth::default();
    let (a, mut ra) = insert(1, false);
    // Its own statement succeeds; the foreign key fails at COMMIT.
    let (b, mut rb) = unit(
        |conn| {
            conn.execute("INSERT INTO child (p) VALUES (42)", [])?;
            Ok(())
        },
        false,
    );
    let mut queue = VecDeque::from([a, b]);
    batch(&mut conn, &mut queue, &health);
    assert!(
        ra.try_recv().unwrap().0.is_err(),
        "not committed: not acknowledged"
    );
    assert!(rb.try_recv().unwrap().0.is_err());
    assert!(rows(&conn, "t").is_empty());
    assert!(rows(&conn, "child").is_empty());
    // The connection goes on: the next batch commits.
    let (c, mut rc) = insert(3, false);
    let mut queue = VecDeque::from([c]);
    batch(&mut conn, &mut queue, &health);
    assert!(matches!(rc.try_recv().unwrap().0, Ok(3)));
    assert_eq!(rows(&conn, "t"), [3]);
}

#[test]
fn a_bulk_unit_has_a_transaction_of_its_own_and_fails_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db(&dir);
    let health = WriteHealth::default();
    let bulk = |ns: Vec<i64>, fail: bool| {
        let work = move |conn: &Connection| {
            for n in ns {
                conn.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
            }
            if fail {
                return Err(StoreError::NotFound("bulk fails after its inserts".into()));
            }
            Ok(())
        };
        unit(work, true)
    };
    let (a, mut ra) = insert(1, false);
    let (b, mut rb) = bulk(vec![10, 11], false);
    let (c, mut rc) = bulk(vec![20, 21], true);
    let (d, mut rd) = insert(4, false);
    let mut queue = VecDeque::from([a, b, c, d]);
    batch(&mut conn, &mut queue, &health);
    assert_eq!(
        queue.len(),
        3,
        "the bulk unit waits for the next transaction"
    );
    assert!(matches!(ra.try_recv().unwrap().0, Ok(1)));
    batch(&mut conn, &mut queue, &health);
    assert!(rb.try_recv().unwrap().0.is_ok());
    assert_eq!(rows(&conn, "t"), [1, 10, 11]);
    batch(&mut conn, &mut queue, &health);
    assert!(rc.try_recv().unwrap().0.is_err());
    assert_eq!(
        rows(&conn, "t"),
        [1, 10, 11],
        "the failed bulk unit left nothing"
    );
    batch(&mut conn, &mut queue, &health);
    assert!(matches!(rd.try_recv().unwrap().0, Ok(4)));
    assert!(queue.is_empty());
    assert_eq!(rows(&conn, "t"), [1, 4, 10, 11]);
}

#[test]
fn a_unit_that_panics_is_rolled_back_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db(&dir);
    let health = WriteHealth::default();
    let (a, mut ra) = insert(1, false);
    let (b, mut rb) = unit::<(), _>(
        |conn| {
            conn.execute("INSERT INTO t (n) VALUES (2)", [])?;
            panic!("a bug in a write");
        },
        false,
    );
    let (c, mut rc) = insert(3, false);
    let mut queue = VecDeque::from([a, b, c]);
    batch(&mut conn, &mut queue, &health);
    assert!(matches!(ra.try_recv().unwrap().0, Ok(1)));
    assert!(rb.try_recv().is_err(), "its caller hears it did not finish");
    assert!(matches!(rc.try_recv().unwrap().0, Ok(3)));
    assert_eq!(rows(&conn, "t"), [1, 3]);
}

#[tokio::test]
async fn a_probe_is_undone_and_writes_are_answered_through_the_thread() {
    let dir = tempfile::tempdir().unwrap();
    drop(db(&dir));
    let writer = Writer::start(&dir.path().join("w.db")).unwrap();
    let probed = writer
        .try_and_undo(|c| Ok(c.execute("INSERT INTO t (n) VALUES (7)", [])?))
        .await;
    assert_eq!(probed.unwrap(), 1);
    let written = writer
        .write(1, |c| Ok(c.execute("INSERT INTO t (n) VALUES (8)", [])?))
        .await;
    assert_eq!(written.unwrap(), 1);
    writer.close().await;
    let conn = Connection::open(dir.path().join("w.db")).unwrap();
    assert_eq!(rows(&conn, "t"), [8]);
    let after = writer.write(0, |_| Ok(())).await;
    assert!(after.is_err(), "a closed writer refuses work");
}

#[test]
fn units_lost_with_the_transaction_get_the_failure_that_ended_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db(&dir);
    let health = WriteHealth::default();
    let (a, mut ra) = insert(1, false);
    // As SQLite does on some SQLITE_FULL: the statement fails and the
    // whole transaction is rolled back under the units that ran before.
    let (b, mut rb) = unit::<(), _>(
        |conn| {
            conn.execute_batch("ROLLBACK")?;
            Err(StoreError::Storage(StorageFailure::Full))
        },
        false,
    );
    let (c, mut rc) = insert(3, false);
    let mut queue = VecDeque::from([a, b, c]);
    batch(&mut conn, &mut queue, &health);
    let lost = ra.try_recv().unwrap().0;
    assert!(
        matches!(lost, Err(StoreError::Storage(StorageFailure::Full))),
        "the unit that had succeeded is not acknowledged, for the same reason: {lost:?}"
    );
    assert!(matches!(
        rb.try_recv().unwrap().0,
        Err(StoreError::Storage(StorageFailure::Full))
    ));
    assert_eq!(queue.len(), 1, "the rest wait for a new transaction");
    batch(&mut conn, &mut queue, &health);
    assert!(matches!(rc.try_recv().unwrap().0, Ok(3)));
    assert_eq!(rows(&conn, "t"), [3]);
}
