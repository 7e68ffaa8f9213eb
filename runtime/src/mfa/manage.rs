//! What a signed-in user does with their own second factors, for the account API
//! (`/auth/me/mfa/…`, [`super::api`]) and the account page ([`crate::browser::account`]) alike:
//! start and confirm TOTP, remove a factor, make new recovery codes. Each records the same
//! security events whichever way it is called. All but renaming are sensitive changes: they need
//! a recent sign-in or the password ([`crate::account::reauth`]). Adding a factor is one too: a
//! thief's authenticator app locks the owner out of signing in (a password reset keeps
//! factors), a thief's passkey may sign in without the password. The enrolment a policy requires
//! during a sign-in ([`super::api::enrol_at_sign_in`], the sign-in page's) is not made here: its
//! challenge proves the password was just entered.

use serde_json::json;
use uuid::Uuid;

use super::factors::{self, FactorModel, Verdict};
use super::{recovery, throttle, totp};
use crate::account::principal::Principal;
use crate::account::reauth;
use crate::check::Checks;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{Account, MfaFactor, Roles};
use crate::security_events::{self, EventType, Origin};
use crate::vocab::MfaPolicy;

/// The label of a factor added without one.
pub const DEFAULT_LABEL: &str = "Authenticator app";

/// `label` (or [`DEFAULT_LABEL`]) as the schema allows it; a 422 on `label` otherwise.
pub fn label<R: Roles>(label: Option<String>) -> Result<String, ApiError> {
    let label = label.unwrap_or_else(|| DEFAULT_LABEL.to_owned());
    let mut checks = Checks::default();
    checks.field::<R::MfaFactor>("label", &label);
    checks.finish()?;
    Ok(label)
}

/// 403 when the tenant has turned second factors off.
pub async fn enrolment_allowed<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<(), ApiError> {
    let settings = crate::tenancy::settings::<R>(ctx.runtime(), ctx.tenant()?).await?;
    if settings.mfa_policy == MfaPolicy::Off {
        return Err(ApiError::forbidden("second factors are turned off for this tenant (`mfa_policy: off`)"));
    }
    Ok(())
}

/// Starts TOTP enrolment for `caller`: an unconfirmed factor (replacing an earlier unconfirmed
/// one) named `label`; its id, label and what the app needs. 403 when factors are off. A
/// sensitive change: `password` re-authenticates a stale caller ([`reauth::require`]: 401, or a
/// 422 on `password`), and nothing is stored until the caller passes.
pub async fn start_totp<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    label: Option<String>,
    password: Option<String>,
) -> Result<(Uuid, String, totp::Enrolment), ApiError> {
    let label = self::label::<R>(label)?;
    enrolment_allowed::<R>(ctx).await?;
    reauth::require::<R>(ctx, caller, password).await?;
    let account = crud::find::<R::Account>(ctx.runtime().db(), Some(ctx.tenant()?), caller.user_id).await?;
    let (id, enrolment) = factors::enrol_totp::<R>(ctx, caller.user_id, account.username(), label.clone()).await?;
    Ok((id, label, enrolment))
}

/// What the app needs for `caller`'s unconfirmed TOTP factor `id` again (a form shown anew
/// after a wrong first code); 404 unless it is theirs, 409 once it is confirmed.
pub async fn pending_totp<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    id: Uuid,
) -> Result<totp::Enrolment, ApiError> {
    let factor = unconfirmed::<R>(ctx, caller, id).await?;
    let account = crud::find::<R::Account>(ctx.runtime().db(), Some(ctx.tenant()?), caller.user_id).await?;
    let sealed = factor.secret_sealed().ok_or_else(|| ApiError::not_found("factor"))?;
    totp::reopen(ctx.runtime().keys(), id, sealed, ctx.tenant_key()?, account.username())
}

async fn unconfirmed<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    id: Uuid,
) -> Result<FactorModel<R>, ApiError> {
    let factor = factors::owned::<R>(ctx, caller.user_id, id).await?;
    if factor.confirmed_at().is_some() {
        return Err(ApiError::conflict(None, "the factor is already confirmed"));
    }
    Ok(factor)
}

/// Confirms `caller`'s TOTP factor `id` with its first `code`, recording `factor.added`; the
/// factor. A wrong or replayed code is a 422 on `code` and counts against the code throttle
/// (429 after); 404 for another's factor, 409 for a confirmed one. A sensitive change like
/// [`start_totp`] (the rule is checked before the code, so a stale caller learns nothing).
pub async fn confirm_totp<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    id: Uuid,
    code: &str,
    password: Option<String>,
) -> Result<FactorModel<R>, ApiError> {
    let factor = unconfirmed::<R>(ctx, caller, id).await?;
    reauth::require::<R>(ctx, caller, password).await?;
    throttle::check(ctx, caller.user_id).await?;
    let tx = ctx.runtime().begin_write().await?;
    let verdict = factors::accept_code::<R>(ctx, &*tx, std::slice::from_ref(&factor), code).await?;
    let refusal = match verdict {
        Verdict::Accepted(_) => None,
        Verdict::Wrong => Some("is not the factor's current code"),
        Verdict::Replayed => Some("was already used; wait for the next one"),
    };
    if let Some(detail) = refusal {
        tx.rollback().await?;
        throttle::failed::<R>(ctx, caller.user_id).await?;
        return Err(ApiError::invalid_field("code", detail));
    }
    let data = json!({ "factor_id": factor.id(), "kind": "totp", "label": factor.label() });
    security_events::record::<R>(&*tx, ctx.tenant()?, caller.user_id, EventType::FactorAdded, &Origin::of(ctx), data)
        .await?;
    tx.commit().await?;
    throttle::succeeded(ctx, caller.user_id).await?;
    factors::owned::<R>(ctx, caller.user_id, factor.id()).await
}

/// Removes `caller`'s factor `id` (any kind), recording `factor.removed` (`{"factor_id", "kind",
/// "by": "user"}`). A sensitive change: `password` re-authenticates a stale caller
/// ([`reauth::require`]). 404 for another's factor.
pub async fn remove_factor<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    id: Uuid,
    password: Option<String>,
) -> Result<(), ApiError> {
    reauth::require::<R>(ctx, caller, password).await?;
    let factor = factors::owned::<R>(ctx, caller.user_id, id).await?;
    let tx = ctx.runtime().begin_write().await?;
    crud::delete_id::<R::MfaFactor>(&*tx, factor.id()).await?;
    let data = super::api::removal::<R>(&factor, "user");
    security_events::record::<R>(&*tx, ctx.tenant()?, caller.user_id, EventType::FactorRemoved, &Origin::of(ctx), data)
        .await?;
    tx.commit().await
}

/// Replaces `caller`'s recovery codes with a new set, recording `recovery_codes.regenerated`;
/// the codes, to show once. A sensitive change (see [`remove_factor`]); 403 when factors are off.
pub async fn regenerate_recovery_codes<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    password: Option<String>,
) -> Result<Vec<String>, ApiError> {
    enrolment_allowed::<R>(ctx).await?;
    reauth::require::<R>(ctx, caller, password).await?;
    let tenant = ctx.tenant()?;
    let tx = ctx.runtime().begin_write().await?;
    let codes = recovery::replace::<R>(&*tx, tenant, caller.user_id).await?;
    let data = json!({ "count": codes.len() });
    let event = EventType::RecoveryCodesRegenerated;
    security_events::record::<R>(&*tx, tenant, caller.user_id, event, &Origin::of(ctx), data).await?;
    tx.commit().await?;
    Ok(codes)
}
