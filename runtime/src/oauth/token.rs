//! The token endpoint (RFC 6749 §3.2) and the grants it serves. Access tokens are JWTs per
//! RFC 9068, verifiable offline with the tenant's JWKS.

use actix_web::HttpResponse;
use actix_web::http::header;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::client_auth::authenticate;
use super::form::Form;
use super::{OAuthError, issuer};
use crate::endpoint::EndpointCtx;
use crate::error::ApiError;
use crate::jose::{Algorithm, sign_jwt};
use crate::keys::DEFAULT_ALGORITHM;
use crate::roles::{OauthClient, Roles};

/// RFC 6749 §5.1 successful response.
#[derive(Debug, Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

/// Handles `POST /token`.
pub async fn token<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    Ok(match grant::<R>(ctx).await? {
        Ok(response) => response,
        Err(error) => error.response(),
    })
}

async fn grant<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<Result<HttpResponse, OAuthError>, ApiError> {
    let form = match Form::parse(ctx) {
        Ok(form) => form,
        Err(error) => return Ok(Err(error)),
    };
    let grant_type = match form.require("grant_type") {
        Ok(grant_type) => grant_type,
        Err(error) => return Ok(Err(error)),
    };
    match grant_type {
        "client_credentials" => client_credentials::<R>(ctx, &form).await,
        other => Ok(Err(OAuthError::unsupported_grant_type(format!("grant type `{other}` is not supported")))),
    }
}

/// RFC 6749 §4.4: a confidential client gets a token for itself.
async fn client_credentials<R: Roles>(
    ctx: &EndpointCtx<'_>,
    form: &Form,
) -> Result<Result<HttpResponse, OAuthError>, ApiError> {
    let client = match authenticate::<R>(ctx, form).await {
        Ok(client) => client,
        Err(error) => return Ok(Err(error)),
    };
    if !client.model.grant_types().0.iter().any(|g| g == "client_credentials") {
        return Ok(Err(OAuthError::unauthorized_client("this client may not use the client_credentials grant")));
    }
    let scope = match granted_scope(client.model.scopes().0.as_slice(), form.get("scope")) {
        Ok(scope) => scope,
        Err(error) => return Ok(Err(error)),
    };
    let rt = ctx.runtime();
    let issuer = issuer(&rt.config().public_url, ctx.tenant_key()?);
    // RFC 8707: the resource the token is for; without one, the tenant's own issuer.
    let audience = match form.get("resource") {
        Some(resource) if is_absolute_uri_without_fragment(resource) => resource.to_owned(),
        Some(_) => return Ok(Err(OAuthError::invalid_target("`resource` must be an absolute URI without a fragment"))),
        None => issuer.clone(),
    };
    let algorithm =
        client.model.access_token_signed_response_alg().and_then(Algorithm::from_name).unwrap_or(DEFAULT_ALGORITHM);
    let key = rt.keys().active(rt.db(), ctx.tenant()?, algorithm).await?;
    let now = crate::now().timestamp();
    let lifetime = rt.config().access_token_lifetime.num_seconds();
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti; scope when granted.
    let mut claims = json!({
        "iss": issuer,
        "sub": client.id.to_string(),
        "aud": audience,
        "client_id": client.id.to_string(),
        "iat": now,
        "exp": now + lifetime,
        "jti": Uuid::new_v4().to_string(),
    });
    if let Some(scope) = &scope {
        claims["scope"] = json!(scope);
    }
    let access_token = sign_jwt(&key, "at+jwt", &claims).map_err(ApiError::internal)?;
    let body = TokenResponse { access_token, token_type: "Bearer", expires_in: lifetime, scope };
    Ok(Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)))
}

/// RFC 6749 §3.3: the requested scopes must all be allowed; none requested means all allowed.
fn granted_scope(allowed: &[String], requested: Option<&str>) -> Result<Option<String>, OAuthError> {
    let granted: Vec<&str> = match requested {
        None => allowed.iter().map(String::as_str).collect(),
        Some(requested) => {
            let scopes: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
            if let Some(refused) = scopes.iter().find(|s| !allowed.iter().any(|a| a == *s)) {
                return Err(OAuthError::invalid_scope(format!("scope `{refused}` is not allowed for this client")));
            }
            scopes
        }
    };
    Ok((!granted.is_empty()).then(|| granted.join(" ")))
}

fn is_absolute_uri_without_fragment(value: &str) -> bool {
    value.split_once("://").is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !rest.is_empty()
    }) && !value.contains('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_limited_to_what_the_client_may_have() {
        let allowed = vec!["read".to_owned(), "write".to_owned()];
        assert_eq!(granted_scope(&allowed, None).unwrap().as_deref(), Some("read write"));
        assert_eq!(granted_scope(&allowed, Some("read")).unwrap().as_deref(), Some("read"));
        assert_eq!(granted_scope(&allowed, Some("read admin")).unwrap_err().code, "invalid_scope");
        assert_eq!(granted_scope(&[], None).unwrap(), None);
    }
}
