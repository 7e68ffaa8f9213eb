//! The `authorization_code` grant (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3, RFC 7636 §4.6).

use actix_web::HttpResponse;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{DbBackend, EntityTrait};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::form::Form;
use super::grants;
use super::issue::{ClientKeys, UserGrant, user_tokens};
use super::token::Client;
use crate::chain::Chain;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{Account, AuthCode, AuthCodeColumns, NewGrant, Roles};
use crate::secret;
use crate::state::Runtime;

/// Redeems a code once. A second redemption is refused and revokes the grant the first one
/// created, with every token issued from it (RFC 6749 §4.1.2, OAuth 2.1 §4.1.2).
pub async fn redeem<R: Roles>(
    ctx: &EndpointCtx<'_>,
    form: &Form,
    client: &Client<R>,
) -> Result<HttpResponse, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let raw = form.require("code")?;
    let invalid = |why: &str| Err(ApiError::invalid_grant(why));
    let Some(code) = crud::find_where(rt.db(), tenant, R::AuthCode::CODE_DIGEST, secret::digest(raw)).await? else {
        return invalid("the authorization code is invalid");
    };
    if code.client_id() != client.id {
        return invalid("the authorization code was issued to another client");
    }
    if let Some(grant) = code.grant_id().filter(|_| code.used_at().is_some()) {
        let tx = rt.begin_write().await?;
        grants::revoke::<R>(&*tx, tenant, grant).await?;
        tx.commit().await?;
        return invalid("the authorization code was already used; the tokens issued for it are revoked");
    }
    if code.used_at().is_some() {
        return invalid("the authorization code was already used");
    }
    if code.expires_at() <= crate::now() {
        return invalid("the authorization code has expired");
    }
    // OAuth 2.1 §4.1.3: required if the authorization request carried it, and then identical.
    // Sent without having been required, it must still name where the code went.
    match form.get("redirect_uri") {
        None if code.redirect_uri_sent() => {
            return Err(ApiError::invalid_request("redirect_uri is required: the authorization request carried it"));
        }
        Some(redirect_uri) if redirect_uri != code.redirect_uri() => {
            return invalid("redirect_uri differs from the authorization request's");
        }
        _ => {}
    }
    // RFC 7636 §4.6; OAuth 2.1 §4.1.3: a verifier without a challenge is refused too (no
    // downgrade by stripping the challenge from the authorization request).
    match (code.code_challenge(), form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            if !is_verifier(verifier) {
                return invalid("code_verifier must be 43 to 128 unreserved characters");
            }
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                return invalid("code_verifier does not match the code challenge");
            }
        }
        (Some(_), None) => return invalid("code_verifier is required"),
        (None, Some(_)) => return invalid("the authorization request carried no code challenge"),
        (None, None) => {}
    }
    let settings = crate::tenancy::settings::<R>(rt, tenant).await?;
    let keys = ClientKeys::of(ctx, &client.model, &settings).await?;
    let Some(account) = rt.accounts().find::<R::Account>(rt, tenant, code.user_id()).await?.filter(|a| a.is_active())
    else {
        return invalid("the user is no longer active");
    };
    let grant_id = <R::Grant as crate::crud::Resource>::new_key();
    let membership = crate::account::user_roles::of::<R>(rt, tenant, &account).await?;
    let amr = crate::mfa::amr::methods(code.amr());
    let grant = UserGrant {
        grant_id,
        user_id: code.user_id(),
        client_id: client.id,
        scope: code.scope(),
        granted_scope: code.scope(),
        auth_time: code.auth_time(),
        session_id: code.session_id(),
        amr: &amr,
        nonce: code.nonce(),
        membership: &membership,
    };
    let tokens = user_tokens::<R>(ctx, &client.model, &keys, &settings, &grant)?;
    let grant = NewGrant {
        tenant_id: tenant,
        id: grant_id,
        user_id: code.user_id(),
        client_id: client.id,
        scope: code.scope().to_owned(),
        auth_time: code.auth_time(),
        amr: code.amr().cloned(),
        session_id: code.session_id(),
    };
    if !claim::<R>(rt, code.id(), grant, tokens.refresh_row).await? {
        // Redeemed concurrently by another request: this one is a replay like any other, and
        // stored nothing; the winner's grant is revoked (RFC 6749 §4.1.2). The winner has
        // committed by now (PostgreSQL: the claim waited for its row lock; SQLite: the writer
        // runs one write at a time, and ours committed after it), so the code names its grant.
        if let Some(winner) = crud::find_optional::<R::AuthCode>(rt.db(), Some(tenant), code.id()).await?
            && let Some(grant) = winner.grant_id()
        {
            let tx = rt.begin_write().await?;
            grants::revoke::<R>(&*tx, tenant, grant).await?;
            tx.commit().await?;
        }
        return invalid("the authorization code was already used; the tokens issued for it are revoked");
    }
    Ok(tokens.response.respond())
}

/// Claims the code `code` for the new grant `grant` (sets its `used_at` and `grant_id`) if it is
/// unused, and stores the grant and the refresh token `refresh`, as one write of their own
/// ([`Chain`], one round trip): all of it, or nothing. Whether it did: of two concurrent
/// redemptions exactly one does.
///
/// The code refers to the grant. PostgreSQL checks foreign keys when the statement ends, so the
/// claim comes first and the grant is inserted only if it claimed. SQLite checks them statement
/// by statement, so the grant comes first, inserted only if the code is still unused; the claim
/// that follows finds it so, since the writer runs one write at a time.
async fn claim<R: Roles>(
    rt: &Runtime,
    code: Uuid,
    grant: NewGrant,
    refresh: Option<<R::RefreshToken as EntityTrait>::ActiveModel>,
) -> Result<bool, ApiError> {
    let now = crate::now();
    let claimed =
        [R::AuthCode::USED_AT.set(now), R::AuthCode::GRANT_ID.set(grant.id), R::AuthCode::UPDATED_AT.set(now)];
    let claim = crud::claim_statement(code, R::AuthCode::USED_AT, claimed);
    let backend = rt.db().get_database_backend();
    let chain = Chain::new::<R::Grant>(backend);
    let chain = match backend {
        DbBackend::Postgres => chain.update::<R::AuthCode>(claim).insert::<R::Grant>(grant, None)?,
        _ => chain
            .insert::<R::Grant>(grant, Some(crud::unclaimed(code, R::AuthCode::USED_AT)))?
            .update::<R::AuthCode>(claim),
    };
    let chain = match refresh {
        Some(row) => chain.insert::<R::RefreshToken>(row, None)?,
        None => chain,
    };
    Ok(rt.execute_write(chain.write()?).await? == 1)
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`.
fn is_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}
