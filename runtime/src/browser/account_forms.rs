//! The account page's form posts (`POST /{tenant}/account/…`, CSRF-protected, browser session).
//! Each calls the runtime function its account API endpoint calls ([`crate::account`],
//! [`crate::mfa::manage`], [`crate::devices`]) with the session as the caller, then answers
//! 303 back to the page with a notice (post/redirect/get), or, when the change was refused, the
//! page again with the reason beside the form (the error's status: 422, 401, 404, 429…). Set-up
//! pages that show a secret once (an authenticator app's key, recovery codes) are answered
//! directly.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use uuid::Uuid;

use super::account::{self, AccountModel, Outcome};
use super::csrf;
use super::pages::{self, AccountTotpPage, RecoveryCodesPage};
use crate::account::password_change;
use crate::account::principal::Principal;
use crate::account::reauth;
use crate::account::sign_ins;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::mfa::manage;
use crate::mfa::totp::Enrolment;
use crate::oauth::form::Form;
use crate::roles::Roles;
use crate::vocab::FactorKind;

/// What a person is asked when a sensitive change needs their password.
const REAUTHENTICATE: &str = "For your security, enter your password to make this change.";

/// The form (CSRF checked: 403 page otherwise; 400 page for an unreadable one) and its
/// signed-in sender; `None` without a live session.
async fn checked<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<Option<(Form, Principal, AccountModel<R>)>, ApiError> {
    let form = Form::parse(ctx).map_err(|_| ApiError::bad_request("The form could not be read."))?;
    if !csrf::verify(ctx, form.get("csrf")) {
        return Err(ApiError::forbidden(csrf::EXPIRED));
    }
    Ok(account::caller::<R>(ctx).await?.map(|(caller, account)| (form, caller, account)))
}

/// 303 to the account page, saying what was `done`.
fn done(ctx: &EndpointCtx<'_>, done: &str) -> Result<HttpResponse, ApiError> {
    let page = ctx.runtime().endpoint_url("account_page", ctx.tenant_key()?).unwrap_or_default();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("{page}?done={done}")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// The account page again with `error` beside `form`, if a person can act on it; any other
/// error stays one (a 5xx, a 503).
async fn refused<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    account: &AccountModel<R>,
    form: &'static str,
    error: ApiError,
) -> Result<HttpResponse, ApiError> {
    if !error.status().is_client_error() {
        return Err(error);
    }
    let status = error.status();
    let (field, message) = explain(&error);
    let outcome = Outcome { notice: None, error: Some((form, field, message)) };
    let mut page = account::render::<R>(ctx, caller, account, outcome, status).await?;
    for (name, value) in error.headers().iter().filter(|(name, _)| name == header::RETRY_AFTER) {
        page.headers_mut().insert(name.clone(), value.clone());
    }
    Ok(page)
}

/// The field at fault (or empty) and a sentence for a person.
fn explain(error: &ApiError) -> (String, String) {
    if error.status() == StatusCode::UNAUTHORIZED {
        return ("password".to_owned(), REAUTHENTICATE.to_owned());
    }
    match error.field_errors().first() {
        Some(field) => {
            let noun = match field.field.as_str() {
                "current_password" | "password" => "The password you entered",
                "new_password" => "The new password",
                "code" => "The code",
                "label" => "The name",
                _ => "The value",
            };
            (field.field.clone(), format!("{noun} {}.", field.detail))
        }
        None => (String::new(), sentence(error.detail())),
    }
}

/// `detail` as a sentence.
fn sentence(detail: &str) -> String {
    let mut chars = detail.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str().trim_end_matches('.'))
}

/// Runs `change` for the form's sender: 303 to the page saying `what` was done, or the page with
/// the refusal beside `form`.
async fn act<R: Roles>(
    ctx: &EndpointCtx<'_>,
    form: &'static str,
    what: &str,
    change: impl AsyncFnOnce(&Form, &Principal) -> Result<(), ApiError>,
) -> Result<HttpResponse, ApiError> {
    let Some((fields, caller, account)) = checked::<R>(ctx).await? else { return account::not_signed_in(ctx) };
    match change(&fields, &caller).await {
        Ok(()) => done(ctx, what),
        Err(error) => refused::<R>(ctx, &caller, &account, form, error).await,
    }
}

/// The form's `id` field as a uuid; a malformed one names nothing (404).
fn id_field(form: &Form, what: &str) -> Result<Uuid, ApiError> {
    form.get("id").and_then(|id| id.parse().ok()).ok_or_else(|| ApiError::not_found(what))
}

fn text(form: &Form, name: &str) -> String {
    form.get(name).unwrap_or("").to_owned()
}

/// `POST /account/password` (`current_password`, `new_password`): [`password_change::change`].
pub async fn password<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    act::<R>(ctx, "password", "password", async |form, caller| {
        password_change::change::<R>(ctx, caller, text(form, "current_password"), text(form, "new_password")).await
    })
    .await
}

/// `POST /account/factors/remove` (`id`, `kind` naming the page's section, `password` when not
/// recent): [`manage::remove_factor`].
pub async fn remove_factor<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let Some((form, caller, account)) = checked::<R>(ctx).await? else { return account::not_signed_in(ctx) };
    let kind = form.get("kind").and_then(FactorKind::from_wire);
    let section = if kind == Some(FactorKind::Passkey) { "passkeys" } else { "totp" };
    let password = form.get("password").map(str::to_owned);
    let removed = match id_field(&form, "factor") {
        Ok(id) => manage::remove_factor::<R>(ctx, &caller, id, password).await,
        Err(error) => Err(error),
    };
    match removed {
        Ok(()) => done(ctx, "factor"),
        Err(error) => refused::<R>(ctx, &caller, &account, section, error).await,
    }
}

/// `POST /account/devices/forget` (`id`): [`crate::devices::forget`].
pub async fn forget_device<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    act::<R>(ctx, "devices", "device", async |form, caller| {
        crate::devices::forget::<R>(ctx, caller, id_field(form, "device")?).await
    })
    .await
}

/// `POST /account/sessions/end` (`id`): [`sign_ins::end`].
pub async fn end_session<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    act::<R>(ctx, "sign-ins", "session", async |form, caller| {
        sign_ins::end::<R>(ctx, caller, id_field(form, "sign-in")?).await
    })
    .await
}

/// `POST /account/sessions/end-others`: [`sign_ins::end_others`].
pub async fn end_other_sessions<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    act::<R>(ctx, "sign-ins", "sessions", async |_, caller| sign_ins::end_others::<R>(ctx, caller).await.map(drop))
        .await
}

/// `POST /account/recovery-codes` (`password` when not recent): the new codes on a page of their
/// own, shown this once ([`manage::regenerate_recovery_codes`]).
pub async fn recovery_codes<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let Some((form, caller, account)) = checked::<R>(ctx).await? else { return account::not_signed_in(ctx) };
    let password = form.get("password").map(str::to_owned);
    let codes = match manage::regenerate_recovery_codes::<R>(ctx, &caller, password).await {
        Ok(codes) => codes,
        Err(error) => return refused::<R>(ctx, &caller, &account, "codes", error).await,
    };
    let tenant_key = ctx.tenant_key()?;
    let back = ctx.runtime().endpoint_url("account_page", tenant_key).unwrap_or_default();
    let page = RecoveryCodesPage { tenant_name: tenant_key.to_owned(), codes, back };
    pages::render(StatusCode::OK, &page, Vec::new())
}

/// `POST /account/totp` (`label`, optional; `password` when not recent): a new authenticator
/// app's QR code, key and URI, with the form for its first code ([`manage::start_totp`]).
pub async fn start_totp<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let Some((form, caller, account)) = checked::<R>(ctx).await? else { return account::not_signed_in(ctx) };
    let label = form.get("label").map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned);
    let password = form.get("password").map(str::to_owned);
    match manage::start_totp::<R>(ctx, &caller, label, password).await {
        Ok((id, _, enrolment)) => totp_page(ctx, &caller, id, enrolment, None, StatusCode::OK),
        Err(error) => refused::<R>(ctx, &caller, &account, "totp", error).await,
    }
}

/// `POST /account/totp/confirm` (`id`, `code`; `password` when not recent): the first code
/// confirms the app ([`manage::confirm_totp`]); a wrong one shows the set-up page again with
/// why. A refused password (or none from a stale session) shows the account page instead, so
/// the key is shown only to a caller who passed the rule.
pub async fn confirm_totp<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let Some((form, caller, account)) = checked::<R>(ctx).await? else { return account::not_signed_in(ctx) };
    let id = match id_field(&form, "factor") {
        Ok(id) => id,
        Err(error) => return refused::<R>(ctx, &caller, &account, "totp", error).await,
    };
    let password = form.get("password").map(str::to_owned);
    match manage::confirm_totp::<R>(ctx, &caller, id, form.get("code").unwrap_or(""), password).await {
        Ok(_) => done(ctx, "totp"),
        Err(error) if error.field_errors().iter().any(|e| e.field == "code") => {
            let enrolment = manage::pending_totp::<R>(ctx, &caller, id).await?;
            totp_page(ctx, &caller, id, enrolment, Some(explain(&error).1), error.status())
        }
        Err(error) => refused::<R>(ctx, &caller, &account, "totp", error).await,
    }
}

fn totp_page(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    id: Uuid,
    enrolment: Enrolment,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let tenant_key = ctx.tenant_key()?;
    let url = |endpoint: &str| ctx.runtime().endpoint_url(endpoint, tenant_key).unwrap_or_default();
    let (csrf, cookie) = csrf::token(ctx);
    // The SVG element alone, without its XML declaration, inline in the page.
    let svg = enrolment.qr_svg.find("<svg").map_or("", |start| &enrolment.qr_svg[start..]).to_owned();
    let page = AccountTotpPage {
        tenant_name: tenant_key.to_owned(),
        factor_id: id.to_string(),
        qr_svg: svg,
        secret: enrolment.secret,
        uri: enrolment.uri,
        action: url("account_totp_confirm_form"),
        back: url("account_page"),
        csrf,
        error,
        recent: reauth::is_recent(ctx.runtime(), caller.auth_time),
    };
    pages::render(status, &page, cookie.into_iter().collect())
}
