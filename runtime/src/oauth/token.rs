//! The token endpoint (RFC 6749 §3.2): client authentication, then the grant. Access tokens are
//! JWTs per RFC 9068, verifiable offline with the tenant's JWKS.

use actix_web::HttpResponse;

pub use super::client_auth::Client;
use super::form::Form;
use super::issue::{AccessToken, access_token_algorithm, client_token};
use super::{issuer, scope};
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{OauthClient, Roles};
use crate::vocab::GrantType;

/// Handles `POST /token` for `client`, authenticated by the route: the tokens, or an RFC 6749
/// §5.2 error the OAuth family writes.
pub async fn token<R: Roles>(ctx: &EndpointCtx<'_>, client: Client<R>) -> Result<HttpResponse, ApiError> {
    let form = Form::parse(ctx)?;
    let grant_type = form.require("grant_type")?;
    let Some(grant) = GrantType::from_wire(grant_type) else {
        return Err(ApiError::unsupported_grant_type(format!("grant type `{grant_type}` is not supported")));
    };
    if !grant.is_in(&client.model.grant_types().0) {
        return Err(ApiError::unauthorized_client(format!("this client may not use the {grant} grant")));
    }
    match grant {
        GrantType::AuthorizationCode => super::code::redeem::<R>(ctx, &form, &client).await,
        GrantType::RefreshToken => {
            super::refresh::rotate::<R>(ctx, &client, form.require("refresh_token")?, form.get("scope")).await
        }
        GrantType::ClientCredentials => client_credentials::<R>(ctx, &form, &client).await,
    }
}

/// RFC 6749 §4.4: a confidential client gets a token for itself.
async fn client_credentials<R: Roles>(
    ctx: &EndpointCtx<'_>,
    form: &Form,
    client: &Client<R>,
) -> Result<HttpResponse, ApiError> {
    if client.model.token_endpoint_auth_method().is_public() {
        // §4.4: "MUST only be used by confidential clients".
        return Err(ApiError::unauthorized_client("public clients may not use the client_credentials grant"));
    }
    let scope = granted_scope(client.model.scopes().0.iter().map(String::as_str), form.get("scope"))?;
    let rt = ctx.runtime();
    let issuer = issuer(&rt.config().public_url, ctx.tenant_key()?);
    // RFC 8707 §2: the resource the token is for, an absolute URI (RFC 3986 §4.3, so a URN is
    // one) without a fragment; without one, the tenant's own issuer.
    let audience = match form.get("resource").map(|resource| (resource, crate::uri::absolute_uri(resource))) {
        Some((resource, Ok(_))) => resource.to_owned(),
        Some((resource, Err(error))) => {
            return Err(ApiError::invalid_target(format!("`resource` `{resource}` {error}")));
        }
        None => issuer.clone(),
    };
    let settings = crate::tenancy::settings::<R>(rt, ctx.tenant()?).await?;
    let algorithm = access_token_algorithm(&client.model, &settings);
    let key = rt.keys().active(rt.db(), ctx.tenant()?, algorithm).await?;
    let (access_token, expires_in) = AccessToken {
        issuer: &issuer,
        subject: client.id,
        client_id: client.id,
        audience: &audience,
        scope: scope.as_deref(),
        lifetime: settings.access_token_lifetime,
        extra: &[],
    }
    .sign(&key)?;
    Ok(client_token(access_token, expires_in, scope).respond())
}

/// The `scope` a token request is granted out of `held` (the client's scopes, or on refresh the
/// grant's), by [`scope::grant`]'s rule (RFC 6749 §3.3): the requested scopes held, or all held
/// when none is requested; `None` when that is nothing. `invalid_scope` when `requested` does not
/// parse or names nothing held.
pub fn granted_scope<'a>(
    held: impl IntoIterator<Item = &'a str>,
    requested: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let granted = scope::grant(requested, held).map_err(ApiError::invalid_scope)?;
    Ok((!granted.is_empty()).then(|| granted.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_limited_to_what_the_client_may_have() {
        let allowed = ["read", "write"];
        assert_eq!(granted_scope(allowed, None).unwrap().as_deref(), Some("read write"));
        assert_eq!(granted_scope(allowed, Some("read read")).unwrap().as_deref(), Some("read"));
        assert_eq!(granted_scope(allowed, Some("read admin")).unwrap().as_deref(), Some("read"));
        assert_eq!(granted_scope(allowed, Some("admin")).unwrap_err().code(), Some("invalid_scope"));
        assert_eq!(granted_scope([], None).unwrap(), None);
    }
}
