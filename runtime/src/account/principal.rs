//! Who is calling the account API: a user, by an access token of this tenant's first-party
//! client (the sign-in API's tokens), by one of their API keys (`Authorization: Bearer sk_…` or
//! `X-API-Key: sk_…`), or by the browser session cookie. An access token an application got
//! through the authorization endpoint is not taken: it stands for what the user consented to
//! give that application (its scopes), not for managing their account — with it, an application
//! could change the email to its own address and reset the password from there.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::api::issued_to_first_party;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::oauth::access_token::{self, GRANT_CLAIM};
use crate::roles::{Account, Roles};

/// `WWW-Authenticate` challenge of the account API (RFC 6750 §3).
pub const CHALLENGE: &str = "Bearer realm=\"keygate\"";

/// An authenticated user.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user_id: Uuid,
    /// The grant of the access token used, if it was one.
    pub grant_id: Option<Uuid>,
    /// The browser session, if the request came with the session cookie.
    pub session_id: Option<Uuid>,
    /// When the user last authenticated for this credential: the session's or the access
    /// token's `auth_time` (RFC 9068 §2.2.1); `None` for an API key, which is no sign-in.
    pub auth_time: Option<DateTime<Utc>>,
}

/// The header a cookie-authenticated request that changes state must carry, with the token
/// the sign-in answered with (double submit: it must equal the `kg_csrf` cookie).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The calling user; 401 with a challenge if the request carries no valid credential.
pub async fn require<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<Principal, ApiError> {
    let unauthorized = |detail: &str| ApiError::unauthorized(detail, CHALLENGE);
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let (user_id, grant_id, auth_time) = match crate::access::presented(ctx.request())?.as_deref() {
        Some(key) if key.starts_with("sk_") => match crate::access::api_key_owner::<R>(rt, key).await? {
            Some((key_tenant, user)) if key_tenant == tenant => (user, None, None),
            _ => return Err(unauthorized("the API key is invalid, expired or revoked")),
        },
        Some(token) => {
            let Some(claims) = access_token::verify::<R>(ctx, rt.db(), token).await? else {
                return Err(unauthorized("the access token is invalid, expired or revoked"));
            };
            // Only user tokens (a client's own token has no grant) of the first-party client.
            if !issued_to_first_party(&claims, tenant) {
                return Err(unauthorized(
                    "this access token was issued to an application; the account API takes the tokens of its own sign-in",
                ));
            }
            let grant = claims.get(GRANT_CLAIM).and_then(|g| g.as_str()).and_then(|g| g.parse().ok());
            let user = claims["sub"].as_str().and_then(|s| s.parse().ok());
            let auth_time = claims["auth_time"].as_i64().and_then(|t| DateTime::from_timestamp(t, 0));
            match (user, grant) {
                (Some(user), Some(grant)) => (user, Some(grant), auth_time),
                _ => return Err(unauthorized("this access token does not belong to a user")),
            }
        }
        None => {
            // Cookie mode: the browser session, with a CSRF check on anything but reads.
            let Some(session) = crate::browser::session::current::<R>(ctx).await? else {
                return Err(ApiError::credentials_required(
                    "sign in first: send an access token, an API key or the session cookie",
                    CHALLENGE,
                ));
            };
            let reading =
                matches!(*ctx.request().method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
            let token = ctx.request().headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !reading && !crate::browser::csrf::verify(ctx, token) {
                return Err(ApiError::forbidden(format!("send the CSRF token from sign-in as `{CSRF_HEADER}`")));
            }
            if !is_active::<R>(ctx, session.user_id).await? {
                return Err(unauthorized("the account is disabled"));
            }
            return Ok(Principal::of_session(&session));
        }
    };
    if !is_active::<R>(ctx, user_id).await? {
        return Err(unauthorized("the account is disabled"));
    }
    Ok(Principal { user_id, grant_id, session_id: None, auth_time })
}

impl Principal {
    /// The user of a browser session (the account page's caller).
    pub fn of_session(session: &crate::browser::session::Session) -> Self {
        Self {
            user_id: session.user_id,
            grant_id: None,
            session_id: Some(session.id),
            auth_time: Some(session.auth_time),
        }
    }
}

async fn is_active<R: Roles>(ctx: &EndpointCtx<'_>, user_id: Uuid) -> Result<bool, ApiError> {
    let rt = ctx.runtime();
    Ok(rt.accounts().find::<R::Account>(rt, ctx.tenant()?, user_id).await?.is_some_and(|a| a.is_active()))
}
