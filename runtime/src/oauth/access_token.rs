//! Checking an access token this server issued, for introspection and UserInfo.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{grants, issuer};
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::jose::{decode_header, verify_jwt};
use crate::roles::{RevokedTokenColumns, Roles};
use crate::secret;

/// The claims of `token` if it is an access token of this tenant (RFC 9068 `typ: at+jwt`,
/// signed by one of its keys, its issuer) that has not expired, was not revoked, and whose
/// grant, if it has one, is live. Anything else is `None`.
pub async fn verify<R: Roles>(
    ctx: &EndpointCtx<'_>,
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<Value>, ApiError> {
    verify_for::<R>(ctx.runtime(), db, ctx.tenant()?, ctx.tenant_key()?, token).await
}

/// [`verify`] for the tenant `tenant` whose URL name is `tenant_key`.
pub async fn verify_for<R: Roles>(
    rt: &crate::Runtime,
    db: &impl ConnectionTrait,
    tenant: Uuid,
    tenant_key: &str,
    token: &str,
) -> Result<Option<Value>, ApiError> {
    let is_access_token = decode_header(token).is_ok_and(|header| header.typ.as_deref() == Some("at+jwt"));
    if !is_access_token {
        return Ok(None);
    }
    let keys = rt.keys().jwks(db, tenant).await?;
    let Ok(claims) = verify_jwt(token, &keys.keys) else { return Ok(None) };
    let expected_issuer = issuer(&rt.config().public_url, tenant_key);
    let now = crate::now().timestamp();
    if claims["iss"] != json!(expected_issuer) || claims["exp"].as_i64().is_none_or(|exp| exp <= now) {
        return Ok(None);
    }
    let revoked = crud::find_where(db, tenant, R::RevokedToken::TOKEN_DIGEST, secret::digest(token)).await?.is_some();
    if revoked {
        return Ok(None);
    }
    if let Some(grant) = claims.get(GRANT_CLAIM) {
        let Some(grant) = grant.as_str().and_then(|g| g.parse::<Uuid>().ok()) else { return Ok(None) };
        if grants::live::<R>(db, tenant, grant).await?.is_none() {
            return Ok(None);
        }
    }
    Ok(Some(claims))
}

/// The private claim naming the grant a user's access token belongs to.
pub const GRANT_CLAIM: &str = "grant_id";
