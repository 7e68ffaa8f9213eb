//! Token introspection (RFC 7662), for authenticated clients of the same tenant.

use actix_web::HttpResponse;
use actix_web::http::header;
use serde_json::{Value, json};
use uuid::Uuid;

use super::client_auth::Client;
use super::form::Form;
use super::{access_token, issuer};
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{RefreshToken, RefreshTokenColumns, Roles};
use crate::secret;

/// Handles `POST /introspect`. Any token this tenant did not issue, or that is expired,
/// revoked or malformed, is `{"active": false}` (RFC 7662 §2.2), never an error.
/// `client` was authenticated by the route; a public client, which proved nothing, is refused
/// like a failed authentication.
pub async fn introspect<R: Roles>(ctx: &EndpointCtx<'_>, client: Client<R>) -> Result<HttpResponse, ApiError> {
    if client.public {
        return Err(ApiError::invalid_client("client authentication failed"));
    }
    let form = Form::parse(ctx)?;
    let token = form.require("token")?;
    // `token_type_hint` only orders the search (§2.1); both kinds are looked up regardless.
    let db = ctx.runtime().db();
    let claims = match access_token::verify::<R>(ctx, db, token).await? {
        Some(mut claims) => {
            claims["token_type"] = json!("Bearer");
            Some(claims)
        }
        None => refresh_token_claims::<R>(ctx, token, client.id).await?,
    };
    let body = match claims {
        Some(mut claims) => {
            claims["active"] = json!(true);
            claims
        }
        None => json!({ "active": false }),
    };
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body))
}

/// A live refresh token's claims, shown only to the client it was issued to.
async fn refresh_token_claims<R: Roles>(
    ctx: &EndpointCtx<'_>,
    token: &str,
    caller: Uuid,
) -> Result<Option<Value>, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let Some(row) = crud::find_where(rt.db(), tenant, R::RefreshToken::TOKEN_DIGEST, secret::digest(token)).await?
    else {
        return Ok(None);
    };
    // Revoking a grant marks its refresh tokens used, so `used_at` covers revocation too.
    if row.used_at().is_some() || row.expires_at() <= crate::now() || row.client_id() != caller {
        return Ok(None);
    }
    Ok(Some(json!({
        "token_type": "refresh_token",
        "iss": issuer(&rt.config().public_url, ctx.tenant_key()?),
        "sub": row.user_id().to_string(),
        "client_id": row.client_id().to_string(),
        "scope": row.scope(),
        "exp": row.expires_at().timestamp(),
    })))
}
