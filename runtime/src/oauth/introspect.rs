//! Token introspection (RFC 7662), for authenticated clients of the same tenant.

use actix_web::HttpResponse;
use actix_web::http::header;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::str::FromStr;

use super::client_auth::authenticate;
use super::form::Form;
use super::issuer;
use crate::endpoint::EndpointCtx;
use crate::error::ApiError;
use crate::jose::verify_jwt;
use crate::roles::Roles;
use crate::secret;

/// Handles `POST /introspect`. Any token this tenant did not issue, or that is expired,
/// revoked or malformed, is `{"active": false}` (RFC 7662 §2.2), never an error.
pub async fn introspect<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let form = match Form::parse(ctx) {
        Ok(form) => form,
        Err(error) => return Ok(error.response()),
    };
    if let Err(error) = authenticate::<R>(ctx, &form).await {
        return Ok(error.response());
    }
    let token = match form.require("token") {
        Ok(token) => token,
        Err(error) => return Ok(error.response()),
    };
    let claims = active_claims::<R>(ctx, token).await?;
    let body = match claims {
        Some(mut claims) => {
            claims["active"] = json!(true);
            claims["token_type"] = json!("Bearer");
            claims
        }
        None => json!({ "active": false }),
    };
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body))
}

/// The claims of `token` if this tenant issued it and it is still valid.
async fn active_claims<R: Roles>(ctx: &EndpointCtx<'_>, token: &str) -> Result<Option<Value>, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let keys = rt.keys().jwks(rt.db(), tenant).await?;
    let Ok(claims) = verify_jwt(token, &keys.keys) else { return Ok(None) };
    let expected_issuer = issuer(&rt.config().public_url, ctx.tenant_key()?);
    let now = crate::now().timestamp();
    let valid = claims["iss"] == json!(expected_issuer) && claims["exp"].as_i64().is_some_and(|exp| exp > now);
    if !valid {
        return Ok(None);
    }
    let digest_column = <R::RevokedToken as EntityTrait>::Column::from_str("token_digest")
        .map_err(|_| ApiError::internal("the revoked-token role has no `token_digest` column"))?;
    let revoked = crate::crud::scoped_find::<R::RevokedToken>(Some(tenant))
        .filter(digest_column.eq(secret::digest(token)))
        .one(rt.db())
        .await?
        .is_some();
    Ok((!revoked).then_some(claims))
}
