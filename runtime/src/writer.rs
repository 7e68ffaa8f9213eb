//! Writing to the database: one writer at a time on SQLite, whose concurrent transactions are
//! committed together (group commit), on a connection that is replaced whenever a batch ends
//! without a successful commit.
//!
//! **Group commit (SQLite).** Each commit of a SQLite transaction appends every page it changed
//! to the write-ahead log; a refresh-token rotation changes a dozen pages (the row, its
//! indexes, its grant), most of them the same pages the next rotation changes. So writers that
//! queue behind each other share one transaction, a *batch*: each runs inside its own savepoint
//! of the batch (`SAVEPOINT` … `RELEASE`, or `ROLLBACK TO` when it ends without committing, so
//! a writer that fails leaves no trace), and the batch commits once when no writer is waiting
//! for the gate any more, or after [`MAX_BATCH`] writers. [`WriteTx::commit`] returns only once
//! the batch's `COMMIT` succeeded, so `Ok` still means the rows are durable as far as
//! `synchronous=NORMAL` makes them; if the batch fails, every writer in it gets a 503. Later
//! writers in a batch see the uncommitted rows of earlier ones, exactly as if the earlier ones
//! had committed first: the order is the gate's, as before, only the commits are shared.
//! [`WriteTx::rollback`] lets a writer that answers from what it read in the batch (a token
//! already used, a grant revoked) wait for the rows it saw to be committed.
//!
//! **A failed statement.** SQLite may end a transaction by itself when a statement fails (a
//! full disk, an I/O error), after which the driver's idea of the connection (still inside a
//! transaction) and SQLite's (back in autocommit) disagree; a later savepoint would then open a
//! fresh transaction of its own. A batch therefore opens with a named savepoint of its own
//! (`keygate_batch`) and commits only after releasing it: when SQLite rolled the batch back, the
//! savepoint is gone, the release fails, every writer of the batch gets a 503, and the writer
//! connection is retired (it lives in a pool of its own; the next writer opens a fresh one, and
//! closing the old one rolls back whatever it held). PostgreSQL needs none of this: its
//! transactions run concurrently on pooled connections, each committing on its own (the server
//! groups concurrent commits' log flushes itself), and a failed transaction is rolled back on
//! its own connection by the server.
//!
//! A write transaction also remembers which entities it wrote ([`WriteTx::insert`],
//! [`WriteTx::update`], [`WriteTx::delete`], [`WriteTx::wrote`]); once it commits, it tells the
//! runtime's invalidation, which drops what those writes made stale ([`crate::invalidation`]).

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use sea_orm::sqlx::sqlite::SqlitePoolOptions;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlxSqliteConnector, Statement,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::chain::Write;
use crate::crud::{self, Resource};
use crate::error::ApiError;
use crate::invalidation::{Change, Invalidator};

/// The most writers one SQLite batch takes before it commits, so that under constant load each
/// writer still waits for at most this many others.
const MAX_BATCH: usize = 32;

/// How long a writer that finished its part waits for its batch's commit before committing the
/// batch itself: the batch normally commits as soon as nobody waits for the gate, and this only
/// covers a waiting writer that went away (a dropped request) without taking its turn.
const FLUSH_FALLBACK: Duration = Duration::from_millis(20);

/// The savepoint every batch opens first; releasing it proves SQLite did not roll the batch back.
const BATCH_SAVEPOINT: &str = "keygate_batch";

/// The savepoint a writer of a single statement ([`Writer::execute`]) runs in.
const STATEMENT_SAVEPOINT: &str = "keygate_statement";

/// Who writes next, and on which connection.
pub(crate) struct Writer {
    /// The connection pool reads use (and PostgreSQL writes).
    db: DatabaseConnection,
    /// SQLite only: queues writers in process, so a burst waits its turn instead of racing for
    /// the file lock and failing with "database is locked", and batches their commits.
    sqlite: Option<Arc<Gate>>,
}

/// SQLite's write gate: the writer connection and its open batch, behind a fair lock.
struct Gate {
    writer: Arc<Mutex<SqliteWriter>>,
    /// Writers that asked for the gate and have not finished their turn: while any remain, a
    /// finishing writer leaves the batch open for them.
    waiting: AtomicUsize,
    /// Batches committed, and the writers they held.
    committed: AtomicU64,
    committed_writers: AtomicU64,
}

/// How SQLite's writes were committed since the runtime started: `writers` write transactions
/// committed in `batches` commits (group commit; see [`crate::writer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    /// Commits (each a batch).
    pub batches: u64,
    /// Write transactions committed in them.
    pub writers: u64,
}

/// SQLite's writer connection (a pool of one), whether it must be replaced before use, and the
/// batch open on it.
struct SqliteWriter {
    connection: Option<DatabaseConnection>,
    retire: bool,
    batch: Option<Batch>,
    batches: u64,
}

/// One transaction shared by the writers that queued behind each other.
struct Batch {
    id: u64,
    tx: DatabaseTransaction,
    members: usize,
    /// A member's savepoint could not be opened or released: the batch must not commit.
    failed: bool,
    outcome: watch::Sender<Outcome>,
}

/// What became of a batch, as its members learn it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Open,
    Committed,
    Failed,
}

impl Writer {
    pub(crate) fn new(db: &DatabaseConnection) -> Self {
        let sqlite = (db.get_database_backend() == DbBackend::Sqlite).then(|| {
            let writer = SqliteWriter { connection: None, retire: false, batch: None, batches: 0 };
            Arc::new(Gate {
                writer: Arc::new(Mutex::new(writer)),
                waiting: AtomicUsize::new(0),
                committed: AtomicU64::new(0),
                committed_writers: AtomicU64::new(0),
            })
        });
        Self { db: db.clone(), sqlite }
    }

    /// A write transaction, once the writers ahead of it are done; its commit reports what it
    /// wrote to `invalidator`. On SQLite it is a savepoint of the open batch (module docs).
    pub(crate) async fn begin(&self, invalidator: &Invalidator) -> Result<WriteTx, ApiError> {
        let written =
            Written { changes: StdMutex::default(), invalidator: invalidator.clone(), after: StdMutex::default() };
        let Some(gate) = &self.sqlite else {
            return Ok(WriteTx { tx: Some(self.db.begin().await?), member: None, written });
        };
        let mut turn = gate.turn().await;
        match turn.join(&self.db).await {
            Ok((savepoint, batch, outcome)) => {
                let member = Member { gate: gate.clone(), turn: Some(turn), batch, outcome };
                Ok(WriteTx { tx: Some(savepoint), member: Some(member), written })
            }
            Err(error) => {
                gate.finish(turn).await;
                Err(error)
            }
        }
    }

    /// Runs `write`, which is atomic on its own, as a write transaction of its own, then reports
    /// what it made stale; how many rows its last part changed (on PostgreSQL, where it is one
    /// statement, the statement's count). On PostgreSQL it commits on its own on a pooled
    /// connection. On SQLite it may be several statements (`a; b`), which run together as one
    /// writer of the open batch in a single round trip to the connection (one hop instead of one
    /// per statement, savepoint and release): all of it is kept, or none. `Ok` means committed,
    /// as for [`WriteTx::commit`]; the statement's own failure is mapped by the write's `failed`,
    /// a batch that fails to commit is a 503.
    pub(crate) async fn execute(&self, invalidator: &Invalidator, write: Write) -> Result<u64, ApiError> {
        let Write { statement, changes, failed } = write;
        let changed = match &self.sqlite {
            None => self.db.execute_raw(statement).await.map_err(failed)?.rows_affected(),
            Some(gate) => gate.execute(&self.db, statement, failed).await?,
        };
        for change in changes {
            invalidator.changed(change);
        }
        Ok(changed)
    }

    /// SQLite only: how many commits the writes took so far.
    pub(crate) fn commit_stats(&self) -> Option<CommitStats> {
        self.sqlite.as_ref().map(|gate| CommitStats {
            batches: gate.committed.load(Ordering::Acquire),
            writers: gate.committed_writers.load(Ordering::Acquire),
        })
    }

    /// A turn at writing single, self-contained statements through the shared pool (each
    /// atomic on its own, so no transaction can be left behind); held until dropped. On SQLite
    /// the open batch commits first, so that its lock does not block those statements.
    pub(crate) async fn turn(&self) -> WriteTurn {
        WriteTurn(match &self.sqlite {
            Some(gate) => Some(gate.flushed(gate.writer.clone().lock_owned().await).await),
            None => None,
        })
    }
}

/// Counts a writer as waiting for the gate until it gets it, or until it gives up waiting (its
/// request was dropped), so that finishing writers do not keep a batch open for it.
struct Waiting<'a>(Option<&'a Gate>);

impl<'a> Waiting<'a> {
    fn new(gate: &'a Gate) -> Self {
        gate.waiting.fetch_add(1, Ordering::AcqRel);
        Self(Some(gate))
    }

    /// The writer holds the gate now; [`Gate::finish`] ends its count.
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(gate) = self.0 {
            gate.waiting.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Gate {
    /// The gate, once the writers ahead are done, counted as waiting until [`Gate::finish`].
    async fn turn(&self) -> OwnedMutexGuard<SqliteWriter> {
        let waiting = Waiting::new(self);
        let turn = self.writer.clone().lock_owned().await;
        waiting.disarm();
        turn
    }

    /// Ends a writer's turn: commits the batch if nobody else is waiting for the gate (or the
    /// batch is full, or cannot commit), then lets the next writer in.
    async fn finish(&self, mut turn: OwnedMutexGuard<SqliteWriter>) {
        let others = self.waiting.fetch_sub(1, Ordering::AcqRel) - 1;
        let due = turn.batch.as_ref().is_some_and(|batch| others == 0 || batch.members >= MAX_BATCH || batch.failed);
        if due {
            self.flush(&mut turn).await;
        }
    }

    /// Commits the open batch of `turn` (if any), counting it when it committed.
    async fn flush(&self, turn: &mut SqliteWriter) {
        if let Some(writers) = turn.flush().await {
            self.committed.fetch_add(1, Ordering::AcqRel);
            self.committed_writers.fetch_add(writers as u64, Ordering::AcqRel);
        }
    }

    /// `turn` once its open batch is committed, from a task of its own: a request dropped while
    /// waiting must not leave the batch half committed.
    async fn flushed(self: &Arc<Self>, mut turn: OwnedMutexGuard<SqliteWriter>) -> OwnedMutexGuard<SqliteWriter> {
        let gate = self.clone();
        let flushing = tokio::spawn(async move {
            gate.flush(&mut turn).await;
            turn
        });
        flushing.await.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
    }

    /// [`Writer::execute`] on SQLite: how many rows the statement's last part changed, once its
    /// batch committed; its own failure is mapped by `failed`.
    async fn execute(
        self: &Arc<Self>,
        db: &DatabaseConnection,
        statement: Statement,
        failed: fn(DbErr) -> ApiError,
    ) -> Result<u64, ApiError> {
        let mut turn = self.turn().await;
        let (gate, db) = (self.clone(), db.clone());
        // From here the gate is held by a task of its own: a request dropped meanwhile must not
        // stop the statement half way, with its savepoint still open.
        let ran = tokio::spawn(async move {
            let ran = turn.execute(&db, statement, failed).await;
            gate.finish(turn).await;
            ran
        })
        .await
        .map_err(ApiError::internal)?;
        let (changed, batch, mut outcome) = ran?;
        self.settled(batch, &mut outcome).await?;
        Ok(changed)
    }

    /// Waits for batch `id` to commit; if it is still open after [`FLUSH_FALLBACK`] (the writer
    /// it was kept open for went away), commits it.
    async fn settled(self: &Arc<Self>, id: u64, outcome: &mut watch::Receiver<Outcome>) -> Result<(), ApiError> {
        loop {
            match *outcome.borrow_and_update() {
                Outcome::Committed => return Ok(()),
                Outcome::Failed => return Err(batch_failed()),
                Outcome::Open => {}
            }
            match tokio::time::timeout(FLUSH_FALLBACK, outcome.changed()).await {
                // The batch is gone without an outcome (the writer shut down).
                Ok(changed) => changed.map_err(|_| batch_failed())?,
                Err(_) => {
                    let turn = self.writer.clone().lock_owned().await;
                    if turn.batch.as_ref().is_some_and(|batch| batch.id == id) {
                        drop(self.flushed(turn).await);
                    }
                }
            }
        }
    }
}

/// The 503 every writer of a batch that failed to commit gets.
fn batch_failed() -> ApiError {
    ApiError::unavailable("the database could not commit the write; retry shortly", 1)
}

impl SqliteWriter {
    /// Joins the open batch, opening one if there is none: this writer's savepoint in it, the
    /// batch's id and where its outcome will be told.
    async fn join(
        &mut self,
        db: &DatabaseConnection,
    ) -> Result<(DatabaseTransaction, u64, watch::Receiver<Outcome>), ApiError> {
        let batch = self.open(db).await?;
        let savepoint = batch.tx.begin().await.inspect_err(|_| batch.failed = true)?;
        batch.members += 1;
        Ok((savepoint, batch.id, batch.outcome.subscribe()))
    }

    /// Runs `statement` in the open batch (opening one if there is none) as a writer of its own,
    /// in one round trip to the connection: `SAVEPOINT; <statement>; RELEASE; SELECT changes()`.
    /// If any of it fails, the batch is rolled back to the savepoint and the failure mapped by
    /// `failed`. How many rows the statement's last part changed, the batch's id and where its
    /// outcome will be told.
    async fn execute(
        &mut self,
        db: &DatabaseConnection,
        statement: Statement,
        failed: fn(DbErr) -> ApiError,
    ) -> Result<(u64, u64, watch::Receiver<Outcome>), ApiError> {
        let batch = self.open(db).await?;
        batch.members += 1;
        let script = Statement {
            sql: format!(
                "SAVEPOINT {STATEMENT_SAVEPOINT}; {}; RELEASE {STATEMENT_SAVEPOINT}; SELECT changes()",
                statement.sql
            ),
            ..statement
        };
        let changed = match batch.tx.query_all_raw(script).await {
            // The last row is `SELECT changes()`'s (the statement may return rows of its own).
            Ok(rows) => match rows.last() {
                Some(row) => row.try_get_by_index::<i64>(0).map(|n| n as u64),
                None => Err(DbErr::Custom("`SELECT changes()` returned no row".into())),
            },
            Err(error) => {
                let undo = format!("ROLLBACK TO {STATEMENT_SAVEPOINT}; RELEASE {STATEMENT_SAVEPOINT}");
                if batch.tx.execute_unprepared(&undo).await.is_err() {
                    batch.failed = true;
                }
                Err(error)
            }
        };
        Ok((changed.map_err(failed)?, batch.id, batch.outcome.subscribe()))
    }

    /// The open batch, opened first if there is none.
    async fn open(&mut self, db: &DatabaseConnection) -> Result<&mut Batch, ApiError> {
        if self.batch.is_none() {
            let connection = self.connection(db).await?;
            let opened = async {
                let tx = connection.begin().await?;
                tx.execute_unprepared(&format!("SAVEPOINT {BATCH_SAVEPOINT}")).await?;
                Ok::<_, DbErr>(tx)
            };
            let tx = opened.await.inspect_err(|_| self.retire = true)?;
            self.batches += 1;
            let (outcome, _) = watch::channel(Outcome::Open);
            self.batch = Some(Batch { id: self.batches, tx, members: 0, failed: false, outcome });
        }
        Ok(self.batch.as_mut().expect("a batch was just opened"))
    }

    /// Commits the open batch (if any) and tells its members; a batch that cannot commit is
    /// rolled back, its members get a 503 and the connection is retired. How many writers it
    /// committed, if it did.
    async fn flush(&mut self) -> Option<usize> {
        let batch = self.batch.take()?;
        let committed = if batch.failed {
            Err("a writer's savepoint failed".to_owned())
        } else {
            match batch.tx.execute_unprepared(&format!("RELEASE SAVEPOINT {BATCH_SAVEPOINT}")).await {
                Ok(_) => batch.tx.commit().await.map_err(|e| e.to_string()),
                Err(error) => Err(format!("the batch was rolled back by the database ({error})")),
            }
        };
        let outcome = match committed {
            Ok(()) => Outcome::Committed,
            Err(cause) => {
                tracing::error!(%cause, writers = batch.members, "a batch of writes could not commit");
                self.retire = true;
                Outcome::Failed
            }
        };
        batch.outcome.send_replace(outcome);
        (outcome == Outcome::Committed).then_some(batch.members)
    }

    /// The writer connection, opened anew when there is none or the last one was retired.
    async fn connection(&mut self, db: &DatabaseConnection) -> Result<DatabaseConnection, ApiError> {
        if std::mem::take(&mut self.retire)
            && let Some(old) = self.connection.take()
        {
            tracing::warn!("a batch of writes ended without a commit; replacing the writer connection");
            // Closing the connection rolls back anything it still held and releases its locks.
            let _ = old.close().await;
        }
        if let Some(connection) = &self.connection {
            return Ok(connection.clone());
        }
        let options = db.get_sqlite_connection_pool().connect_options();
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with((*options).clone())
            .await
            .map_err(|e| ApiError::from(DbErr::Conn(sea_orm::RuntimeErr::SqlxError(Arc::new(e)))))?;
        let connection = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
        self.connection = Some(connection.clone());
        Ok(connection)
    }
}

/// A turn at writing (SQLite's in-process gate; nothing on PostgreSQL).
pub struct WriteTurn(#[allow(dead_code)] Option<OwnedMutexGuard<SqliteWriter>>);

/// A write transaction: on PostgreSQL a transaction of its own, on SQLite a savepoint of the
/// open batch (module docs). Dropping it without [`commit`](Self::commit) rolls it back.
pub struct WriteTx {
    /// The transaction (PostgreSQL) or this writer's savepoint (SQLite).
    tx: Option<DatabaseTransaction>,
    /// SQLite: the turn at the gate and the batch this writer joined.
    member: Option<Member>,
    written: Written,
}

/// A writer's place in a SQLite batch.
struct Member {
    gate: Arc<Gate>,
    /// Held while the writer runs its statements; handed back by `commit`, `rollback` or drop.
    turn: Option<OwnedMutexGuard<SqliteWriter>>,
    batch: u64,
    outcome: watch::Receiver<Outcome>,
}

/// What a transaction wrote that the runtime may cache, and where to report it on commit.
struct Written {
    changes: StdMutex<Vec<Change>>,
    invalidator: Invalidator,
    /// What to do once the transaction committed (e.g. send a mail about it).
    after: StdMutex<Vec<AfterCommit>>,
}

/// Work to run once a transaction committed, and only then.
type AfterCommit = Box<dyn FnOnce() + Send>;

impl WriteTx {
    /// Commits (on SQLite: releases the savepoint and waits for the batch's commit), then drops
    /// what the transaction's writes made stale (here and on every replica). `Ok` means the rows
    /// are committed; a batch that fails to commit is a 503.
    pub async fn commit(mut self) -> Result<(), ApiError> {
        let tx = self.tx.take().ok_or_else(|| ApiError::internal("write transaction used after its end"))?;
        match self.member.take() {
            None => tx.commit().await?,
            Some(member) => member.end(tx, true).await?,
        }
        let changes = std::mem::take(&mut *self.written.changes.lock().unwrap_or_else(|e| e.into_inner()));
        for change in changes {
            self.written.invalidator.changed(change);
        }
        let after = std::mem::take(&mut *self.written.after.lock().unwrap_or_else(|e| e.into_inner()));
        for work in after {
            work();
        }
        Ok(())
    }

    /// Runs `work` right after this transaction commits (on SQLite: after its batch commits),
    /// and never if it rolls back: how a write announces itself (a mail about it) without
    /// holding the transaction or speaking too soon.
    pub fn after_commit(&self, work: impl FnOnce() + Send + 'static) {
        self.written.after.lock().unwrap_or_else(|e| e.into_inner()).push(Box::new(work));
    }

    /// Rolls back, and on SQLite waits for the batch to commit what earlier writers of it wrote:
    /// a writer that refuses a request because of what it read inside the transaction (a token
    /// already used, a grant revoked) calls this first, so the refusal stands on committed rows
    /// and a batch that failed is reported as the 503 it is.
    pub async fn rollback(mut self) -> Result<(), ApiError> {
        let tx = self.tx.take().ok_or_else(|| ApiError::internal("write transaction used after its end"))?;
        match self.member.take() {
            None => tx.rollback().await?,
            Some(member) => member.end(tx, false).await?,
        }
        Ok(())
    }

    /// Inserts `row` ([`crud::insert`]) and records that `E` changed.
    pub async fn insert<E>(&self, row: E::ActiveModel) -> Result<E::Model, ApiError>
    where
        E: Resource,
        E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E> + Send,
        E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
    {
        let model = crud::insert::<E>(&**self, row).await?;
        self.wrote::<E>();
        Ok(model)
    }

    /// Inserts a row made by a role constructor ([`crud::insert_new`]) and records that `E`
    /// changed.
    pub async fn insert_new<E: Resource>(&self, row: impl Into<E::ActiveModel>) -> Result<(), ApiError> {
        crud::insert_new::<E>(&**self, row).await?;
        self.wrote::<E>();
        Ok(())
    }

    /// Updates `row` ([`crud::update`]) and records that `E` changed.
    pub async fn update<E>(&self, row: E::ActiveModel) -> Result<E::Model, ApiError>
    where
        E: Resource,
        E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E> + Send,
        E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
    {
        let model = crud::update::<E>(&**self, row).await?;
        self.wrote::<E>();
        Ok(model)
    }

    /// Deletes `model`'s row ([`crud::delete`]) and records that `E` changed.
    pub async fn delete<E>(&self, model: E::Model) -> Result<(), ApiError>
    where
        E: Resource,
        E::Model: sea_orm::ModelTrait<Entity = E> + sea_orm::IntoActiveModel<E::ActiveModel>,
        E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E> + Send,
    {
        crud::delete::<E>(&**self, model).await?;
        self.wrote::<E>();
        Ok(())
    }

    /// Records that rows of `E` were written in this transaction by other statements (e.g.
    /// [`crud::set`]), so its commit drops what the runtime caches about `E` ([`Change::of`]).
    pub fn wrote<E: Resource>(&self) {
        let mut changes = Change::of::<E>().peekable();
        if changes.peek().is_none() {
            return;
        }
        let mut recorded = self.written.changes.lock().unwrap_or_else(|e| e.into_inner());
        for change in changes {
            if !recorded.contains(&change) {
                recorded.push(change);
            }
        }
    }
}

impl Member {
    /// Ends this writer's part of the batch: releases (`commit`) or rolls back its savepoint,
    /// hands the gate on, then waits for the batch's outcome. The part that holds the gate runs
    /// as a task of its own, so a request dropped meanwhile cannot leave the batch half done.
    async fn end(self, savepoint: DatabaseTransaction, commit: bool) -> Result<(), ApiError> {
        let Member { gate, turn, batch, mut outcome } = self;
        let mut turn = turn.ok_or_else(|| ApiError::internal("write turn ended twice"))?;
        let finishing = gate.clone();
        let ended = tokio::spawn(async move {
            let ended = if commit { savepoint.commit().await } else { savepoint.rollback().await };
            if ended.is_err()
                && let Some(batch) = turn.batch.as_mut()
            {
                batch.failed = true;
            }
            finishing.finish(turn).await;
            ended
        })
        .await
        .map_err(ApiError::internal)?;
        ended?;
        gate.settled(batch, &mut outcome).await
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // The savepoint first, so its rollback is queued on the connection before anything the
        // next writer sends; then the turn, whose end may commit the batch (which awaits).
        drop(self.tx.take());
        if let Some(mut member) = self.member.take()
            && let Some(turn) = member.turn.take()
        {
            let gate = member.gate.clone();
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(async move { gate.finish(turn).await });
                }
                Err(_) => {
                    gate.waiting.fetch_sub(1, Ordering::AcqRel);
                    drop(turn);
                }
            }
        }
    }
}

impl Deref for WriteTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        self.tx.as_ref().expect("a write transaction is open until commit or drop")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invalidation::Caches;
    use crate::jose::MasterKey;

    /// A fresh SQLite file with a table `t (n)`, its writer, and an invalidator.
    async fn sqlite() -> (tempfile::TempDir, DatabaseConnection, Arc<Writer>, Invalidator) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("writer.db").display());
        let db = crate::db::connect(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (n INTEGER)").await.unwrap();
        let caches = Arc::new(Caches::new(MasterKey::from_bytes(&[1; 32]).unwrap()));
        (dir, db.clone(), Arc::new(Writer::new(&db)), Invalidator::new(caches, None))
    }

    async fn rows(db: &DatabaseConnection) -> Vec<i64> {
        let statement = sea_orm::Statement::from_string(DbBackend::Sqlite, "SELECT n FROM t ORDER BY n");
        let rows = db.query_all_raw(statement).await.unwrap();
        rows.iter().map(|row| row.try_get_by_index::<i64>(0).unwrap()).collect()
    }

    /// Waits until `n` writers hold or wait for the gate.
    async fn until_waiting(writer: &Writer, n: usize) {
        let gate = writer.sqlite.as_ref().unwrap();
        while gate.waiting.load(Ordering::Acquire) != n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn queued_writers_share_one_commit_and_each_is_answered_after_it() {
        let (_dir, db, writer, invalidator) = sqlite().await;
        let first = writer.begin(&invalidator).await.unwrap();
        let others: Vec<_> = (2..=10)
            .map(|n| {
                let (writer, invalidator) = (writer.clone(), invalidator.clone());
                tokio::spawn(async move {
                    let tx = writer.begin(&invalidator).await?;
                    tx.execute_unprepared(&format!("INSERT INTO t VALUES ({n})")).await?;
                    tx.commit().await
                })
            })
            .collect();
        until_waiting(&writer, 10).await;
        first.execute_unprepared("INSERT INTO t VALUES (1)").await.unwrap();
        first.commit().await.unwrap();
        for other in others {
            other.await.unwrap().unwrap();
        }
        assert_eq!(rows(&db).await, (1..=10).collect::<Vec<_>>());
        let stats = writer.commit_stats().unwrap();
        assert_eq!(stats.writers, 10);
        assert!(stats.batches < 10, "queued writers shared commits: {stats:?}");
    }

    /// A writer finishing while another is counted as waiting leaves the batch open for it; if
    /// that one never takes its turn, the batch still commits (after [`FLUSH_FALLBACK`]).
    #[tokio::test]
    async fn a_batch_kept_open_for_a_writer_that_never_comes_still_commits() {
        let (_dir, db, writer, invalidator) = sqlite().await;
        let tx = writer.begin(&invalidator).await.unwrap();
        tx.execute_unprepared("INSERT INTO t VALUES (1)").await.unwrap();
        // A waiter that went away without its count being taken back.
        writer.sqlite.as_ref().unwrap().waiting.fetch_add(1, Ordering::AcqRel);
        tx.commit().await.unwrap();
        assert_eq!(rows(&db).await, vec![1]);
    }

    /// [`Writer::execute`] on SQLite: `sql` as one writer of the batch; a unique violation is a
    /// 409.
    async fn execute(writer: &Writer, sql: &str) -> Result<u64, ApiError> {
        let gate = writer.sqlite.as_ref().unwrap();
        let failed = |error: DbErr| match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(None, "exists"),
            _ => ApiError::internal(error),
        };
        gate.execute(&writer.db, sea_orm::Statement::from_string(DbBackend::Sqlite, sql), failed).await
    }

    /// Several statements run as one writer, all kept or none, in the batch of the writers queued
    /// with them; the count is the last statement's (`changes()` sees the one before it).
    #[tokio::test]
    async fn a_statement_of_several_parts_is_one_writer_kept_whole_or_not_at_all() {
        let (_dir, db, writer, invalidator) = sqlite().await;
        db.execute_unprepared("CREATE UNIQUE INDEX t_n ON t (n)").await.unwrap();
        let first = writer.begin(&invalidator).await.unwrap();
        let chained = tokio::spawn({
            let writer = writer.clone();
            async move { execute(&writer, "INSERT INTO t VALUES (2); INSERT INTO t SELECT 3 WHERE changes() = 1").await }
        });
        until_waiting(&writer, 2).await;
        // Fails in its second part (n = 1 exists by then): its first part goes too.
        let failing = tokio::spawn({
            let writer = writer.clone();
            async move { execute(&writer, "INSERT INTO t VALUES (4); INSERT INTO t VALUES (1)").await }
        });
        until_waiting(&writer, 3).await;
        let unclaimed = tokio::spawn({
            let writer = writer.clone();
            async move {
                execute(&writer, "UPDATE t SET n = 9 WHERE n = 8; INSERT INTO t SELECT 5 WHERE changes() = 1").await
            }
        });
        until_waiting(&writer, 4).await;
        first.execute_unprepared("INSERT INTO t VALUES (1)").await.unwrap();
        first.commit().await.unwrap();
        assert_eq!(chained.await.unwrap().unwrap(), 1);
        assert_eq!(failing.await.unwrap().unwrap_err().status(), actix_web::http::StatusCode::CONFLICT);
        assert_eq!(unclaimed.await.unwrap().unwrap(), 0);
        assert_eq!(rows(&db).await, vec![1, 2, 3]);
        let stats = writer.commit_stats().unwrap();
        assert_eq!(stats.writers, 4);
        assert!(stats.batches < 4, "the writers shared commits: {stats:?}");
    }

    /// SQLite can end a transaction by itself when a statement fails (a full disk, an I/O
    /// error); here a raw `ROLLBACK` stands in for that, and a raw `SAVEPOINT` for the savepoint
    /// the driver believes it still holds (so its bookkeeping stays in step and the batch's own
    /// `COMMIT` would succeed on the new transaction). The writer that committed earlier in the
    /// batch lost its row, so it must not be told `Ok`.
    #[tokio::test]
    async fn a_batch_that_sqlite_rolled_back_fails_every_writer_in_it() {
        let (_dir, db, writer, invalidator) = sqlite().await;
        let first = writer.begin(&invalidator).await.unwrap();
        first.execute_unprepared("INSERT INTO t VALUES (1)").await.unwrap();
        let second = tokio::spawn({
            let (writer, invalidator) = (writer.clone(), invalidator.clone());
            async move {
                let tx = writer.begin(&invalidator).await.unwrap();
                tx.execute_unprepared("ROLLBACK").await.unwrap();
                tx.execute_unprepared("SAVEPOINT _sqlx_savepoint_1").await.unwrap();
                // Dropped uncommitted, as after a failed statement.
            }
        });
        until_waiting(&writer, 2).await;
        let first = first.commit().await;
        second.await.unwrap();
        assert_eq!(first.unwrap_err().status(), actix_web::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(rows(&db).await, Vec::<i64>::new(), "the row was lost with the batch");
        // The next writer gets a fresh connection and commits normally.
        let tx = writer.begin(&invalidator).await.unwrap();
        tx.execute_unprepared("INSERT INTO t VALUES (4)").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(rows(&db).await, vec![4]);
    }
}
