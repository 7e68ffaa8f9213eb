//! The browser session behind the `kg_session` cookie: a random value whose SHA-256 digest
//! finds the session row (the `auth_session` role), so a database leak yields no usable cookie.

use actix_web::cookie::{Cookie, SameSite};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::tenant_cookie;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{AuthSession, AuthSessionColumns, NewAuthSession, Roles};
use crate::secret;

const COOKIE: &str = "kg_session";

/// A signed-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Session id (the ID token's `sid`).
    pub id: Uuid,
    /// The signed-in user.
    pub user_id: Uuid,
    /// When the user entered their password.
    pub auth_time: DateTime<Utc>,
    /// How the user authenticated (RFC 8176 `amr` values, [`crate::mfa::amr`]).
    pub amr: Vec<String>,
}

/// The live session the request's cookie names, if any.
pub async fn current<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<Option<Session>, ApiError> {
    let Some(cookie) = ctx.request().cookie(COOKIE) else { return Ok(None) };
    let tenant = ctx.tenant()?;
    let digest = secret::digest(cookie.value());
    let row = crud::find_where(ctx.runtime().db(), tenant, R::AuthSession::SESSION_DIGEST, digest).await?;
    let now = crate::now();
    Ok(row.filter(|row| row.expires_at() > now).map(|row| Session {
        id: row.id(),
        user_id: row.user_id(),
        auth_time: row.auth_time(),
        amr: crate::mfa::amr::methods(row.amr()),
    }))
}

/// Starts a session for a user who just authenticated with the methods `amr` (RFC 8176); the
/// cookie carries the only copy of its secret.
pub async fn start<R: Roles>(
    ctx: &EndpointCtx<'_>,
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    username: &str,
    amr: Vec<String>,
) -> Result<(Session, Cookie<'static>), ApiError> {
    let signed_in = Session { id: Uuid::new_v4(), user_id, auth_time: crate::now(), amr };
    insert::<R>(ctx, db, username, signed_in).await
}

/// A new session (new id, new cookie, full lifetime) in place of `old`, for the same sign-in: it
/// keeps `old`'s `auth_time` and `amr`, so renewing never makes an authentication look recent.
/// The caller ends `old`.
pub async fn renew<R: Roles>(
    ctx: &EndpointCtx<'_>,
    db: &impl sea_orm::ConnectionTrait,
    username: &str,
    old: &Session,
) -> Result<(Session, Cookie<'static>), ApiError> {
    insert::<R>(ctx, db, username, Session { id: Uuid::new_v4(), ..old.clone() }).await
}

async fn insert<R: Roles>(
    ctx: &EndpointCtx<'_>,
    db: &impl sea_orm::ConnectionTrait,
    username: &str,
    session: Session,
) -> Result<(Session, Cookie<'static>), ApiError> {
    let raw = secret::random_token("", 32);
    let lifetime = ctx.runtime().config().session_lifetime;
    let row = NewAuthSession {
        tenant_id: ctx.tenant()?,
        id: session.id,
        user_id: session.user_id,
        username: username.to_owned(),
        session_digest: secret::digest(&raw),
        auth_time: session.auth_time,
        amr: Some(crate::string_list::StringList(session.amr.clone())),
        expires_at: crate::now() + lifetime,
    };
    crud::insert_new::<R::AuthSession>(db, row).await?;
    // Lax, not Strict: the browser must send it when a client's site sends the user here.
    let mut cookie = tenant_cookie(ctx, COOKIE, raw, SameSite::Lax);
    cookie.set_max_age(actix_web::cookie::time::Duration::seconds(lifetime.num_seconds()));
    Ok((session, cookie))
}

/// Ends the session `id` and returns the cookie that clears it in the browser.
pub async fn end<R: Roles>(
    ctx: &EndpointCtx<'_>,
    db: &impl sea_orm::ConnectionTrait,
    id: Uuid,
) -> Result<Cookie<'static>, ApiError> {
    crud::delete_id::<R::AuthSession>(db, id).await?;
    let mut cookie = tenant_cookie(ctx, COOKIE, String::new(), SameSite::Lax);
    cookie.make_removal();
    Ok(cookie)
}
