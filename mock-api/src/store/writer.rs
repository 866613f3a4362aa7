//! The one write connection, on a thread of its own, with group commit. In:
//! units of work (closures over a rusqlite connection) from any task. Out:
//! each unit's result, sent back only once its changes are committed, with
//! the time it spent in the database.
//!
//! Why: a write through a driver thread pays a hand-off per statement, one
//! write at a time; here the thread takes every unit waiting (up to
//! [`MAX_BATCH`]), runs each inside a savepoint of one transaction (a unit
//! that fails is rolled back alone), commits once, and only then answers
//! the units that succeeded (BENCHMARKS.md has the measurements). A write
//! is acknowledged only after its commit (WAL, `synchronous = NORMAL`: the
//! commit is in the log before the answer leaves, so it survives the
//! process being killed), and writes arriving together share one commit.
//!
//! If the transaction is lost under a unit (SQLite rolls the whole
//! transaction back on `SQLITE_FULL`), the units that had succeeded in it
//! are answered with that failure, not acknowledged, and the rest run in a
//! new transaction.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::storage::{self, StorageFailure, StorageFault, WriteHealth};
use super::StoreError;

/// The most units one transaction groups.
pub(super) const MAX_BATCH: usize = 64;

/// What a unit's closure did: its result, kept until the commit when it
/// succeeded and asked to be kept.
type Ack = Box<dyn FnOnce(Result<Duration, StoreError>) + Send>;

/// What running a unit came to.
enum Ran {
    /// It succeeded: its changes are kept, its answer waits for the commit.
    Kept(Ack),
    /// Its changes are to be undone (it failed, with the storage failure
    /// when that was why; or it is a probe); it has been answered.
    Undone(Option<StorageFailure>),
}

/// A unit of work as the write thread sees it.
trait Unit: Send {
    /// Runs the work.
    fn run(self: Box<Self>, conn: &Connection) -> Ran;
    /// Runs in a transaction of its own, without a savepoint (a bulk
    /// load: a savepoint's sub-journal would copy every page it touches).
    fn alone(&self) -> bool;
    /// Answers without running (the write thread could not start a
    /// transaction).
    fn fail(self: Box<Self>, e: StoreError);
}

/// The answer a caller waits for: the result and the database time.
type Reply<T> = (Result<T, StoreError>, Duration);

struct Work<T, F> {
    work: F,
    /// Keep the changes (false: a probe, always rolled back).
    keep: bool,
    alone: bool,
    reply: oneshot::Sender<Reply<T>>,
}

impl<T, F> Work<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    /// A unit of `work` for the write thread, and the receiver of its
    /// answer.
    fn unit(work: F, keep: bool, alone: bool) -> (Box<dyn Unit>, oneshot::Receiver<Reply<T>>) {
        let (reply, answer) = oneshot::channel();
        let unit = Box::new(Work {
            work,
            keep,
            alone,
            reply,
        });
        (unit, answer)
    }
}

impl<T, F> Unit for Work<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(self: Box<Self>, conn: &Connection) -> Ran {
        let Work {
            work, keep, reply, ..
        } = *self;
        let start = Instant::now();
        match work(conn) {
            Ok(v) if keep => {
                let spent = start.elapsed();
                Ran::Kept(Box::new(move |committed| {
                    let _ = reply.send((committed.map(|_| v), spent));
                }))
            }
            Ok(v) => {
                // Nothing kept, nothing to wait for.
                let _ = reply.send((Ok(v), start.elapsed()));
                Ran::Undone(None)
            }
            Err(e) => {
                let failure = match &e {
                    StoreError::Storage(f) => Some(*f),
                    other => StorageFailure::of(other),
                };
                let _ = reply.send((Err(e), start.elapsed()));
                Ran::Undone(failure)
            }
        }
    }

    fn alone(&self) -> bool {
        self.alone
    }

    fn fail(self: Box<Self>, e: StoreError) {
        let _ = self.reply.send((Err(e), Duration::ZERO));
    }
}

/// What the write thread is asked.
enum Msg {
    Unit(Box<dyn Unit>),
    /// Put the connection in an emulated storage condition (outside any
    /// transaction: a read-only connection cannot begin one).
    Fault(StorageFault, oneshot::Sender<Result<(), StoreError>>),
    /// Finish what is queued, close the connection, then answer.
    Close(oneshot::Sender<()>),
}

/// The handle writes go through; the thread ends when closed, or when the
/// last handle is dropped (after finishing what it was given).
#[derive(Clone)]
pub(super) struct Writer {
    messages: mpsc::Sender<Msg>,
    health: Arc<WriteHealth>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Opens the write connection to `path` and starts its thread.
    pub(super) fn start(path: &Path) -> Result<Writer, StoreError> {
        let health = Arc::new(WriteHealth::default());
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(
            // The file is in WAL mode already (the migrations set it); these
            // hold per connection.
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -32000; PRAGMA temp_store = memory;",
        )?;
        storage::apply(&conn, health.fault())?;
        let (messages, rx) = mpsc::channel();
        let thread_health = Arc::clone(&health);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, &thread_health))
            .map_err(StoreError::Thread)?;
        Ok(Writer { messages, health })
    }

    /// The emulated storage condition.
    pub(super) fn fault(&self) -> StorageFault {
        self.health.fault()
    }

    /// Puts the write connection in `fault`'s condition (and out of any
    /// other).
    pub(super) async fn set_fault(&self, fault: StorageFault) -> Result<(), StoreError> {
        self.health.set_fault(fault);
        let (reply, answer) = oneshot::channel();
        self.messages
            .send(Msg::Fault(fault, reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Finishes the writes queued, then closes the connection.
    pub(super) async fn close(&self) {
        let (reply, answer) = oneshot::channel();
        if self.messages.send(Msg::Close(reply)).is_ok() {
            let _ = answer.await;
        }
    }

    /// Runs `work` in the next transaction and answers once it is
    /// committed; counts `queries` statements and the time spent as the
    /// request's database work.
    pub(super) async fn write<T, F>(&self, queries: u64, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.send(queries, work, true, false).await
    }

    /// Runs `work` in a transaction of its own (a bulk load: many pages,
    /// nothing to share a commit with) and answers once it is committed.
    pub(super) async fn write_alone<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.send(0, work, true, true).await
    }

    /// Runs `work` and rolls its changes back whatever it did (a probe).
    pub(super) async fn try_and_undo<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.send(0, work, false, false).await
    }

    async fn send<T, F>(
        &self,
        queries: u64,
        work: F,
        keep: bool,
        alone: bool,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (unit, answer) = Work::unit(work, keep, alone);
        self.messages.send(Msg::Unit(unit)).map_err(|_| stopped())?;
        let (result, spent) = answer.await.map_err(|_| stopped())?;
        if queries > 0 {
            crate::truth::count_queries(queries, spent);
        }
        result.map_err(|e| self.health.classify(e))
    }
}

fn stopped() -> StoreError {
    StoreError::Internal("the write thread has stopped".to_owned())
}

/// The write thread: takes what is waiting, runs it in one transaction,
/// commits, answers.
fn run(mut conn: Connection, rx: mpsc::Receiver<Msg>, health: &WriteHealth) {
    let mut queue: VecDeque<Box<dyn Unit>> = VecDeque::new();
    let mut next = rx.recv().ok();
    while let Some(msg) = next.take() {
        match msg {
            Msg::Unit(unit) => queue.push_back(unit),
            Msg::Fault(fault, reply) => {
                let _ = reply.send(storage::apply(&conn, fault).map_err(StoreError::from));
            }
            Msg::Close(reply) => {
                drop(conn);
                let _ = reply.send(());
                return;
            }
        }
        // Everything waiting joins the batch, up to a stop that is not a
        // write (it runs after the batch).
        while next.is_none() && queue.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Msg::Unit(unit)) => queue.push_back(unit),
                Ok(other) => next = Some(other),
                Err(_) => break,
            }
        }
        while !queue.is_empty() {
            batch(&mut conn, &mut queue, health);
        }
        if next.is_none() {
            next = rx.recv().ok();
        }
    }
}

/// One transaction over the units at the queue's front: runs them until
/// the queue is empty or the transaction is lost, then commits and
/// answers.
fn batch(conn: &mut Connection, queue: &mut VecDeque<Box<dyn Unit>>, health: &WriteHealth) {
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let e = health.classify(e.into());
            while let Some(unit) = queue.pop_front() {
                unit.fail(copy(&e));
            }
            return;
        }
    };
    let mut acks: Vec<Ack> = Vec::new();
    let mut lost = None;
    let mut ran = 0;
    while let Some(unit) = queue.pop_front() {
        if unit.alone() {
            if ran > 0 {
                // It starts the next transaction.
                queue.push_front(unit);
                break;
            }
            match run_unit(unit, &tx) {
                Ran::Kept(ack) => acks.push(ack),
                // It has been answered: undo it whole.
                Ran::Undone(_) => lost = Some(StoreError::Internal("rolled back".to_owned())),
            }
            break;
        }
        ran += 1;
        let sp = match savepoint(&tx) {
            Ok(sp) => sp,
            Err(e) => {
                let e = health.classify(e.into());
                unit.fail(copy(&e));
                lost = Some(e);
                break;
            }
        };
        let (ended, failure) = match run_unit(unit, &sp) {
            Ran::Kept(ack) => {
                acks.push(ack);
                (sp.commit(), None)
            }
            Ran::Undone(failure) => (sp.rollback(), failure),
        };
        if tx.is_autocommit() {
            // SQLite ended the transaction on its own (it may on
            // SQLITE_FULL or an I/O error): what it held is gone, for the
            // same reason as the unit that failed.
            lost = Some(match failure {
                Some(f) => StoreError::Storage(f),
                None => StoreError::Internal(
                    "the write transaction was rolled back by the database".to_owned(),
                ),
            });
            break;
        }
        if let Err(e) = ended {
            lost = Some(health.classify(e.into()));
            break;
        }
    }
    let committed = match lost {
        Some(e) => {
            drop(tx);
            Err(e)
        }
        None => {
            let start = Instant::now();
            tx.commit()
                .map(|()| start.elapsed())
                .map_err(|e| health.classify(e.into()))
        }
    };
    for ack in acks {
        ack(match &committed {
            Ok(d) => Ok(*d),
            Err(e) => Err(copy(e)),
        });
    }
}

/// Runs a unit; one that panics is a failed unit (its caller hears that
/// the write did not finish, its changes are rolled back) and the thread
/// goes on serving the others.
fn run_unit(unit: Box<dyn Unit>, conn: &Connection) -> Ran {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unit.run(conn))).unwrap_or_else(|_| {
        tracing::error!("a write panicked; it was rolled back");
        Ran::Undone(None)
    })
}

/// The same failure for each unit it ended.
fn copy(e: &StoreError) -> StoreError {
    match e {
        StoreError::Storage(f) => StoreError::Storage(*f),
        other => StoreError::Internal(format!("the write was not committed: {other}")),
    }
}

/// Opens a unit's savepoint inside the writer's transaction.
fn savepoint(conn: &Connection) -> rusqlite::Result<Savepoint<'_>> {
    conn.execute_batch("SAVEPOINT unit")?;
    Ok(Savepoint { conn, done: false })
}

/// A unit's savepoint: released (kept) or rolled back; rolled back if
/// dropped undecided.
struct Savepoint<'c> {
    conn: &'c Connection,
    done: bool,
}

impl Savepoint<'_> {
    fn commit(mut self) -> rusqlite::Result<()> {
        self.done = true;
        self.conn.execute_batch("RELEASE unit")
    }

    fn rollback(mut self) -> rusqlite::Result<()> {
        self.done = true;
        self.conn.execute_batch("ROLLBACK TO unit; RELEASE unit")
    }
}

impl std::ops::Deref for Savepoint<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK TO unit; RELEASE unit");
        }
    }
}

#[cfg(test)]
mod tests;
