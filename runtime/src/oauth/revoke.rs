//! Token revocation (RFC 7009).

use actix_web::HttpResponse;
use actix_web::http::header;
use chrono::{TimeZone, Utc};
use sea_orm::{EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::json;

use super::client_auth::Client;
use super::form::Form;
use super::grants;
use super::issuer;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::jose::verify_jwt;
use crate::roles::{NewRevokedToken, RefreshToken, RefreshTokenColumns, RevokedTokenColumns, Roles};
use crate::secret;

/// Handles `POST /revoke` for `client`, authenticated by the route; it may revoke only tokens
/// issued to it.
/// Unknown, malformed, expired or already revoked tokens are a 200 (RFC 7009 §2.2), and a
/// revoked token is inactive at introspection from the next request on.
pub async fn revoke<R: Roles>(ctx: &EndpointCtx<'_>, client: Client<R>) -> Result<HttpResponse, ApiError>
where
    <R::RevokedToken as EntityTrait>::Model: IntoActiveModel<<R::RevokedToken as EntityTrait>::ActiveModel>,
{
    let form = Form::parse(ctx)?;
    let token = form.require("token")?.to_owned();
    // `token_type_hint` only speeds up the search (§2.1); every kind is looked up regardless.
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    // §2.1: revoking a refresh token also invalidates the access tokens of the same grant.
    if let Some(row) =
        crate::crud::find_where(rt.db(), tenant, R::RefreshToken::TOKEN_DIGEST, secret::digest(&token)).await?
    {
        if row.client_id() != client.id {
            return Err(not_issued_to_caller());
        }
        let tx = rt.begin_write().await?;
        grants::revoke::<R>(&*tx, tenant, row.grant_id()).await?;
        tx.commit().await?;
        return Ok(done());
    }
    let keys = rt.keys().jwks(rt.db(), tenant).await?;
    let Ok(claims) = verify_jwt(&token, &keys.keys) else { return Ok(done()) };
    if claims["iss"] != json!(issuer(&rt.config().public_url, ctx.tenant_key()?)) {
        return Ok(done());
    }
    if claims["client_id"] != json!(client.id.to_string()) {
        // §2.1: the server verifies the token was issued to the requesting client.
        return Err(not_issued_to_caller());
    }
    let expires_at = claims["exp"].as_i64().and_then(|exp| Utc.timestamp_opt(exp, 0).single());
    if expires_at.is_some_and(|at| at <= Utc::now()) {
        return Ok(done());
    }
    let digest = secret::digest(&token);
    let tx = rt.begin_write().await?;
    let already = crate::crud::scoped_find::<R::RevokedToken>(Some(tenant))
        .filter(R::RevokedToken::TOKEN_DIGEST.eq(digest.clone()))
        .one(&*tx)
        .await?;
    if already.is_none() {
        let row = NewRevokedToken { tenant_id: tenant, token_digest: digest, expires_at }.into();
        match crate::crud::insert::<R::RevokedToken>(&*tx, row).await {
            // A concurrent revocation of the same token got there first: revoked either way.
            Err(error) if error.status() == actix_web::http::StatusCode::CONFLICT => return Ok(done()),
            other => {
                other?;
            }
        }
    }
    tx.commit().await?;
    Ok(done())
}

/// §2.1: the token was issued to another client than the one revoking it.
fn not_issued_to_caller() -> ApiError {
    ApiError::unauthorized_client("this token was not issued to the authenticated client")
}

fn done() -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).finish()
}
