//! The UserInfo endpoint (OIDC Core §5.3), with bearer tokens per RFC 6750.

use actix_web::HttpResponse;
use actix_web::http::{Method, header};
use serde_json::{Map, json};
use uuid::Uuid;

use crate::authorization::Authorization;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::oauth::access_token;
use crate::oauth::form::Form;
use crate::roles::{Account, Roles};

/// Handles `GET` and `POST /userinfo`: the signed-in user's claims, by the token's scopes.
/// Refusals are RFC 6750 §3.1 errors, which the bearer family writes as challenges.
pub async fn userinfo<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let token = bearer_token(ctx)?;
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let Some(claims) = access_token::verify::<R>(ctx, rt.db(), &token).await? else {
        return Err(ApiError::invalid_token("the access token is invalid, expired or revoked"));
    };
    let scopes: Vec<&str> = claims["scope"].as_str().unwrap_or("").split(' ').collect();
    // §5.3.1: UserInfo is for tokens of a user who granted `openid`; a client's own token has
    // no user.
    if !scopes.contains(&"openid") || claims.get(access_token::GRANT_CLAIM).is_none() {
        return Err(ApiError::insufficient_scope("the access token was not granted `openid`"));
    }
    let user = claims["sub"].as_str().and_then(|s| s.parse::<Uuid>().ok());
    let account = match user {
        Some(user) => rt.accounts().find::<R::Account>(rt, tenant, user).await?.filter(|a| a.is_active()),
        None => None,
    };
    let Some(account) = account else {
        return Err(ApiError::invalid_token("the user no longer exists"));
    };
    let mut body = Map::new();
    body.insert("sub".into(), json!(account.id().to_string()));
    // §5.4: `profile` and `email` scopes request these claims.
    if scopes.contains(&"profile") {
        body.insert("preferred_username".into(), json!(account.username()));
        if let Some(name) = account.name() {
            body.insert("name".into(), json!(name));
        }
        body.insert("updated_at".into(), json!(account.updated_at().timestamp()));
    }
    if scopes.contains(&"email") {
        body.insert("email".into(), json!(account.email()));
        body.insert("email_verified".into(), json!(account.email_verified()));
    }
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body))
}

/// RFC 6750 §2.1 (header) or, for POST, §2.2 (form body); exactly one of them. No token at
/// all is [`ApiError::credentials_required`] (§3.1: a bare challenge).
fn bearer_token(ctx: &EndpointCtx<'_>) -> Result<String, ApiError> {
    let from_header = match Authorization::of(ctx.request()) {
        Ok(None) => None,
        Ok(Some(Authorization::Bearer(token))) => Some(Ok(token)),
        Ok(Some(_)) | Err(_) => Some(Err(())),
    };
    let from_body = if ctx.request().method() == Method::POST && !ctx.body().is_empty() {
        let form = Form::parse(ctx).map_err(|_| ApiError::invalid_request("the body is not form-encoded"))?;
        form.get("access_token").map(str::to_owned)
    } else {
        None
    };
    match (from_header, from_body) {
        // §2: "MUST NOT use more than one method to transmit the token in each request".
        (Some(_), Some(_)) => Err(ApiError::invalid_request("send the token once, not twice")),
        (Some(Ok(token)), None) => Ok(token),
        (Some(_), None) => Err(ApiError::invalid_request("use the Bearer scheme")),
        (None, Some(token)) => Ok(token),
        (None, None) => Err(ApiError::credentials_required("send an access token", CHALLENGE)),
    }
}

/// The challenge of a request without a token (RFC 6750 §3).
const CHALLENGE: &str = "Bearer realm=\"keygate\"";
