//! The `refresh_token` grant (RFC 6749 §6) with rotation (OAuth 2.1 §4.3.1): each refresh token
//! works once; presenting a rotated one again revokes its whole grant, since either the client
//! or an attacker holds a stolen copy.

use actix_web::HttpResponse;
use sea_orm::EntityTrait;

use super::grants;
use super::issue::{ClientKeys, TokenResponse, UserGrant, UserTokens, user_tokens};
use super::token::Client;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{Account, RefreshToken, RefreshTokenColumns, Roles};
use crate::secret;
use crate::state::Runtime;

/// Exchanges a refresh token for new tokens and a new refresh token. The token's row carries the
/// grant's terms and is marked used when the grant is revoked, so this reads one row.
pub async fn rotate<R: Roles>(
    ctx: &EndpointCtx<'_>,
    client: &Client<R>,
    raw: &str,
    requested_scope: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let invalid = |why: &str| Err(ApiError::invalid_grant(why));
    let Some(token) = crud::find_where(rt.db(), tenant, R::RefreshToken::TOKEN_DIGEST, secret::digest(raw)).await?
    else {
        return invalid("the refresh token is invalid");
    };
    if token.client_id() != client.id {
        return invalid("the refresh token was issued to another client");
    }
    if token.used_at().is_some() {
        let tx = rt.begin_write().await?;
        grants::revoke::<R>(&*tx, tenant, token.grant_id()).await?;
        tx.commit().await?;
        return invalid("the refresh token was already used, or its grant revoked; the grant is revoked");
    }
    if token.expires_at() <= crate::now() {
        return invalid("the refresh token has expired");
    }
    // RFC 6749 §6: a narrower scope may be asked for, never a wider one; §3.3's rule applies, so
    // scopes the grant lacks are left out (and the response's `scope` says so).
    let scope = super::token::granted_scope(token.scope().split(' '), requested_scope)?.unwrap_or_default();
    let Some(account) = rt.accounts().find::<R::Account>(rt, tenant, token.user_id()).await?.filter(|u| u.is_active())
    else {
        return invalid("the user is no longer active");
    };
    let settings = crate::tenancy::settings::<R>(rt, tenant).await?;
    let keys = ClientKeys::of(ctx, &client.model, &settings).await?;
    let membership = crate::account::user_roles::of::<R>(rt, tenant, &account).await?;
    let amr = crate::mfa::amr::methods(token.amr());
    let user_grant = UserGrant {
        grant_id: token.grant_id(),
        user_id: token.user_id(),
        client_id: client.id,
        scope: &scope,
        granted_scope: token.scope(),
        auth_time: token.auth_time(),
        session_id: token.session_id(),
        amr: &amr,
        nonce: None,
        membership: &membership,
    };
    let tokens = user_tokens::<R>(ctx, &client.model, &keys, &settings, &user_grant)?;
    let Some(response) = replace::<R>(rt, &token, tokens).await? else {
        // Used concurrently (treat it as the reuse it is), or its grant revoked meanwhile
        // (revoking again changes nothing).
        let tx = rt.begin_write().await?;
        grants::revoke::<R>(&*tx, tenant, token.grant_id()).await?;
        tx.commit().await?;
        return invalid("the refresh token was already used, or its grant revoked; the grant is revoked");
    };
    Ok(response.respond())
}

/// Claims `token` while its grant is live and stores its successor, in one write of their own
/// ([`grants::claim_and_replace`], a single round trip after the lookup on either backend): the
/// response, or `None` if the token was used meanwhile or its grant revoked. A concurrent
/// revocation (a reuse of this token, a logout) either came first, and nothing is claimed, or
/// waits for the claim's commit and then retires the successor too; of two concurrent refreshes
/// exactly one claims the token.
async fn replace<R: Roles>(
    rt: &Runtime,
    token: &<R::RefreshToken as EntityTrait>::Model,
    mut tokens: UserTokens<R>,
) -> Result<Option<TokenResponse>, ApiError> {
    let Some(successor) = tokens.refresh_row.take() else {
        return Err(ApiError::internal("a rotation issued no refresh token"));
    };
    let replaced = grants::claim_and_replace::<R>(rt, token.id(), token.grant_id(), successor).await?;
    Ok(replaced.then_some(tokens.response))
}
