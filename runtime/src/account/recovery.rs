//! Password reset by email. `POST /auth/password/forgot` `{username}` (a username or email)
//! answers the same 202 at once whether or not an account matches: looking the account up,
//! storing a link and mailing it happen afterwards on a background task, so neither the answer
//! nor its timing tells an account exists. Requests are throttled per name and IP like
//! sign-ins, in their own counters ([`crate::Runtime::recovery_throttle`]): per (name, IP),
//! per name from any IP and per IP across names, with 429s that an unknown name gets exactly as
//! a known one does. An account is mailed at most [`MAILS_PER_ACCOUNT`] links an hour however
//! its names are spelt, counted after the answer, which stays the same.
//!
//! The emailed link opens a page (`GET /{tenant}/reset-password?token=`) whose CSRF-protected
//! form posts the new password; `POST /auth/password/reset` `{token, new_password}` is the JSON
//! equivalent. The new password meets the registration policy; the link works once, for
//! [`links::RESET_LIFETIME`], only while the account's email is the address it was sent to, and
//! not after the password was set or reset since ([`links::end_resets`]: every other unused
//! reset link of the user ends with the change); bcrypt runs before the write transaction; every sign-in of the
//! user ends (grants with their refresh tokens, browser sessions); a `password.reset` security
//! event is recorded and the user is told by mail.

use actix_web::HttpResponse;
use actix_web::http::{Method, StatusCode};
use sea_orm::QueryFilter;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::api::{body, check_password, hash_password};
use super::credentials;
use super::links::{self, Purpose};
use super::normalize::login_name;
use super::throttle::Rate;
use super::verify::{link_problem, query_token};
use crate::browser::{csrf, pages};
use crate::check::Checks;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::mail::notices;
use crate::oauth::grants;
use crate::roles::{Account, AccountColumns, AuthSessionColumns, EmailToken, GrantColumns, Roles};
use crate::security_events::{self, EventType, Origin};
use crate::{Runtime, roles};

const REQUESTED: &str =
    "If an account has this username or email, a link to reset its password was sent to its email address.";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Forgot {
    username: String,
}

/// `POST /auth/password/forgot` `{username}`: 202 `{detail}`, the same for every name; 429 with
/// `Retry-After` when this name or IP asked too often.
pub async fn forgot<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let request: Forgot = body(ctx)?;
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let name = login_name(&request.username);
    let ip = credentials::client_ip(ctx);
    if let Some(wait) = rt.recovery_throttle().check(tenant, &name, &ip).await? {
        return Err(ApiError::too_many_requests(format!("too many reset requests; retry in {wait} s"), wait));
    }
    // Every request counts, so one name or IP cannot flood an inbox.
    rt.recovery_throttle().failed(tenant, &name, &ip).await?;
    let shared = ctx
        .request()
        .app_data::<actix_web::web::Data<Runtime>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("the runtime is not shared with the app"))?;
    let tenant_key = ctx.tenant_key()?.to_owned();
    // On this worker's local task set: the work after the answer needs no other thread.
    actix_web::rt::spawn(async move {
        if let Err(error) = mail_link::<R>(&shared, tenant, &tenant_key, &name).await {
            tracing::error!(tenant = tenant_key, error = error.detail(), "cannot send a password reset link");
        }
    });
    Ok(crate::http::respond(202, &json!({ "detail": REQUESTED })))
}

/// Reset links one account is mailed at most, per hour, whichever names (username, email) and
/// addresses asked: the request throttle counts per name and IP, and an account has two names.
pub const MAILS_PER_ACCOUNT: Rate = Rate { limit: 5, window: std::time::Duration::from_secs(60 * 60) };

/// Stores and mails a reset link when `name` is an active account's username or email, unless
/// the account had [`MAILS_PER_ACCOUNT`] this hour (the request was answered the same anyway).
async fn mail_link<R: Roles>(rt: &Runtime, tenant: Uuid, tenant_key: &str, name: &str) -> Result<(), ApiError> {
    let Some(account) = credentials::find_account::<R>(rt.db(), tenant, name).await? else { return Ok(()) };
    if !account.is_active() {
        return Ok(());
    }
    let per_account = format!("{tenant}:{}", account.id());
    if let Some(wait) = rt.recovery_throttle().spend("reset_mail", &per_account, MAILS_PER_ACCOUNT).await? {
        tracing::info!(
            tenant = tenant_key,
            retry_after = wait,
            "password reset link not sent: too many for this account"
        );
        return Ok(());
    }
    let base = rt.endpoint_url("password_reset_page", tenant_key).ok_or_else(|| ApiError::internal("no reset page"))?;
    let tx = rt.begin_write().await?;
    let token = links::issue::<R>(&*tx, tenant, account.id(), Purpose::ResetPassword, account.email()).await?;
    tx.commit().await?;
    let url = format!("{base}?token={token}");
    rt.mailer().send(account.email(), &notices::reset_password(tenant_key, url, links::RESET_LIFETIME.num_minutes()));
    Ok(())
}

/// Sets the password of the link `token`'s user to `new_password` (its errors reported under
/// `field`), ends all their sign-ins, and tells them by mail.
async fn reset<R: Roles>(
    ctx: &EndpointCtx<'_>,
    token: &str,
    new_password: String,
    field: &str,
) -> Result<(), ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let link = links::find::<R>(rt.db(), tenant, token, Purpose::ResetPassword).await?;
    let mut checks = Checks::default();
    check_password::<R>(&mut checks, field, &new_password);
    checks.finish()?;
    let hash = hash_password(rt, new_password).await?;
    let account = crud::find::<R::Account>(rt.db(), Some(tenant), link.user_id()).await?;
    if account.email() != link.email() {
        // The account's address changed since: whoever reads the old one no longer may reset.
        return Err(ApiError::invalid_field(
            links::TOKEN_FIELD,
            "this link was sent to an address the account no longer has",
        ));
    }
    let tx = rt.begin_write().await?;
    links::claim::<R>(&*tx, link.id()).await?;
    links::end_resets::<R>(&*tx, tenant, account.id()).await?;
    // Following the link proved the address is the user's.
    let values = [
        R::Account::PASSWORD_HASH.set(hash),
        R::Account::UPDATED_AT.set(crate::now()),
        R::Account::EMAIL_VERIFIED.set(true),
    ];
    crud::set(&*tx, tenant, account.id(), values).await?;
    let live = crud::scoped_find::<R::Grant>(Some(tenant))
        .filter(R::Grant::USER_ID.eq(account.id()))
        .filter(R::Grant::REVOKED_AT.is_null())
        .all(&*tx)
        .await?;
    for grant in live {
        grants::revoke::<R>(&*tx, tenant, roles::Grant::id(&grant)).await?;
    }
    crud::delete_where(&*tx, tenant, R::AuthSession::USER_ID, account.id()).await?;
    security_events::record::<R>(&*tx, tenant, account.id(), EventType::PasswordReset, &Origin::of(ctx), json!({}))
        .await?;
    tx.wrote::<R::Account>();
    tx.commit().await?;
    rt.mailer().send(account.email(), &notices::password_was_reset(ctx.tenant_key()?));
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reset {
    token: String,
    new_password: String,
}

/// `POST /auth/password/reset` `{token, new_password}`: 204; 422 naming `token` (not valid,
/// expired, used) or `new_password` (the policy).
pub async fn reset_json<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let request: Reset = body(ctx)?;
    reset::<R>(ctx, &request.token, request.new_password, "new_password").await?;
    Ok(crate::http::respond_empty(204))
}

/// `GET /{tenant}/reset-password?token=` shows the form (400 page for a link that does not
/// work); `POST` with the form sets the password (403 page on a failed CSRF check, the form
/// again with the reason for a refused password).
pub async fn page<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let tenant_key = ctx.tenant_key()?;
    let refused_link = |error: &ApiError| {
        pages::error(tenant_key, StatusCode::BAD_REQUEST, "This link does not work", link_problem(error))
    };
    if ctx.request().method() == Method::GET {
        let token = query_token(ctx);
        return match links::find::<R>(ctx.runtime().db(), ctx.tenant()?, &token, Purpose::ResetPassword).await {
            Ok(_) => form_page(ctx, token, None, StatusCode::OK),
            Err(error) if error.status().is_client_error() => refused_link(&error),
            Err(error) => Err(error),
        };
    }
    let form =
        crate::oauth::form::Form::parse(ctx).map_err(|_| ApiError::bad_request("The form could not be read."))?;
    if !csrf::verify(ctx, form.get("csrf")) {
        return Err(ApiError::forbidden(csrf::EXPIRED));
    }
    let token = form.get(links::TOKEN_FIELD).unwrap_or("").to_owned();
    let password = form.get("new_password").unwrap_or("").to_owned();
    match reset::<R>(ctx, &token, password, "new_password").await {
        Ok(()) => pages::message(
            tenant_key,
            StatusCode::OK,
            "Password changed",
            "Your new password is set and every device was signed out. Sign in again from your application.",
        ),
        Err(error) if error.field_errors().iter().any(|e| e.field == links::TOKEN_FIELD) => refused_link(&error),
        Err(error) if error.status().is_client_error() => {
            let status = error.status();
            form_page(ctx, token, Some(link_problem(&error)), status)
        }
        Err(error) => Err(error),
    }
}

fn form_page(
    ctx: &EndpointCtx<'_>,
    token: String,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let tenant_key = ctx.tenant_key()?;
    let (csrf, cookie) = csrf::token(ctx);
    let action = ctx.runtime().endpoint_url("password_reset_form", tenant_key).unwrap_or_default();
    let page = pages::ResetPasswordPage { tenant_name: tenant_key.to_owned(), action, csrf, token, error };
    pages::render(status, &page, cookie.into_iter().collect())
}
