//! The UserInfo endpoint (OIDC Core §5.3), with bearer tokens per RFC 6750.

use actix_web::HttpResponse;
use actix_web::http::{Method, StatusCode, header};
use serde_json::{Map, json};
use uuid::Uuid;

use crate::authorization::Authorization;
use crate::endpoint::EndpointCtx;
use crate::error::ApiError;
use crate::oauth::access_token;
use crate::oauth::form::Form;
use crate::roles::{Account, Roles};

/// Handles `GET` and `POST /userinfo`: the signed-in user's claims, by the token's scopes.
pub async fn userinfo<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let token = match bearer_token(ctx) {
        Ok(token) => token,
        Err((status, error)) => return Ok(challenge(status, error)),
    };
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let Some(claims) = access_token::verify::<R>(ctx, rt.db(), &token).await? else {
        return Ok(challenge(
            StatusCode::UNAUTHORIZED,
            Some(("invalid_token", "the access token is invalid, expired or revoked")),
        ));
    };
    let scopes: Vec<&str> = claims["scope"].as_str().unwrap_or("").split(' ').collect();
    // §5.3.1: UserInfo is for tokens of a user who granted `openid`; a client's own token has
    // no user.
    if !scopes.contains(&"openid") || claims.get(access_token::GRANT_CLAIM).is_none() {
        return Ok(challenge(
            StatusCode::FORBIDDEN,
            Some(("insufficient_scope", "the access token was not granted `openid`")),
        ));
    }
    let user = claims["sub"].as_str().and_then(|s| s.parse::<Uuid>().ok());
    let account = match user {
        Some(user) => rt.accounts().find::<R::Account>(rt, tenant, user).await?.filter(|a| a.is_active()),
        None => None,
    };
    let Some(account) = account else {
        return Ok(challenge(StatusCode::UNAUTHORIZED, Some(("invalid_token", "the user no longer exists"))));
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

/// Why a request carries no usable bearer token: the status and RFC 6750 §3.1 error.
type Refusal = (StatusCode, Option<(&'static str, &'static str)>);

/// RFC 6750 §2.1 (header) or, for POST, §2.2 (form body); exactly one of them.
fn bearer_token(ctx: &EndpointCtx<'_>) -> Result<String, Refusal> {
    let from_header = match Authorization::of(ctx.request()) {
        Ok(None) => None,
        Ok(Some(Authorization::Bearer(token))) => Some(Ok(token)),
        Ok(Some(_)) | Err(_) => Some(Err(())),
    };
    let from_body = if ctx.request().method() == Method::POST && !ctx.body().is_empty() {
        let form = Form::parse(ctx)
            .map_err(|_| (StatusCode::BAD_REQUEST, Some(("invalid_request", "the body is not form-encoded"))))?;
        form.get("access_token").map(str::to_owned)
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => {
            // §2: "MUST NOT use more than one method to transmit the token in each request".
            Err((StatusCode::BAD_REQUEST, Some(("invalid_request", "send the token once, not twice"))))
        }
        (Some(Ok(token)), None) => Ok(token),
        (Some(_), None) => Err((StatusCode::BAD_REQUEST, Some(("invalid_request", "use the Bearer scheme")))),
        (None, Some(token)) => Ok(token),
        // §3.1: a request without credentials gets a bare challenge.
        (None, None) => Err((StatusCode::UNAUTHORIZED, None)),
    }
}

/// An RFC 6750 §3 error: `WWW-Authenticate: Bearer` with the error code, and the same as JSON
/// (written by the bearer family, like every other refusal of this endpoint).
fn challenge(status: StatusCode, error: Option<(&str, &str)>) -> HttpResponse {
    crate::family::bearer_challenge(status, error)
}
