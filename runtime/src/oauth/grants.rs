//! Grants: the family every token issued from one authorization code belongs to. Revoking a
//! grant ends its refresh tokens at once and its access tokens at introspection and UserInfo.

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::crud;
use crate::error::ApiError;
use crate::roles::{Grant, Roles};

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
    crud::claim::<R::Grant>(db, id, "revoked_at", vec![("updated_at", crate::now().into())]).await
}

/// Revokes the grant `id` of `tenant` (a no-op if it already is), and retires its refresh tokens;
/// `id` comes from a row or credential of that tenant. The grant
/// row is written first: a rotation holding it ([`lock_live`]) finishes before the refresh
/// tokens are retired, so its new token is retired too.
pub async fn revoke<R: Roles>(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> Result<(), ApiError> {
    let now = crate::now();
    crud::claim::<R::Grant>(db, id, "revoked_at", vec![("revoked_at", now.into()), ("updated_at", now.into())]).await?;
    crud::claim_where::<R::RefreshToken>(db, tenant, ("grant_id", id.into()), "used_at", vec![("used_at", now.into())])
        .await?;
    Ok(())
}
