//! Passkeys in the browser: the sign-in page's "Sign in with a passkey" form post (its script
//! fills in the assertion) and the account page (`/{tenant}/account`), where a signed-in user
//! lists, adds and removes passkeys; the page's script calls the account API with the session
//! cookie and the CSRF token.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use webauthn_rs::prelude::PublicKeyCredential;

use super::login::{checked_form, finish_sign_in};
use super::pages::{self, AccountPage, PasskeyView};
use super::{csrf, session};
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::mfa::{factors, passkey_api};
use crate::oauth::authorize;
use crate::roles::{Account, MfaFactor, Roles};
use crate::vocab::FactorKind;

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

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `GET /account`: the account page of the browser session's user, listing their passkeys with
/// the controls to add and remove them; without a session, a page saying to sign in (401).
pub async fn page<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let tenant_key = ctx.tenant_key()?;
    let Some(session) = session::current::<R>(ctx).await? else {
        let message = "Sign in to an application of this site first; then come back to this page.";
        return pages::message(tenant_key, StatusCode::UNAUTHORIZED, "You are not signed in", message);
    };
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let Some(account) = rt.accounts().find::<R::Account>(rt, tenant, session.user_id).await?.filter(|a| a.is_active())
    else {
        return pages::message(tenant_key, StatusCode::UNAUTHORIZED, "You are not signed in", "Sign in again.");
    };
    let url = |endpoint: &str| rt.endpoint_url(endpoint, tenant_key).unwrap_or_default();
    let passkeys = factors::of_user::<R>(rt.db(), tenant, account.id())
        .await?
        .iter()
        .filter(|f| f.kind() == FactorKind::Passkey)
        .map(|f| PasskeyView {
            id: f.id().to_string(),
            label: f.label().to_owned(),
            created: when(f.created_at()),
            last_used: f.last_used_at().map(when),
            synced: f.backup_state().unwrap_or(false),
            remove_url: url("account_mfa_factor_delete").replace("{id}", &f.id().to_string()),
        })
        .collect();
    let (csrf, cookie) = csrf::token(ctx);
    let page = AccountPage {
        tenant_name: tenant_key.to_owned(),
        username: account.username().to_owned(),
        passkeys,
        passkey_sign_in: crate::tenancy::settings::<R>(rt, tenant).await?.passkey_sign_in,
        options_url: url("account_passkey_options"),
        register_url: url("account_passkey_register"),
        csrf,
        script: pages::PASSKEY_SCRIPT,
    };
    pages::render_with_script(StatusCode::OK, &page, cookie.into_iter().collect())
}
