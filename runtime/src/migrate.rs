//! Bringing a database up to the schema: create what is missing, never drop or rewrite.
//!
//! For each entity (in foreign-key order): a missing table is created from the entity with its
//! foreign keys; an existing table gains each missing column with `ALTER TABLE ... ADD COLUMN`.
//! Indexes (including per-tenant uniqueness) missing by name are created. Nothing is
//! ever dropped or altered, so re-running is a no-op and old rows survive every upgrade.
//!
//! A column added to a table that already has rows must be nullable or have a literal default;
//! the database refuses anything else and the error names the table and column.
//!
//! Replicas may start at the same moment on an empty PostgreSQL database: a run holds a
//! session-level advisory lock from [`Migration::start`] until it is dropped, so concurrent runs
//! take turns (the second finds everything in place) instead of racing on the catalogue.
//!
//! A run ends by refreshing planner statistics ([`Migration::analyze`]), so a database whose
//! autovacuum is late or off does not plan from stale ones. On PostgreSQL that is `ANALYZE` of
//! each migrated table of 10 pages or more that was never analysed or has changed by more than
//! 10% (plus 50 rows) since. Smaller tables are left alone on purpose: PostgreSQL plans a table
//! that was never analysed as at least 10 pages, which makes every keyed lookup an index scan,
//! whereas statistics of a nearly empty table make sequential scans look free, and a pooled
//! connection keeps that generic plan after the table has grown. On SQLite it is
//! `PRAGMA optimize`, which analyses tables lacking statistics within a bounded row budget.

use sea_orm::sea_query::{Alias, Index, Table};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, IdenStatic, Iterable, Schema, Statement,
    TransactionTrait,
};

use crate::admin_credential::credential;

/// An index the schema asks for.
#[derive(Debug, Clone, Copy)]
pub struct IndexSpec {
    /// Index name, e.g. `ux_users_tenant_id_username`.
    pub name: &'static str,
    /// Table.
    pub table: &'static str,
    /// Columns, in order.
    pub columns: &'static [&'static str],
    /// Whether it enforces uniqueness.
    pub unique: bool,
}

/// Why a migration failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The lock that makes concurrent runs take turns could not be taken.
    #[error("could not take the migration lock: {0}")]
    Lock(#[source] DbErr),
    /// The existing tables could not be read.
    #[error("could not read the existing columns of `{table}`: {source}")]
    Inspect {
        /// Table.
        table: String,
        /// The database's error.
        #[source]
        source: DbErr,
    },
    /// A table could not be created.
    #[error("could not create table `{table}`: {source}")]
    CreateTable {
        /// Table.
        table: String,
        /// The database's error.
        #[source]
        source: DbErr,
    },
    /// A column could not be added (a NOT NULL column without a default on a table with rows).
    #[error(
        "could not add column `{column}` to `{table}` (a new column on a table with rows must be nullable or have a literal default): {source}"
    )]
    AddColumn {
        /// Table.
        table: String,
        /// Column.
        column: String,
        /// The database's error.
        #[source]
        source: DbErr,
    },
    /// The existing indexes could not be listed, or the transaction creating the missing ones
    /// could not begin or commit.
    #[error("could not create the missing indexes: {0}")]
    Indexes(#[source] DbErr),
    /// An index could not be created (for a unique one: existing rows hold duplicates).
    #[error("could not create index `{name}` on `{table}`: {source}")]
    Index {
        /// Index name.
        name: &'static str,
        /// Table.
        table: &'static str,
        /// The database's error.
        #[source]
        source: DbErr,
    },
}

/// One migration run over a connection.
pub struct Migration<'a> {
    db: &'a DatabaseConnection,
    schema: Schema,
    /// The tables [`Migration::ensure`] has seen, for [`Migration::analyze`].
    tables: std::sync::Mutex<Vec<String>>,
    /// The tables this run created, whose indexes [`Migration::indexes`] builds together.
    created: std::sync::Mutex<Vec<String>>,
    /// On PostgreSQL, the connection holding the advisory lock; closing it (on drop, or when
    /// the process dies) releases the lock.
    _lock: Option<sea_orm::sqlx::PgConnection>,
}

/// The advisory lock key of migrations (`pg_advisory_lock(bigint)`): "keygate" in ASCII.
const MIGRATION_LOCK: i64 = 0x6b_6579_6761_7465;

/// Waits for the migration lock on a connection of its own, taken out of the pool so that
/// no other statement runs on it and dropping it ends the session.
async fn migration_lock(db: &DatabaseConnection) -> Result<Option<sea_orm::sqlx::PgConnection>, MigrateError> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let failed = |e: sea_orm::sqlx::Error| MigrateError::Lock(DbErr::Custom(e.to_string()));
    let mut connection = db.get_postgres_connection_pool().acquire().await.map_err(failed)?.detach();
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut connection)
        .await
        .map_err(failed)?;
    Ok(Some(connection))
}

/// `CREATE INDEX IF NOT EXISTS` for `spec`.
async fn create_index(db: &impl ConnectionTrait, spec: &IndexSpec) -> Result<(), MigrateError> {
    let mut statement = Index::create();
    statement.if_not_exists().name(spec.name).table(Alias::new(spec.table));
    for column in spec.columns {
        statement.col(Alias::new(*column));
    }
    if spec.unique {
        statement.unique();
    }
    db.execute(&statement).await.map_err(|source| MigrateError::Index {
        name: spec.name,
        table: spec.table,
        source,
    })?;
    Ok(())
}

impl<'a> Migration<'a> {
    /// Starts a run (waiting for any other run on the same database to finish); Keygate's own
    /// bookkeeping tables are ensured first.
    pub async fn start(db: &'a DatabaseConnection) -> Result<Self, MigrateError> {
        let lock = migration_lock(db).await?;
        let migration = Self {
            db,
            schema: Schema::new(db.get_database_backend()),
            tables: Default::default(),
            created: Default::default(),
            _lock: lock,
        };
        migration.ensure(credential::Entity).await?;
        migration.ensure(crate::keys::signing_key::Entity).await?;
        crate::keys::ensure_one_active_key(db).await.map_err(|source| MigrateError::Index {
            name: "ux_keygate_signing_keys_active",
            table: "keygate_signing_keys",
            source,
        })?;
        Ok(migration)
    }

    /// Creates `entity`'s table, or adds the columns it lacks.
    pub async fn ensure<E: EntityTrait>(&self, entity: E) -> Result<(), MigrateError> {
        let table = entity.table_name().to_owned();
        self.tables.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(table.clone());
        let existing =
            self.columns(&table).await.map_err(|source| MigrateError::Inspect { table: table.clone(), source })?;
        if existing.is_empty() {
            let mut create = self.schema.create_table_from_entity(entity);
            create.if_not_exists();
            self.db
                .execute(&create)
                .await
                .map_err(|source| MigrateError::CreateTable { table: table.clone(), source })?;
            tracing::info!(%table, "created table");
            self.created.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(table);
            return Ok(());
        }
        for column in E::Column::iter() {
            let name = column.as_str().to_owned();
            if existing.iter().any(|c| c == &name) {
                continue;
            }
            let definition = self.schema.get_column_def::<E>(column);
            let alter = Table::alter().table(Alias::new(&table)).add_column(definition).to_owned();
            self.db.execute(&alter).await.map_err(|source| MigrateError::AddColumn {
                table: table.clone(),
                column: name.clone(),
                source,
            })?;
            tracing::info!(%table, column = %name, "added column");
        }
        Ok(())
    }

    /// Creates every index in `specs` that does not exist yet. Those that cannot keep a table
    /// locked for long are created in one transaction, one commit instead of one per index (a
    /// fresh database has over a hundred): all of them on SQLite, and on PostgreSQL those of the
    /// tables this run created (still empty). An index on an existing PostgreSQL table is built
    /// in a transaction of its own, so an upgrade that indexes large tables does not keep each of
    /// them locked until the last index is built.
    pub async fn indexes(&self, specs: &[IndexSpec]) -> Result<(), MigrateError> {
        let existing = self.index_names().await.map_err(MigrateError::Indexes)?;
        let created = self.created.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let sqlite = self.db.get_database_backend() == DbBackend::Sqlite;
        let (batched, single): (Vec<&IndexSpec>, Vec<&IndexSpec>) = specs
            .iter()
            .filter(|spec| !existing.iter().any(|name| name == spec.name))
            .partition(|spec| sqlite || created.iter().any(|table| table == spec.table));
        if !batched.is_empty() {
            let tx = self.db.begin().await.map_err(MigrateError::Indexes)?;
            for spec in batched {
                create_index(&tx, spec).await?;
            }
            tx.commit().await.map_err(MigrateError::Indexes)?;
        }
        for spec in single {
            create_index(self.db, spec).await?;
        }
        Ok(())
    }

    /// Names of the indexes that exist (in the current schema, on PostgreSQL).
    async fn index_names(&self) -> Result<Vec<String>, DbErr> {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index'",
            _ => "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema()",
        };
        let rows = self.db.query_all_raw(Statement::from_string(backend, sql)).await?;
        rows.iter().map(|row| row.try_get_by_index::<String>(0)).collect()
    }

    /// Refreshes the planner statistics of the tables this run ensured that need it (see the
    /// module docs). Statistics only speed queries up, so a failure is logged, not returned.
    pub async fn analyze(&self) {
        let tables = self.tables.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let outcome = match self.db.get_database_backend() {
            DbBackend::Postgres => self.analyze_postgres(&tables).await,
            _ => self.db.execute_unprepared("PRAGMA optimize").await.map(drop),
        };
        if let Err(error) = outcome {
            tracing::warn!(%error, "could not refresh the planner statistics after migrating");
        }
    }

    /// `ANALYZE` of the tables in `ours` that have 10 pages or more and no current statistics.
    async fn analyze_postgres(&self, ours: &[String]) -> Result<(), DbErr> {
        const STALE: &str = "SELECT c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
             WHERE n.nspname = current_schema() AND c.relkind = 'r' \
             AND pg_relation_size(c.oid) >= 10 * current_setting('block_size')::bigint \
             AND (COALESCE(s.last_analyze, s.last_autoanalyze) IS NULL \
                  OR s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0))";
        let rows = self.db.query_all_raw(Statement::from_string(DbBackend::Postgres, STALE)).await?;
        let mut stale = Vec::new();
        for row in rows {
            let table: String = row.try_get_by_index(0)?;
            if ours.contains(&table) {
                stale.push(format!("\"{}\"", table.replace('"', "\"\"")));
            }
        }
        if stale.is_empty() {
            return Ok(());
        }
        self.db.execute_unprepared(&format!("ANALYZE {}", stale.join(", "))).await?;
        tracing::info!(tables = %stale.join(", "), "analysed");
        Ok(())
    }

    /// Column names of `table`; empty when the table does not exist.
    async fn columns(&self, table: &str) -> Result<Vec<String>, DbErr> {
        let backend = self.db.get_database_backend();
        let statement = match backend {
            DbBackend::Sqlite => {
                Statement::from_sql_and_values(backend, "SELECT name FROM pragma_table_info(?)", [table.into()])
            }
            _ => Statement::from_sql_and_values(
                backend,
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
                [table.into()],
            ),
        };
        let rows = self.db.query_all_raw(statement).await?;
        rows.iter().map(|row| row.try_get_by_index::<String>(0)).collect()
    }
}
