//! Housekeeping: rows that can no longer matter are deleted, so tables of one-time things do not
//! grow forever. Each kind is pruned only once it is past its own expiry, when it would be
//! refused anyway: revoked-token records (and used client-assertion ids) whose token has
//! expired, browser sessions that have ended, refresh tokens past their lifetime, sign-in
//! challenges (second factors) and emailed links (verification, password reset) past theirs.
//! Codes and
//! grants stay: a replayed code must still find its grant to revoke it.

use std::time::Duration;

use sea_orm::{ColumnTrait, QueryFilter, QuerySelect, QueryTrait};

use crate::crud::{self, Resource};
use crate::error::ApiError;
use crate::roles::{
    AuthSessionColumns, EmailTokenColumns, MfaChallengeColumns, PasskeyCeremonyColumns, RefreshTokenColumns,
    RevokedTokenColumns, Roles,
};
use crate::state::Runtime;

/// How often `keygate serve` prunes.
pub const INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Rows one delete statement removes at most. Each batch is a statement of its own (its own
/// transaction, and its own turn at SQLite's write gate), so a backlog of expired rows never
/// holds the write lock for longer than one batch: other writers go between batches.
pub const BATCH: u64 = 2_000;

/// How many rows of each kind were deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Revoked-token records.
    pub revoked_tokens: u64,
    /// Browser sessions.
    pub sessions: u64,
    /// Refresh tokens.
    pub refresh_tokens: u64,
    /// Sign-in challenges waiting for a second factor.
    pub mfa_challenges: u64,
    /// Emailed links.
    pub email_tokens: u64,
    /// WebAuthn ceremonies (passkey registrations and passwordless sign-ins) never completed.
    pub passkey_ceremonies: u64,
    /// Delete statements run (one per batch, at least one per kind).
    pub batches: u64,
}

/// Deletes every expired row of the kinds above, in all tenants, [`BATCH`] rows at a time.
pub async fn prune<R: Roles>(rt: &Runtime) -> Result<Pruned, ApiError> {
    prune_in_batches::<R>(rt, BATCH).await
}

/// [`prune`] with batches of at most `batch` rows (at least 1). Rows are found through the
/// `expires_at` index the generator emits for these entities.
pub async fn prune_in_batches<R: Roles>(rt: &Runtime, batch: u64) -> Result<Pruned, ApiError> {
    let batch = batch.max(1);
    let now = crate::now();
    let mut pruned = Pruned::default();
    let revoked = R::RevokedToken::EXPIRES_AT.lt(now);
    pruned.revoked_tokens = expired::<R::RevokedToken>(rt, revoked, batch, &mut pruned.batches).await?;
    let sessions = R::AuthSession::EXPIRES_AT.lt(now);
    pruned.sessions = expired::<R::AuthSession>(rt, sessions, batch, &mut pruned.batches).await?;
    let refresh = R::RefreshToken::EXPIRES_AT.lt(now);
    pruned.refresh_tokens = expired::<R::RefreshToken>(rt, refresh, batch, &mut pruned.batches).await?;
    let challenges = R::MfaChallenge::EXPIRES_AT.lt(now);
    pruned.mfa_challenges = expired::<R::MfaChallenge>(rt, challenges, batch, &mut pruned.batches).await?;
    let links = R::EmailToken::EXPIRES_AT.lt(now);
    pruned.email_tokens = expired::<R::EmailToken>(rt, links, batch, &mut pruned.batches).await?;
    let ceremonies = R::PasskeyCeremony::EXPIRES_AT.lt(now);
    pruned.passkey_ceremonies = expired::<R::PasskeyCeremony>(rt, ceremonies, batch, &mut pruned.batches).await?;
    Ok(pruned)
}

/// Deletes the rows of `E`, in every tenant, that `expired` (a condition on its expiry column)
/// holds for, `batch` primary keys per statement.
async fn expired<E: Resource>(
    rt: &Runtime,
    expired: sea_orm::sea_query::Expr,
    batch: u64,
    batches: &mut u64,
) -> Result<u64, ApiError> {
    let mut deleted = 0;
    loop {
        let due = E::find().select_only().column(E::pk()).filter(expired.clone()).limit(batch).into_query();
        let statement = E::delete_many().filter(E::pk().in_subquery(due));
        let turn = rt.write_turn().await;
        let rows = statement.exec(rt.db()).await.map_err(crud::write_error::<E>)?.rows_affected;
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
