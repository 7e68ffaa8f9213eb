//! Passkeys in the browser: the sign-in page's "Sign in with a passkey" form post (its script
//! fills in the assertion, from the button or from the username field's autofill). The account
//! page ([`super::account`]) adds passkeys with the same script, which calls the account API
//! with the session cookie and the CSRF token.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use webauthn_rs::prelude::PublicKeyCredential;

use super::login::{checked_form, finish_sign_in};
use super::session;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::mfa::passkey_api;
use crate::oauth::authorize;
use crate::roles::Roles;

/// `POST /login/passkey` (form: `csrf`, `request`, `ceremony`, `credential` as JSON): checks a
/// passwordless assertion ([`passkey_api::verify_sign_in`]), starts a session with its `amr`
/// and continues the authorization request. A refused assertion shows the sign-in page again
/// with why (401, or 403 when the tenant does not allow it).
pub async fn sign_in<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let (form, loaded) = checked_form::<R>(ctx).await?;
    let credential: Option<PublicKeyCredential> =
        form.get("credential").and_then(|json| serde_json::from_str(json).ok());
    let verdict = match credential {
        Some(credential) => {
            passkey_api::verify_sign_in::<R>(ctx, form.get("ceremony").unwrap_or(""), &credential).await
        }
        None => Err(ApiError::bad_request("the passkey's answer could not be read")),
    };
    let (account, amr) = match verdict {
        Ok(signed_in) => signed_in,
        Err(error) if error.status().is_client_error() => {
            let message = format!("The passkey did not sign you in: {}.", error.detail());
            let status =
                if error.status() == StatusCode::FORBIDDEN { error.status() } else { StatusCode::UNAUTHORIZED };
            return authorize::login_page::<R>(ctx, &loaded, None, Some(message), status).await;
        }
        Err(error) => return Err(error),
    };
    let replaced = session::current::<R>(ctx).await?.map(|current| current.id);
    finish_sign_in::<R>(ctx, &loaded, &account, amr, replaced).await
}
