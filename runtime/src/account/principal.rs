//! Who is calling the account API: a user, by an access token this tenant issued (from the
//! sign-in API or an OAuth flow) or by one of their API keys (`Authorization: Bearer sk_…` or
//! `X-API-Key: sk_…`).

use actix_web::http::header;
use chrono::Duration;
use uuid::Uuid;

use crate::crud;
use crate::endpoint::EndpointCtx;
use crate::error::ApiError;
use crate::oauth::access_token::{self, GRANT_CLAIM};
use crate::roles::{Account, ApiKey, Roles};
use crate::secret;

/// `WWW-Authenticate` challenge of the account API (RFC 6750 §3).
pub const CHALLENGE: &str = "Bearer realm=\"keygate\"";

/// How often an API key's `last_used_at` is written at most: uses in between are coalesced.
const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

/// An authenticated user.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user_id: Uuid,
    /// The grant of the access token used, if it was one.
    pub grant_id: Option<Uuid>,
    /// The browser session, if the request came with the session cookie.
    pub session_id: Option<Uuid>,
}

/// The header a cookie-authenticated request that changes state must carry, with the token
/// the sign-in answered with (double submit: it must equal the `kg_csrf` cookie).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The calling user; 401 with a challenge if the request carries no valid credential.
pub async fn require<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<Principal, ApiError> {
    let unauthorized = |detail: &str| ApiError::unauthorized(detail, CHALLENGE);
    let headers = ctx.request().headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim);
    let (user_id, grant_id) = match (bearer, api_key) {
        (Some(_), Some(_)) => return Err(ApiError::bad_request("send one credential, not two")),
        (Some(key), None) | (None, Some(key)) if key.starts_with("sk_") => (api_key_user::<R>(ctx, key).await?, None),
        (None, Some(_)) => return Err(unauthorized("the API key is invalid")),
        (Some(token), None) => {
            let Some(claims) = access_token::verify::<R>(ctx, ctx.runtime().db(), token).await? else {
                return Err(unauthorized("the access token is invalid, expired or revoked"));
            };
            // Only user tokens: a client's own token has no grant.
            let grant = claims.get(GRANT_CLAIM).and_then(|g| g.as_str()).and_then(|g| g.parse().ok());
            let user = claims["sub"].as_str().and_then(|s| s.parse().ok());
            match (user, grant) {
                (Some(user), Some(grant)) => (user, Some(grant)),
                _ => return Err(unauthorized("this access token does not belong to a user")),
            }
        }
        (None, None) => {
            // Cookie mode: the browser session, with a CSRF check on anything but reads.
            let Some(session) = crate::browser::session::current::<R>(ctx).await? else {
                return Err(unauthorized("sign in first: send an access token, an API key or the session cookie"));
            };
            let reading =
                matches!(*ctx.request().method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
            let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !reading && !crate::browser::csrf::verify(ctx, token) {
                return Err(ApiError::forbidden(format!("send the CSRF token from sign-in as `{CSRF_HEADER}`")));
            }
            let active = rt_active::<R>(ctx, session.user_id).await?;
            if !active {
                return Err(unauthorized("the account is disabled"));
            }
            return Ok(Principal { user_id: session.user_id, grant_id: None, session_id: Some(session.id) });
        }
    };
    if !rt_active::<R>(ctx, user_id).await? {
        return Err(unauthorized("the account is disabled"));
    }
    Ok(Principal { user_id, grant_id, session_id: None })
}

async fn rt_active<R: Roles>(ctx: &EndpointCtx<'_>, user_id: Uuid) -> Result<bool, ApiError> {
    let rt = ctx.runtime();
    Ok(rt.accounts().find::<R::Account>(rt, ctx.tenant()?, user_id).await?.is_some_and(|a| a.is_active()))
}

/// The user an API key belongs to, if the key exists in this tenant and is within its validity.
async fn api_key_user<R: Roles>(ctx: &EndpointCtx<'_>, key: &str) -> Result<Uuid, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let invalid = || ApiError::unauthorized("the API key is invalid, expired or revoked", CHALLENGE);
    // Found by its SHA-256 digest (a unique index): the lookup itself compares digests, and a
    // 256-bit key cannot be guessed from timing.
    let Some(found) = crud::find_where::<R::ApiKey>(rt.db(), tenant, "digest", secret::digest(key)).await? else {
        return Err(invalid());
    };
    let now = crate::now();
    if found.valid_from() > now || found.valid_to().is_some_and(|to| to <= now) {
        return Err(invalid());
    }
    touch::<R>(rt, tenant, &found).await?;
    Ok(found.user_id())
}

/// Records a use of an API key, at most once a minute: uses in between are coalesced, so a
/// busy key does not turn every request into a write.
pub async fn touch<R: Roles>(
    rt: &crate::Runtime,
    tenant: Uuid,
    key: &<R::ApiKey as sea_orm::EntityTrait>::Model,
) -> Result<(), ApiError> {
    let now = crate::now();
    if key.last_used_at().is_none_or(|at| now - at >= LAST_USED_GRANULARITY) {
        let _turn = rt.write_turn().await;
        crud::set::<R::ApiKey>(rt.db(), tenant, key.id(), vec![("last_used_at", Some(now).into())]).await?;
    }
    Ok(())
}
