//! The account page, `GET /{tenant}/account`: what the browser session's user manages about
//! their account — password, authenticator apps, passkeys, recovery codes, known devices and
//! active sign-ins. Each section's form posts to [`super::account_forms`], which calls the
//! runtime functions the account API calls, so both behave alike and record the same events.
//! Sensitive forms ask for the password when the session's sign-in is not recent
//! ([`crate::account::reauth`]). No session: a page saying to sign in (401).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;

use super::pages::{self, AccountPage, Actions, DeviceView, FactorView, SignInView};
use super::{csrf, session};
use crate::account::principal::Principal;
use crate::account::reauth;
use crate::account::sign_ins::{self, Kind, SignIn};
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::mfa::factors::{self, FactorModel};
use crate::mfa::recovery;
use crate::roles::{Account, Device, MfaFactor, Roles};
use crate::vocab::{FactorKind, MfaPolicy};

/// The account row of a signed-in user.
pub(super) type AccountModel<R> = <<R as Roles>::Account as EntityTrait>::Model;

/// Devices the page lists (most recently seen first).
const DEVICES_SHOWN: u64 = 20;

/// What a page shows besides the account itself: the outcome of the last form.
#[derive(Debug, Default)]
pub struct Outcome {
    /// A change that succeeded, in words.
    pub notice: Option<String>,
    /// A form that was refused: which (`password`, `totp`, `passkeys`, `codes`, `devices`,
    /// `sign-ins`), the field at fault (may be empty) and why.
    pub error: Option<(&'static str, String, String)>,
}

/// The browser session's caller and their active account, if there is one.
pub(super) async fn caller<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<Option<(Principal, AccountModel<R>)>, ApiError> {
    let Some(session) = session::current::<R>(ctx).await? else { return Ok(None) };
    let rt = ctx.runtime();
    let account = rt.accounts().find::<R::Account>(rt, ctx.tenant()?, session.user_id).await?;
    Ok(account.filter(|a| a.is_active()).map(|account| (Principal::of_session(&session), account)))
}

/// The page for a browser without a (live) session: 401.
pub(super) fn not_signed_in(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let message = "Sign in to an application of this site first; then come back to this page.";
    pages::message(ctx.tenant_key()?, StatusCode::UNAUTHORIZED, "You are not signed in", message)
}

/// `GET /account` (`?done=` names a change just made, shown as a notice).
pub async fn page<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let Some((caller, account)) = caller::<R>(ctx).await? else { return not_signed_in(ctx) };
    let query = ctx.request().query_string();
    let done = form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == "done").map(|(_, v)| v.into_owned());
    let outcome = Outcome { notice: done.as_deref().and_then(notice).map(str::to_owned), error: None };
    render::<R>(ctx, &caller, &account, outcome, StatusCode::OK).await
}

/// What `?done=` says, for the changes the forms make.
fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "password" => "Your password was changed. Every other sign-in was ended.",
        "totp" => "Your authenticator app is set up. Sign-ins now ask for its code.",
        "factor" => "The sign-in method was removed.",
        "device" => "The device was forgotten. Its next sign-in will be reported as new.",
        "session" => "The sign-in was ended.",
        "sessions" => "Every other sign-in was ended.",
        _ => return None,
    })
}

/// The account page of `account` with `outcome`, answered with `status`.
pub(super) async fn render<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    account: &AccountModel<R>,
    outcome: Outcome,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let rt = ctx.runtime();
    let (tenant, tenant_key) = (ctx.tenant()?, ctx.tenant_key()?);
    let settings = crate::tenancy::settings::<R>(rt, tenant).await?;
    let factors = factors::of_user::<R>(rt.db(), tenant, caller.user_id).await?;
    let url = |endpoint: &str| rt.endpoint_url(endpoint, tenant_key).unwrap_or_default();
    let (csrf, cookie) = csrf::token(ctx);
    let (error_form, error_field, error) = match outcome.error {
        Some((form, field, message)) => (form, field, Some(message)),
        None => ("", String::new(), None),
    };
    let page = AccountPage {
        tenant_name: tenant_key.to_owned(),
        username: account.username().to_owned(),
        csrf,
        notice: outcome.notice,
        error,
        error_form,
        error_field,
        recent: reauth::is_recent(rt, caller.auth_time),
        factors_enabled: settings.mfa_policy != MfaPolicy::Off,
        authenticator_apps: views::<R>(&factors, FactorKind::Totp),
        passkeys: views::<R>(&factors, FactorKind::Passkey),
        passkey_sign_in: settings.passkey_sign_in,
        recovery_codes_left: recovery::remaining::<R>(rt.db(), tenant, caller.user_id).await?,
        devices: devices::<R>(ctx, caller).await?,
        sign_ins: sign_ins::list::<R>(ctx, caller).await?.iter().map(sign_in_view).collect(),
        options_url: url("account_passkey_options"),
        register_url: url("account_passkey_register"),
        actions: Actions {
            password: url("account_password_form"),
            totp: url("account_totp_form"),
            remove_factor: url("account_factor_remove_form"),
            recovery_codes: url("account_recovery_codes_form"),
            forget_device: url("account_device_forget_form"),
            end_sign_in: url("account_session_end_form"),
            end_others: url("account_sessions_end_others_form"),
        },
        script: pages::PASSKEY_SCRIPT,
    };
    pages::render_with_script(status, &page, cookie.into_iter().collect())
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The confirmed factors of `kind`, oldest first.
fn views<R: Roles>(factors: &[FactorModel<R>], kind: FactorKind) -> Vec<FactorView> {
    factors
        .iter()
        .filter(|f| f.kind() == kind && f.confirmed_at().is_some())
        .map(|f| FactorView {
            id: f.id().to_string(),
            label: f.label().to_owned(),
            created: when(f.created_at()),
            last_used: f.last_used_at().map(when),
            synced: f.backup_state().unwrap_or(false),
        })
        .collect()
}

async fn devices<R: Roles>(ctx: &EndpointCtx<'_>, caller: &Principal) -> Result<Vec<DeviceView>, ApiError> {
    let current = crate::devices::current::<R>(ctx, caller.user_id).await?;
    let rows = crate::devices::of_user::<R>(ctx, caller.user_id, DEVICES_SHOWN).await?;
    Ok(rows
        .iter()
        .map(|device| DeviceView {
            id: device.id().to_string(),
            user_agent: device.user_agent().unwrap_or("Unknown browser or app").to_owned(),
            ip: device.ip().unwrap_or("").to_owned(),
            first_seen: when(device.created_at()),
            last_seen: when(device.last_seen_at()),
            current: current == Some(device.id()),
        })
        .collect())
}

fn sign_in_view(sign_in: &SignIn) -> SignInView {
    let what = match (sign_in.kind, &sign_in.client) {
        (Kind::Browser, _) if sign_in.current => "This browser".to_owned(),
        (Kind::Browser, _) => "A browser".to_owned(),
        (Kind::Tokens, Some(client)) => client.clone(),
        (Kind::Tokens, None) => "An application".to_owned(),
    };
    SignInView {
        id: sign_in.id.to_string(),
        what,
        how: crate::mfa::amr::describe(&sign_in.amr),
        signed_in: when(sign_in.auth_time),
        expires: when(sign_in.expires_at),
        current: sign_in.current,
    }
}
