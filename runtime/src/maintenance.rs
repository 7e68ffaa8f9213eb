//! Housekeeping: rows that can no longer matter are deleted, so tables of one-time things do not
//! grow forever. Which tables, and by which column, the schema says: an entity's `expires:`
//! names the timestamp past which its rows are dead (docs/schema.md), and the generator lists
//! those entities in `EXPIRING` (with an index on the column, so finding them is a range scan).
//! Each row is deleted only once it is past its own expiry, when it would be refused anyway:
//! in Keygate, revoked-token records (and used client-assertion ids) whose token has expired,
//! browser sessions that have ended, refresh tokens past their lifetime, sign-in challenges
//! (second factors), WebAuthn ceremonies and emailed links (verification, password reset).
//! Codes and grants declare no `expires:`: a replayed code must still find its grant to revoke
//! it.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, Query};

use crate::error::ApiError;
use crate::state::Runtime;

/// How often `keygate serve` prunes.
pub const INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Rows one delete statement removes at most. Each batch is a statement of its own (its own
/// transaction, and its own turn at SQLite's write gate), so a backlog of expired rows never
/// holds the write lock for longer than one batch: other writers go between batches.
pub const BATCH: u64 = 2_000;

/// A table whose rows die at a timestamp: an entity with `expires:` (generated into
/// `keygate_api::entities::EXPIRING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiring {
    /// Table, e.g. `email_tokens`.
    pub table: &'static str,
    /// The `timestamp` column past which a row is dead, e.g. `expires_at`; a row whose value is
    /// null never expires.
    pub column: &'static str,
    /// Primary key column, by which batches are deleted.
    pub primary_key: &'static str,
}

/// How many rows were deleted, per table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Rows deleted from each table of the run, in its order.
    pub tables: Vec<(&'static str, u64)>,
    /// Delete statements run (one per batch, at least one per table).
    pub batches: u64,
}

impl Pruned {
    /// Rows deleted from `table` (0 for a table not pruned).
    pub fn rows(&self, table: &str) -> u64 {
        self.tables.iter().filter(|(name, _)| *name == table).map(|(_, rows)| rows).sum()
    }
}

/// Deletes every expired row of `tables`, in all tenants, [`BATCH`] rows at a time. Errors: a
/// database failure (503 when the database is unavailable).
pub async fn prune(rt: &Runtime, tables: &[Expiring]) -> Result<Pruned, ApiError> {
    prune_in_batches(rt, tables, BATCH).await
}

/// [`prune`] with batches of at most `batch` rows (at least 1).
pub async fn prune_in_batches(rt: &Runtime, tables: &[Expiring], batch: u64) -> Result<Pruned, ApiError> {
    let batch = batch.max(1);
    let now = crate::now();
    let mut pruned = Pruned::default();
    for table in tables {
        let rows = expired(rt, table, now, batch, &mut pruned.batches).await?;
        pruned.tables.push((table.table, rows));
    }
    Ok(pruned)
}

/// Deletes the rows of `table`, in every tenant, whose expiry is before `now`, `batch` primary
/// keys per statement.
async fn expired(
    rt: &Runtime,
    table: &Expiring,
    now: chrono::DateTime<chrono::Utc>,
    batch: u64,
    batches: &mut u64,
) -> Result<u64, ApiError> {
    use sea_orm::sea_query::ExprTrait as _;
    let (name, key) = (Alias::new(table.table), Alias::new(table.primary_key));
    let due = Query::select()
        .column(key.clone())
        .from(name.clone())
        .and_where(Expr::col(Alias::new(table.column)).lt(now))
        .limit(batch)
        .to_owned();
    let statement = Query::delete().from_table(name).and_where(Expr::col(key).in_subquery(due)).to_owned();
    let mut deleted = 0;
    loop {
        let turn = rt.write_turn().await;
        let rows = rt.db().execute(&statement).await?.rows_affected();
        drop(turn);
        *batches += 1;
        deleted += rows;
        if rows < batch {
            return Ok(deleted);
        }
        // Let the writers that queued behind this batch go first.
        tokio::task::yield_now().await;
    }
}
