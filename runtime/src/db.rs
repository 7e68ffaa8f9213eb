//! Connecting to SQLite (the embedded default) or PostgreSQL.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// How long a pooled connection may sit idle before it is pinged on checkout.
const POOL_IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// How long a SQLite connection waits for another process's write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the first connection may take before the database counts as unreachable.
const FIRST_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a pool for `url` (`sqlite://path` or `postgres://...`). SQLite files are created when
/// missing and run in WAL mode, so readers never block the writer. An unreachable database is
/// reported at once with its cause (see [`probe`]), not as a pool timeout.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    probe(url).await?;
    Database::connect(options(url)).await
}

/// The pool options [`connect`] uses for `url`.
pub fn options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).connect_timeout(Duration::from_secs(10)).acquire_timeout(Duration::from_secs(30));
    // Ping a pooled connection only after it sat idle (when a server, proxy or firewall may have
    // dropped it), not on every checkout: the default ping doubled the round trips of every
    // statement on the hot paths.
    options.test_before_acquire_if_idle_for(POOL_IDLE_BEFORE_PING);
    if is_sqlite(url) {
        options.max_connections(8).min_connections(1).map_sqlx_sqlite_opts(sqlite_settings);
    } else {
        options.max_connections(16).min_connections(1).map_sqlx_postgres_pool_opts(|pool| {
            pool.after_connect(|connection, _| {
                Box::pin(async move { sea_orm::sqlx::Executor::execute(connection, POSTGRES_SETTINGS).await.map(drop) })
            })
        });
    }
    options
}

/// Keygate's settings of every PostgreSQL connection, run once when the pool opens it.
///
/// `enable_bitmapscan = off`: every Keygate statement finds its rows by a key or reads an index
/// range in the index's order (a keyset page of a listing, `docs/schema.md` section 10), and a
/// bitmap scan returns rows in table order, to be sorted after. The planner picks one when it
/// believes few rows match: for a page deep into a listing, whose cursor condition it guesses
/// to keep a third of the tenant's rows, on a table never analysed since it grew (autovacuum
/// late or off). That plan reads and sorts every row after the cursor: 24 ms instead of 0.09 ms
/// for the page after 50,000 of 100,000 users (`docs/benchmarks.md`). Without bitmap scans the
/// planner reads the listing's index in order and stops after the page, whatever its statistics
/// say.
const POSTGRES_SETTINGS: &str = "SET enable_bitmapscan = off";

/// Keygate's settings of every SQLite connection: created when missing, WAL (readers never
/// block the writer), foreign keys on, a busy timeout for another process's write lock, and
/// temporary storage in memory.
///
/// `temp_store=MEMORY`: every writer of a group-committed batch runs in a savepoint of its own
/// ([`crate::writer`]), so SQLite keeps a statement journal for it; on disk that journal is a
/// temporary file created, written and deleted for each writer, which cost about a quarter of a
/// refresh-token rotation's time (`docs/benchmarks.md`). Its size is bounded by what one writer
/// changes (housekeeping deletes in batches).
///
/// `wal_autocheckpoint`: commits checkpoint by themselves only as a backstop;
/// [`crate::checkpoint::run`] does it off the write path.
pub fn sqlite_settings(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        .pragma("temp_store", "memory")
        .pragma("wal_autocheckpoint", crate::checkpoint::WRITER_CHECKPOINT_PAGES.to_string())
}

/// Whether `url` names a SQLite database.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Whether the database answers a trivial query (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// Opens and closes one connection, so that a database that cannot be reached is reported with
/// what failed (`connection refused`, the host and port, a bad password, an unwritable file)
/// instead of the pool's eventual "pool timed out".
pub async fn probe(url: &str) -> Result<(), DbErr> {
    use sea_orm::sqlx::Connection;
    use std::str::FromStr;

    let unreachable = |target: String, cause: String| {
        DbErr::Conn(sea_orm::RuntimeErr::Internal(format!("cannot connect to {target}: {cause}")))
    };
    let attempt = async {
        if is_sqlite(url) {
            let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .map_err(|e| unreachable("the SQLite database".into(), e.to_string()))?
                .create_if_missing(true);
            let target = format!("the SQLite database {}", options.get_filename().display());
            let connection = sea_orm::sqlx::SqliteConnection::connect_with(&options)
                .await
                .map_err(|e| unreachable(target, e.to_string()))?;
            connection.close().await.ok();
        } else {
            let options = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url)
                .map_err(|e| unreachable("PostgreSQL".into(), e.to_string()))?;
            let target = format!("PostgreSQL at {}:{}", options.get_host(), options.get_port());
            let connection = sea_orm::sqlx::PgConnection::connect_with(&options)
                .await
                .map_err(|e| unreachable(target, e.to_string()))?;
            connection.close().await.ok();
        }
        Ok(())
    };
    match tokio::time::timeout(FIRST_CONNECT_TIMEOUT, attempt).await {
        Ok(result) => result,
        Err(_) => Err(DbErr::Conn(sea_orm::RuntimeErr::Internal(format!(
            "cannot connect to the database: no answer within {} s",
            FIRST_CONNECT_TIMEOUT.as_secs()
        )))),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    /// Savepoint journals and other temporary tables stay in memory (`PRAGMA temp_store` is 2).
    #[tokio::test]
    async fn sqlite_keeps_temporary_storage_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let db = super::connect(&url).await.unwrap();
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), "PRAGMA temp_store"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), 2);
    }

    /// On PostgreSQL a keyset page reads its index in order and stops after the page, even on a
    /// table that was never analysed: 20,000 rows of one tenant in a temporary table (which
    /// autovacuum never analyses), and the plan of the page after the first 10,000.
    #[tokio::test]
    async fn postgres_keyset_pages_read_their_index_in_order_without_statistics() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else { return };
        if url.trim().is_empty() {
            return;
        }
        let db = super::connect(&url).await.unwrap();
        // One transaction: the temporary table lives on that one connection.
        let tx = sea_orm::TransactionTrait::begin(&db).await.unwrap();
        for sql in [
            "CREATE TEMP TABLE listed (tenant_id uuid NOT NULL, created_at timestamptz NOT NULL, id uuid NOT NULL, \
             name text NOT NULL) ON COMMIT DROP",
            "CREATE INDEX listed_page ON listed (tenant_id, created_at, id)",
            "INSERT INTO listed SELECT '00000000-0000-0000-0000-000000000001', now() + n * interval '1 ms', \
             gen_random_uuid(), 'user-' || n FROM generate_series(1, 20000) AS n",
        ] {
            tx.execute_unprepared(sql).await.unwrap();
        }
        let cursor = "SELECT format('(%L::timestamptz, %L::uuid)', created_at, id) FROM listed \
                      ORDER BY created_at, id OFFSET 10000 LIMIT 1";
        let cursor: String = tx
            .query_one_raw(Statement::from_string(tx.get_database_backend(), cursor))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index(0)
            .unwrap();
        let explain = format!(
            "EXPLAIN SELECT * FROM listed WHERE tenant_id = '00000000-0000-0000-0000-000000000001' \
             AND (created_at, id) > {cursor} ORDER BY created_at, id LIMIT 51"
        );
        let plan: Vec<String> = tx
            .query_all_raw(Statement::from_string(tx.get_database_backend(), explain))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).unwrap())
            .collect();
        let plan = plan.join("\n");
        assert!(plan.contains("Index Scan using listed_page"), "{plan}");
        assert!(!plan.contains("Sort") && !plan.contains("Bitmap"), "{plan}");
        tx.rollback().await.unwrap();
    }

    /// The bundled SQLite keeps a statement's plan whatever is bound to it (`ENABLE_QPSG`, set
    /// in `.cargo/config.toml`), so `… LIMIT ?` lookups are not prepared again on every use.
    #[tokio::test]
    async fn sqlite_plans_are_stable() {
        let db = super::connect("sqlite::memory:").await.unwrap();
        let statement = Statement::from_string(db.get_database_backend(), "PRAGMA compile_options");
        let options: Vec<String> = db
            .query_all_raw(statement)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).unwrap())
            .collect();
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "compile options: {options:?}");
    }
}
