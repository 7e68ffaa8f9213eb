//! Housekeeping: rows that can no longer matter are deleted, so tables of one-time things do not
//! grow forever. Each kind is pruned only once it is past its own expiry, when it would be
//! refused anyway: revoked-token records (and used client-assertion ids) whose token has
//! expired, browser sessions that have ended, and refresh tokens past their lifetime. Codes and
//! grants stay: a replayed code must still find its grant to revoke it.

use std::time::Duration;

use sea_orm::{ColumnTrait, QueryFilter};

use crate::crud::{self, Resource};
use crate::error::ApiError;
use crate::roles::Roles;
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
    Ok(Pruned {
        revoked_tokens: expired::<R::RevokedToken>(rt).await?,
        sessions: expired::<R::AuthSession>(rt).await?,
        refresh_tokens: expired::<R::RefreshToken>(rt).await?,
    })
}

async fn expired<E: Resource>(rt: &Runtime) -> Result<u64, ApiError>
where
    E::Column: std::str::FromStr,
{
    let expires_at = crud::column::<E>("expires_at")?;
    let _turn = rt.write_turn().await;
    let result =
        E::delete_many().filter(expires_at.lt(crate::now())).exec(rt.db()).await.map_err(crud::write_error::<E>)?;
    Ok(result.rows_affected)
}
