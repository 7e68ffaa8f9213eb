//! Writing to the database: one writer at a time on SQLite, on a connection that is replaced
//! whenever a write transaction ends without a successful commit.
//!
//! SQLite may end a transaction by itself when a statement fails (a full disk, an I/O error),
//! after which the driver's idea of the connection (still inside a transaction) and SQLite's
//! (back in autocommit, or holding the write lock with nobody to release it) disagree. A
//! connection in that state must never serve another write: it would acknowledge writes that
//! are never committed, or block every other writer. So the writer connection lives in a pool
//! of its own, and a transaction that is dropped uncommitted, or whose commit fails, retires
//! it: the next writer opens a fresh connection (closing the old one rolls back whatever it
//! held). PostgreSQL needs neither the gate nor the replacement: a failed transaction is rolled
//! back on its own connection by the server.
//!
//! A write transaction also remembers which entities it wrote ([`WriteTx::insert`],
//! [`WriteTx::update`], [`WriteTx::delete`], [`WriteTx::wrote`]); once it commits, it tells the
//! runtime's invalidation, which drops what those writes made stale ([`crate::invalidation`]).

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

use sea_orm::sqlx::sqlite::SqlitePoolOptions;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, SqlxSqliteConnector, TransactionTrait};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::crud::{self, Resource};
use crate::error::ApiError;
use crate::invalidation::{Change, Invalidator};

/// Who writes next, and on which connection.
pub(crate) struct Writer {
    /// The connection pool reads use (and PostgreSQL writes).
    db: DatabaseConnection,
    /// SQLite only: queues writers in process, so a burst waits its turn instead of racing for
    /// the file lock and failing with "database is locked"; guards the writer connection.
    sqlite: Option<Arc<Mutex<SqliteWriter>>>,
}

/// SQLite's writer connection (a pool of one) and whether it must be replaced before use.
struct SqliteWriter {
    connection: Option<DatabaseConnection>,
    retire: Arc<AtomicBool>,
}

impl Writer {
    pub(crate) fn new(db: &DatabaseConnection) -> Self {
        let sqlite = (db.get_database_backend() == DbBackend::Sqlite)
            .then(|| Arc::new(Mutex::new(SqliteWriter { connection: None, retire: Arc::new(AtomicBool::new(false)) })));
        Self { db: db.clone(), sqlite }
    }

    /// A write transaction, once the writers ahead of it are done; its commit reports what it
    /// wrote to `invalidator`.
    pub(crate) async fn begin(&self, invalidator: &Invalidator) -> Result<WriteTx, ApiError> {
        let written =
            Written { changes: StdMutex::default(), invalidator: invalidator.clone(), after: StdMutex::default() };
        let Some(sqlite) = &self.sqlite else {
            return Ok(WriteTx { tx: Some(self.db.begin().await?), retire: None, _turn: None, written });
        };
        let mut turn = sqlite.clone().lock_owned().await;
        let connection = turn.connection(&self.db).await?;
        let tx = connection.begin().await?;
        let retire = turn.retire.clone();
        Ok(WriteTx { tx: Some(tx), retire: Some(retire), _turn: Some(turn), written })
    }

    /// A turn at writing single, self-contained statements through the shared pool (each
    /// atomic on its own, so no transaction can be left behind); held until dropped.
    pub(crate) async fn turn(&self) -> WriteTurn {
        WriteTurn(match &self.sqlite {
            Some(sqlite) => Some(sqlite.clone().lock_owned().await),
            None => None,
        })
    }
}

impl SqliteWriter {
    /// The writer connection, opened anew when there is none or the last one was retired.
    async fn connection(&mut self, db: &DatabaseConnection) -> Result<DatabaseConnection, ApiError> {
        if self.retire.swap(false, Ordering::AcqRel)
            && let Some(old) = self.connection.take()
        {
            tracing::warn!("a write transaction ended without a commit; replacing the writer connection");
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
            .map_err(|e| ApiError::from(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(Arc::new(e)))))?;
        let connection = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
        self.connection = Some(connection.clone());
        Ok(connection)
    }
}

/// A turn at writing (SQLite's in-process gate; nothing on PostgreSQL).
pub struct WriteTurn(#[allow(dead_code)] Option<OwnedMutexGuard<SqliteWriter>>);

/// A write transaction. Dropping it without `commit` rolls it back (and, on SQLite, retires the
/// writer connection, see the module docs).
pub struct WriteTx {
    // Field order matters: the transaction ends before the gate opens for the next writer.
    tx: Option<DatabaseTransaction>,
    retire: Option<Arc<AtomicBool>>,
    _turn: Option<OwnedMutexGuard<SqliteWriter>>,
    written: Written,
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
    /// Commits, then drops what the transaction's writes made stale (here and on every replica),
    /// then lets the next writer in. `Ok` means the rows are committed.
    pub async fn commit(mut self) -> Result<(), ApiError> {
        let tx = self.tx.take().ok_or_else(|| ApiError::internal("write transaction used after its end"))?;
        match tx.commit().await {
            Ok(()) => {
                self.retire = None;
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
            Err(error) => Err(error.into()),
        }
    }

    /// Runs `work` right after this transaction commits, and never if it rolls back: how a write
    /// announces itself (a mail about it) without holding the transaction or speaking too soon.
    pub fn after_commit(&self, work: impl FnOnce() + Send + 'static) {
        self.written.after.lock().unwrap_or_else(|e| e.into_inner()).push(Box::new(work));
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

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(retire) = &self.retire {
            retire.store(true, Ordering::Release);
        }
    }
}

impl Deref for WriteTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        self.tx.as_ref().expect("a write transaction is open until commit or drop")
    }
}
