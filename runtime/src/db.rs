//! Connecting to SQLite (the embedded default) or PostgreSQL.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// How long a pooled connection may sit idle before it is pinged on checkout.
const POOL_IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// How long a SQLite connection waits for another process's write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a pool for `url` (`sqlite://path` or `postgres://...`). SQLite files are created when
/// missing and run in WAL mode, so readers never block the writer.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).connect_timeout(Duration::from_secs(10)).acquire_timeout(Duration::from_secs(30));
    // Ping a pooled connection only after it sat idle (when a server, proxy or firewall may have
    // dropped it), not on every checkout: the default ping doubled the round trips of every
    // statement on the hot paths.
    options.test_before_acquire_if_idle_for(POOL_IDLE_BEFORE_PING);
    if is_sqlite(url) {
        options.max_connections(8).min_connections(1).map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
        });
    } else {
        options.max_connections(16).min_connections(1);
    }
    Database::connect(options).await
}

/// Whether `url` names a SQLite database.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Whether the database answers a trivial query (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
