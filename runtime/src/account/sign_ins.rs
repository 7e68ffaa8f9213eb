//! A user's active sign-ins, as they see and end them: browser sessions (the `kg_session`
//! cookie, [`crate::browser::session`]) and grants that can still refresh (a sign-in of the
//! account API or an application's authorization, holding an unused, unexpired refresh token).
//! `GET /auth/me/sessions` lists them, `DELETE /auth/me/sessions/{id}` ends one and
//! `POST /auth/me/sessions/end-others` every one but the caller's; the account page does the
//! same through [`list`], [`end`] and [`end_others`].
//!
//! Ending a browser session signs that browser out and revokes the grants made in it (as
//! RP-initiated logout does); ending a grant revokes it, so its refresh tokens are refused
//! (`invalid_grant`) and its access tokens inactive.

use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use super::principal::{self, Principal};
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::oauth::grants;
use crate::roles::{
    AuthSession, AuthSessionColumns, Grant, GrantColumns, OauthClient, RefreshToken, RefreshTokenColumns, Roles,
};
use crate::security_events::{self, EventType, Origin};

type SessionModel<R> = <<R as Roles>::AuthSession as EntityTrait>::Model;
type GrantModel<R> = <<R as Roles>::Grant as EntityTrait>::Model;

/// What kind of sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A browser session (the sign-in pages, or the account API's cookie mode).
    Browser,
    /// A grant with a live refresh token: the account API's tokens or an application's.
    Tokens,
}

impl Kind {
    /// The wire name: `browser` or `tokens`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Browser => "browser",
            Kind::Tokens => "tokens",
        }
    }
}

/// One active sign-in of the user.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The session's or grant's id.
    pub id: Uuid,
    /// Browser session or tokens.
    pub kind: Kind,
    /// The application the tokens were issued to (the first-party client for the account API).
    pub client: Option<String>,
    /// When the user authenticated.
    pub auth_time: DateTime<Utc>,
    /// How (RFC 8176 `amr` values).
    pub amr: Vec<String>,
    /// When it ends unless renewed: the session's expiry, or the newest refresh token's.
    pub expires_at: DateTime<Utc>,
    /// Whether the caller is using it.
    pub current: bool,
}

impl SignIn {
    /// The JSON shape: `{id, kind, client, auth_time, amr, expires_at, current}`.
    pub fn view(&self) -> Value {
        json!({
            "id": self.id,
            "kind": self.kind.as_str(),
            "client": self.client,
            "auth_time": self.auth_time,
            "amr": self.amr,
            "expires_at": self.expires_at,
            "current": self.current,
        })
    }
}

/// `caller`'s active sign-ins, most recent authentication first.
pub async fn list<R: Roles>(ctx: &EndpointCtx<'_>, caller: &Principal) -> Result<Vec<SignIn>, ApiError> {
    let mut all = sessions::<R>(ctx, caller).await?;
    all.extend(token_sign_ins::<R>(ctx, caller).await?);
    all.sort_by(|a, b| b.auth_time.cmp(&a.auth_time).then(a.id.cmp(&b.id)));
    Ok(all)
}

async fn sessions<R: Roles>(ctx: &EndpointCtx<'_>, caller: &Principal) -> Result<Vec<SignIn>, ApiError> {
    let now = crate::now();
    let rows = crud::scoped_find::<R::AuthSession>(Some(ctx.tenant()?))
        .filter(R::AuthSession::USER_ID.eq(caller.user_id))
        .all(ctx.runtime().db())
        .await?;
    Ok(rows
        .iter()
        .filter(|row| row.expires_at() > now)
        .map(|row| SignIn {
            id: row.id(),
            kind: Kind::Browser,
            client: None,
            auth_time: row.auth_time(),
            amr: crate::mfa::amr::methods(row.amr()),
            expires_at: row.expires_at(),
            current: caller.session_id == Some(row.id()),
        })
        .collect())
}

/// Unrevoked grants of the caller with an unused, unexpired refresh token (and the caller's own
/// grant, whatever its tokens).
async fn token_sign_ins<R: Roles>(ctx: &EndpointCtx<'_>, caller: &Principal) -> Result<Vec<SignIn>, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let live = live_grants::<R>(rt.db(), tenant, caller.user_id).await?;
    let ids: Vec<Uuid> = live.iter().map(|grant| grant.id()).collect();
    let now = crate::now();
    let tokens = crud::scoped_find::<R::RefreshToken>(Some(tenant))
        .filter(R::RefreshToken::GRANT_ID.is_in(ids))
        .filter(R::RefreshToken::USED_AT.is_null())
        .all(rt.db())
        .await?;
    let mut found = Vec::new();
    for grant in &live {
        let expires = tokens
            .iter()
            .filter(|token| token.grant_id() == grant.id() && token.expires_at() > now)
            .map(|token| token.expires_at())
            .max();
        let current = caller.grant_id == Some(grant.id());
        let Some(expires_at) = expires.or(current.then_some(now)) else { continue };
        let client = rt.clients().find::<R::OauthClient>(rt, tenant, grant.client_id()).await?;
        found.push(SignIn {
            id: grant.id(),
            kind: Kind::Tokens,
            client: client.map(|client| client.name().to_owned()),
            auth_time: grant.auth_time(),
            amr: crate::mfa::amr::methods(grant.amr()),
            expires_at,
            current,
        });
    }
    Ok(found)
}

async fn live_grants<R: Roles>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
) -> Result<Vec<GrantModel<R>>, ApiError> {
    Ok(crud::scoped_find::<R::Grant>(Some(tenant))
        .filter(R::Grant::USER_ID.eq(user))
        .filter(R::Grant::REVOKED_AT.is_null())
        .all(db)
        .await?)
}

/// Ends `caller`'s sign-in `id` (a browser session with the grants made in it, or a grant),
/// recording `sign_ins.ended`; 404 when it is no live sign-in of theirs.
pub async fn end<R: Roles>(ctx: &EndpointCtx<'_>, caller: &Principal, id: Uuid) -> Result<(), ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let session: Option<SessionModel<R>> = crud::find_optional::<R::AuthSession>(rt.db(), Some(tenant), id).await?;
    let session = session.filter(|row| row.user_id() == caller.user_id);
    let grant = grants::live::<R>(rt.db(), tenant, id).await?.filter(|row| row.user_id() == caller.user_id);
    if session.is_none() && grant.is_none() {
        return Err(ApiError::not_found("sign-in"));
    }
    let tx = rt.begin_write().await?;
    if session.is_some() {
        end_session::<R>(&*tx, tenant, id).await?;
    } else {
        grants::revoke::<R>(&*tx, tenant, id).await?;
    }
    record::<R>(ctx, &*tx, caller.user_id, 1, false).await?;
    tx.commit().await
}

/// Deletes browser session `id` and revokes the grants made in it.
async fn end_session<R: Roles>(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> Result<(), ApiError> {
    let made_there = crud::scoped_find::<R::Grant>(Some(tenant)).filter(R::Grant::SESSION_ID.eq(id)).all(db).await?;
    for grant in made_there {
        grants::revoke::<R>(db, tenant, grant.id()).await?;
    }
    crud::delete_id::<R::AuthSession>(db, id).await
}

/// Ends every sign-in of `caller` but the one they are using (their browser session, or the
/// grant of their access token): in their own write transaction `db`, every other browser
/// session is deleted and every other grant revoked. How many ended.
pub async fn end_others_in<R: Roles>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    caller: &Principal,
) -> Result<u64, ApiError> {
    let mut ended = 0;
    for grant in live_grants::<R>(db, tenant, caller.user_id).await? {
        if Some(grant.id()) != caller.grant_id {
            grants::revoke::<R>(db, tenant, grant.id()).await?;
            ended += 1;
        }
    }
    let sessions = crud::scoped_find::<R::AuthSession>(Some(tenant)).filter(R::AuthSession::USER_ID.eq(caller.user_id));
    for session in sessions.all(db).await? {
        if Some(session.id()) != caller.session_id {
            crud::delete_id::<R::AuthSession>(db, session.id()).await?;
            ended += 1;
        }
    }
    Ok(ended)
}

/// Ends every other sign-in of `caller` ([`end_others_in`]), recording `sign_ins.ended`; how
/// many ended.
pub async fn end_others<R: Roles>(ctx: &EndpointCtx<'_>, caller: &Principal) -> Result<u64, ApiError> {
    let tx = ctx.runtime().begin_write().await?;
    let ended = end_others_in::<R>(&*tx, ctx.tenant()?, caller).await?;
    record::<R>(ctx, &*tx, caller.user_id, ended, true).await?;
    tx.commit().await?;
    Ok(ended)
}

/// The `sign_ins.ended` event: `{"ended": n, "others": bool}` (`others`: all but the caller's).
async fn record<R: Roles>(
    ctx: &EndpointCtx<'_>,
    db: &impl ConnectionTrait,
    user: Uuid,
    ended: u64,
    others: bool,
) -> Result<(), ApiError> {
    let data = json!({ "ended": ended, "others": others });
    security_events::record::<R>(db, ctx.tenant()?, user, EventType::SignInsEnded, &Origin::of(ctx), data).await?;
    Ok(())
}

/// `GET /auth/me/sessions`: `{"items": [sign-in]}` ([`SignIn::view`]), most recent
/// authentication first; 401 without a credential.
pub async fn list_mine<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let items: Vec<Value> = list::<R>(ctx, &caller).await?.iter().map(SignIn::view).collect();
    Ok(crate::http::respond(200, &json!({ "items": items })))
}

/// `DELETE /auth/me/sessions/{id}`: 204; 404 for what is no live sign-in of the caller.
pub async fn end_mine<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let id = crate::http::id_param(ctx.request()).map_err(|_| ApiError::not_found("sign-in"))?;
    end::<R>(ctx, &caller, id).await?;
    Ok(crate::http::respond_empty(204))
}

/// `POST /auth/me/sessions/end-others`: `{"ended": n}`, every sign-in but the caller's ended.
pub async fn end_others_mine<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let ended = end_others::<R>(ctx, &caller).await?;
    Ok(crate::http::respond(200, &json!({ "ended": ended })))
}
