//! Housekeeping: rows that can no longer matter are deleted, so tables of one-time things do not
//! grow forever. Each kind is pruned only once it is past its own expiry, when it would be
//! refused anyway: revoked-token records (and used client-assertion ids) whose token has
//! expired, browser sessions that have ended, and refresh tokens past their lifetime. Codes and
//! grants stay: a replayed code must still find its grant to revoke it.

use std::time::Duration;

use sea_orm::QueryFilter;

use crate::crud::{self, Resource};
use crate::error::ApiError;
use crate::roles::{AuthSessionColumns, RefreshTokenColumns, RevokedTokenColumns, Roles};
use crate::state::Runtime;

/// How often `keygate serve` prunes.
pub const INTERVAL: Duration = Duration::from_secs(10 * 60);

/// How many rows of each kind were deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Revoked-token records.
    pub revoked_tokens: u64,
    /// Browser sessions.
    pub sessions: u64,
    /// Refresh tokens.
    pub refresh_tokens: u64,
}

/// Deletes every expired row of the kinds above, in all tenants.
pub async fn prune<R: Roles>(rt: &Runtime) -> Result<Pruned, ApiError> {
    let now = crate::now();
    Ok(Pruned {
        revoked_tokens: expired::<R::RevokedToken>(rt, R::RevokedToken::EXPIRES_AT.lt(now)).await?,
        sessions: expired::<R::AuthSession>(rt, R::AuthSession::EXPIRES_AT.lt(now)).await?,
        refresh_tokens: expired::<R::RefreshToken>(rt, R::RefreshToken::EXPIRES_AT.lt(now)).await?,
    })
}

/// Deletes the rows of `E`, in every tenant, that `expired` (a condition on its expiry column) holds for.
async fn expired<E: Resource>(rt: &Runtime, expired: sea_orm::sea_query::Expr) -> Result<u64, ApiError> {
    let _turn = rt.write_turn().await;
    let result = E::delete_many().filter(expired).exec(rt.db()).await.map_err(crud::write_error::<E>)?;
    Ok(result.rows_affected)
}
