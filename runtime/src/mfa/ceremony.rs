//! WebAuthn ceremonies in flight: between handing out creation or request options and receiving
//! the browser's answer, webauthn-rs's state (which holds the random challenge, WebAuthn §13.4.3)
//! waits in the database, found by a 256-bit token the client echoes and of which only the
//! SHA-256 digest is stored. A ceremony lives [`LIFETIME`] and completes once.

use chrono::Duration;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{NewPasskeyCeremony, PasskeyCeremony, PasskeyCeremonyColumns, Roles};
use crate::secret;
use crate::vocab::CeremonyPurpose;

/// How long the browser has to answer (webauthn-rs asks authenticators for 5 minutes too).
pub const LIFETIME: Duration = Duration::minutes(5);

/// A ceremony row.
pub type CeremonyModel<R> = <<R as Roles>::PasskeyCeremony as EntityTrait>::Model;

/// Stores `state` for a `purpose` ceremony (of `user` with the new passkey's `label`, when
/// registering); the raw token, whose digest alone is stored.
pub async fn store<R: Roles>(
    ctx: &EndpointCtx<'_>,
    purpose: CeremonyPurpose,
    user: Option<Uuid>,
    label: Option<String>,
    state: &impl Serialize,
) -> Result<String, ApiError> {
    let token = secret::random_token("kgw_", 32);
    let row = NewPasskeyCeremony {
        tenant_id: ctx.tenant()?,
        id: Uuid::new_v4(),
        ceremony_digest: secret::digest(&token),
        purpose,
        user_id: user,
        label,
        state: serde_json::to_string(state).map_err(ApiError::internal)?,
        expires_at: crate::now() + LIFETIME,
    };
    let tx = ctx.runtime().begin_write().await?;
    crud::insert_new::<R::PasskeyCeremony>(&*tx, row).await?;
    tx.commit().await?;
    Ok(token)
}

/// The live `purpose` ceremony `token` names, and its state; a 422 on `ceremony` saying why
/// otherwise (unknown, of another purpose or tenant, used, expired).
pub async fn find<R: Roles, S: DeserializeOwned>(
    ctx: &EndpointCtx<'_>,
    token: &str,
    purpose: CeremonyPurpose,
) -> Result<(CeremonyModel<R>, S), ApiError> {
    let refused = |why: &str| ApiError::invalid_field("ceremony", format!("{why}; start again"));
    let digest = secret::digest(token);
    let row = crud::find_where(ctx.runtime().db(), ctx.tenant()?, R::PasskeyCeremony::CEREMONY_DIGEST, digest)
        .await?
        .filter(|row: &CeremonyModel<R>| row.purpose() == purpose)
        .ok_or_else(|| refused("is unknown"))?;
    if row.used_at().is_some() {
        return Err(refused("was already used"));
    }
    if row.expires_at() <= crate::now() {
        return Err(refused("has expired"));
    }
    let state = serde_json::from_str(row.state()).map_err(ApiError::internal)?;
    Ok((row, state))
}

/// Inside a write transaction: marks the ceremony used; whether this call did (of two
/// concurrent answers exactly one wins).
pub async fn claim<R: Roles>(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, ApiError> {
    crud::claim(db, id, R::PasskeyCeremony::USED_AT, [R::PasskeyCeremony::USED_AT.set(crate::now())]).await
}
