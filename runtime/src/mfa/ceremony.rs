//! WebAuthn ceremonies in flight: between handing out creation or request options and receiving
//! the browser's answer, webauthn-rs's state (which holds the random challenge, WebAuthn §13.4.3)
//! waits in the database, found by a 256-bit token the client echoes and of which only the
//! SHA-256 digest is stored. A ceremony lives [`LIFETIME`] and completes once; a client IP
//! starts at most [`PER_IP`] a minute; housekeeping deletes expired ones (`expires:` in the
//! schema, [`crate::maintenance`]).

use chrono::Duration;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::account::credentials::client_ip;
use crate::account::throttle::Rate;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{NewPasskeyCeremony, PasskeyCeremony, PasskeyCeremonyColumns, Roles};
use crate::secret;
use crate::vocab::CeremonyPurpose;

/// How long the browser has to answer (webauthn-rs asks authenticators for 5 minutes too).
pub const LIFETIME: Duration = Duration::minutes(5);

/// Ceremonies one client IP may start, per minute, across tenants and purposes. Starting one
/// needs no credential (passwordless sign-in) and stores a row, so without a limit anyone could
/// fill the table; rows live [`LIFETIME`] and housekeeping deletes them within its interval
/// after, so one IP keeps at most about 15 minutes' worth (900 rows). Sixty a minute still
/// serves a sign-in page opened every second from one address (a NAT of many users).
pub const PER_IP: Rate = Rate { limit: 60, window: std::time::Duration::from_secs(60) };

/// A ceremony row.
pub type CeremonyModel<R> = <<R as Roles>::PasskeyCeremony as EntityTrait>::Model;

/// Stores `state` for a `purpose` ceremony (of `user` with the new passkey's `label`, when
/// registering); the raw token, whose digest alone is stored. A 429 with `Retry-After` when the
/// client IP started [`PER_IP`] ceremonies this minute (nothing stored).
pub async fn store<R: Roles>(
    ctx: &EndpointCtx<'_>,
    purpose: CeremonyPurpose,
    user: Option<Uuid>,
    label: Option<String>,
    state: &impl Serialize,
) -> Result<String, ApiError> {
    if let Some(wait) = ctx.runtime().throttle().spend("passkey_ceremony", &client_ip(ctx), PER_IP).await? {
        let detail = format!("too many passkey ceremonies from this address; retry in {wait} s");
        return Err(ApiError::too_many_requests(detail, wait));
    }
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
