//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3.1: `client_secret_basic` and `client_secret_post`).

use actix_web::http::header;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use uuid::Uuid;

use super::OAuthError;
use super::form::Form;
use crate::crud;
use crate::endpoint::EndpointCtx;
use crate::roles::{OauthClient, Roles};
use crate::secret;

/// A client that proved who it is.
pub struct AuthenticatedClient<M> {
    /// Its `client_id`.
    pub id: Uuid,
    /// The stored client.
    pub model: M,
}

/// Which clients an endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// Confidential clients only (introspection).
    Confidential,
    /// Public clients too, identified by `client_id` alone (token endpoint, revocation).
    Public,
}

/// Authenticates the calling client. Every failure is `invalid_client` with the same message, so
/// responses do not reveal which client ids exist; the digest is computed either way.
pub async fn authenticate<R: Roles>(
    ctx: &EndpointCtx<'_>,
    form: &Form,
    accept: Accept,
) -> Result<AuthenticatedClient<<R::OauthClient as sea_orm::EntityTrait>::Model>, OAuthError> {
    let (client_id, secret) = credentials(ctx, form)?;
    let failed = || OAuthError::invalid_client("client authentication failed");
    let tenant = ctx.tenant().map_err(|_| failed())?;
    let id: Option<Uuid> = client_id.parse().ok();
    let model = match id {
        Some(id) => crud::find::<R::OauthClient>(ctx.runtime().db(), Some(tenant), id).await.ok(),
        None => None,
    };
    let authenticated = match (&secret, &model) {
        (Some(secret), _) => {
            let stored = model.as_ref().map(|m| m.client_secret_hash().to_owned()).unwrap_or_else(|| "0".repeat(64));
            secret::digest_matches(secret, &stored)
        }
        // RFC 7591 §2 `none`: a public client proves nothing; it is only identified, and the
        // grants it may use (a PKCE-bound code, its refresh token) carry the proof instead.
        (None, Some(model)) => accept == Accept::Public && model.token_endpoint_auth_method() == "none",
        (None, None) => false,
    };
    match (id, model) {
        (Some(id), Some(model)) if authenticated && model.is_active() => Ok(AuthenticatedClient { id, model }),
        _ => Err(failed()),
    }
}

/// `(client_id, client_secret)` from exactly one of Basic or the form (RFC 6749 §2.3.1: "MUST
/// NOT use more than one authentication method in each request"); no secret for a public client.
fn credentials(ctx: &EndpointCtx<'_>, form: &Form) -> Result<(String, Option<String>), OAuthError> {
    let header = ctx.request().headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let posted = (form.get("client_id"), form.get("client_secret"));
    match (header, posted) {
        (Some(_), (_, Some(_))) => Err(OAuthError::invalid_request("use one client authentication method, not two")),
        (Some(value), _) => {
            let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")).ok_or_else(|| {
                OAuthError::invalid_client("only Basic client authentication is accepted in the header")
            })?;
            let decoded = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            let (id, secret) =
                decoded.split_once(':').ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
            let unescape = |s: &str| {
                form_urlencoded::parse(format!("v={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            if let Some(form_id) = form.get("client_id")
                && form_id != unescape(id)
            {
                return Err(OAuthError::invalid_request("`client_id` does not match the authenticated client"));
            }
            Ok((unescape(id), Some(unescape(secret))))
        }
        (None, (Some(id), secret)) => Ok((id.to_owned(), secret.map(str::to_owned))),
        (None, (None, _)) => Err(OAuthError::invalid_client("client authentication is required")),
    }
}
