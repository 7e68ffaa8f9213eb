//! Email verification: the signed-in user asks for a link (`POST /auth/me/verify-email`), the
//! emailed link (`GET /{tenant}/verify-email?token=`, or `POST /auth/verify-email` with the token
//! as JSON) sets `email_verified`. A link works once, for [`links::VERIFY_LIFETIME`], and only
//! while the account's address is still the one it was sent to.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::links::{self, Purpose};
use super::principal;
use crate::browser::pages;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::mail::notices;
use crate::roles::{Account, AccountColumns, EmailToken, Roles, TenantSettings};
use crate::security_events::{self, EventType, Origin};

/// `POST /auth/me/verify-email`: emails the caller a verification link (202 `{sent_to}`); 409
/// if the address is already verified.
pub async fn send<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let account = crud::find::<R::Account>(rt.db(), Some(tenant), caller.user_id).await?;
    if account.email_verified() {
        return Err(ApiError::conflict(Some("email"), "this email address is already verified"));
    }
    let tx = rt.begin_write().await?;
    let token = links::issue::<R>(&*tx, tenant, account.id(), Purpose::VerifyEmail, account.email()).await?;
    tx.commit().await?;
    send_link(ctx, account.email(), &token)?;
    Ok(crate::http::respond(202, &json!({ "sent_to": account.email() })))
}

/// Mails the verification link carrying `token` to `email`.
fn send_link(ctx: &EndpointCtx<'_>, email: &str, token: &str) -> Result<(), ApiError> {
    let rt = ctx.runtime();
    let tenant_key = ctx.tenant_key()?;
    let base = rt.endpoint_url("verify_email_link", tenant_key).ok_or_else(|| ApiError::internal("no verify route"))?;
    let url = format!("{base}?token={token}");
    rt.mailer().send(email, &notices::verify_email(tenant_key, url, links::VERIFY_LIFETIME.num_hours()));
    Ok(())
}

/// Verifies the address the link `token` was sent to; returns it.
async fn redeem<R: Roles>(ctx: &EndpointCtx<'_>, token: &str) -> Result<String, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let link = links::find::<R>(rt.db(), tenant, token, Purpose::VerifyEmail).await?;
    let account = crud::find::<R::Account>(rt.db(), Some(tenant), link.user_id()).await?;
    if account.email() != link.email() {
        return Err(ApiError::invalid_field(
            links::TOKEN_FIELD,
            "this link was sent to an address the account no longer has",
        ));
    }
    let tx = rt.begin_write().await?;
    links::claim::<R>(&*tx, link.id()).await?;
    let values = [R::Account::EMAIL_VERIFIED.set(true), R::Account::UPDATED_AT.set(crate::now())];
    crud::set(&*tx, tenant, account.id(), values).await?;
    let data = json!({ "email": link.email() });
    security_events::record::<R>(&*tx, tenant, account.id(), EventType::EmailVerified, &Origin::of(ctx), data).await?;
    tx.wrote::<R::Account>();
    tx.commit().await?;
    Ok(link.email().to_owned())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Redeem {
    token: String,
}

/// `POST /auth/verify-email` `{token}`: 200 `{email, email_verified: true}`, or 422 naming
/// `token` when the link is not valid, expired or used.
pub async fn redeem_json<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let request: Redeem = super::api::body(ctx)?;
    let email = redeem::<R>(ctx, &request.token).await?;
    Ok(crate::http::respond(200, &json!({ "email": email, "email_verified": true })))
}

/// `GET /{tenant}/verify-email?token=`: the emailed link; a page saying the address is verified,
/// or (400) why the link does not work.
pub async fn link_page<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let tenant_key = ctx.tenant_key()?;
    let token = query_token(ctx);
    match redeem::<R>(ctx, &token).await {
        Ok(email) => pages::message(
            tenant_key,
            StatusCode::OK,
            "Email address verified",
            format!("{email} is now verified. You can close this page."),
        ),
        Err(error) if error.status().is_client_error() => {
            pages::error(tenant_key, StatusCode::BAD_REQUEST, "This link does not work", link_problem(&error))
        }
        Err(error) => Err(error),
    }
}

/// The `token` query parameter, or empty.
pub(crate) fn query_token(ctx: &EndpointCtx<'_>) -> String {
    form_urlencoded::parse(ctx.request().query_string().as_bytes())
        .find(|(key, _)| key == links::TOKEN_FIELD)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// What a person is told about a refused link: the field error's words, as a sentence.
pub(crate) fn link_problem(error: &ApiError) -> String {
    let detail = error.field_errors().first().map_or_else(|| error.detail().to_owned(), |e| e.detail.clone());
    let mut sentence = detail;
    if let Some(first) = sentence.get(..1) {
        sentence = first.to_uppercase() + &sentence[1..];
    }
    format!("{sentence}.")
}

/// The `unverify_changed_email` hook's work (see [`crate::hooks::unverify_changed_email`]).
pub async fn on_admin_email_change<R: Roles>(
    ctx: &crate::hook_context::PreCtx<'_>,
    email: crate::hook_context::Column<'_, String>,
    email_verified: crate::hook_context::Column<'_, bool>,
) -> crate::hook_context::HookResult {
    let (Some(new), Some(row), Some(tenant)) = (email.get(), ctx.row(), ctx.tenant()) else { return Ok(()) };
    let Some(before) = crud::find_optional::<R::Account>(ctx.tx(), Some(tenant), row.clone()).await? else {
        return Ok(());
    };
    if before.email() == new {
        return Ok(());
    }
    if !email_verified.is_set() {
        email_verified.set(false);
    }
    let data = json!({ "by": "admin" });
    security_events::record::<R>(ctx.tx(), tenant, before.id(), EventType::EmailChanged, &ctx.origin(), data).await?;
    let slug = crud::find::<R::TenantSettings>(ctx.tx(), None, tenant).await?.slug().to_owned();
    let (mailer, old, notice) = (ctx.mailer().clone(), before.email().to_owned(), notices::email_changed(&slug, new));
    ctx.after_commit(move || mailer.send(&old, &notice));
    Ok(())
}
