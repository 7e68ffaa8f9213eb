//! Grants: the family every token issued from one authorization code belongs to. Revoking a
//! grant ends its refresh tokens at once and its access tokens at introspection and UserInfo.

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::crud;
use crate::error::ApiError;
use crate::roles::{Grant, GrantColumns, RefreshTokenColumns, Roles};

/// The grant `id` if it exists and is not revoked.
pub async fn live<R: Roles>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<<R::Grant as EntityTrait>::Model>, ApiError> {
    Ok(crud::find_optional::<R::Grant>(db, Some(tenant), id).await?.filter(|grant| grant.revoked_at().is_none()))
}

/// Inside a write transaction: whether the grant `id` (named by a row of the caller's tenant) is
/// live, locking its row until the transaction ends (it touches `updated_at`), so a concurrent
/// [`revoke`] waits for the transaction and then sees every token it stored.
pub async fn lock_live<R: Roles>(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, ApiError> {
    crud::claim(db, id, R::Grant::REVOKED_AT, [R::Grant::UPDATED_AT.set(crate::now())]).await
}

/// Revokes the grant `id` of `tenant` (a no-op if it already is), and retires its refresh tokens;
/// `id` comes from a row or credential of that tenant. The grant
/// row is written first: a rotation holding it ([`lock_live`]) finishes before the refresh
/// tokens are retired, so its new token is retired too.
pub async fn revoke<R: Roles>(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> Result<(), ApiError> {
    let now = crate::now();
    let revoked = [R::Grant::REVOKED_AT.set(now), R::Grant::UPDATED_AT.set(now)];
    crud::claim(db, id, R::Grant::REVOKED_AT, revoked).await?;
    let retired = [R::RefreshToken::USED_AT.set(now)];
    crud::claim_where(db, tenant, (R::RefreshToken::GRANT_ID, id), R::RefreshToken::USED_AT, retired).await?;
    Ok(())
}
