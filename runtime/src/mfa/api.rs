//! Handlers of the second-factor endpoints: the account API's `/auth/me/mfa/...` (the signed-in
//! user's factors and recovery codes), the sign-in's second step (`/auth/login/mfa`, and
//! `/auth/login/mfa/totp` for enrolment a policy requires), and the admin reset.

use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use webauthn_rs::prelude::PublicKeyCredential;

use super::answer::{self, Answer, Outcome};
use super::factors;
use super::{challenge, manage, recovery, totp};
use crate::account::api::{body, first_party_client, signed_in};
use crate::account::principal::{self, CHALLENGE};
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{Account, MfaChallenge, MfaFactor, MfaFactorColumns, RecoveryCodeColumns, Roles};
use crate::security_events::{self, EventType, Origin};

/// The `{id}` path segment; a malformed one names nothing (404).
fn path_id(ctx: &EndpointCtx<'_>, what: &str) -> Result<Uuid, ApiError> {
    crate::http::path_param(ctx.request(), "id")?.parse().map_err(|_| ApiError::not_found(what))
}

/// A body that may be empty (then `T::default()`).
fn optional_body<T: for<'de> Deserialize<'de> + Default>(ctx: &EndpointCtx<'_>) -> Result<T, ApiError> {
    if ctx.body().is_empty() { Ok(T::default()) } else { body(ctx) }
}

fn enrolment_view(id: Uuid, label: &str, enrolment: &totp::Enrolment) -> Value {
    json!({
        "id": id,
        "kind": "totp",
        "label": label,
        "confirmed": false,
        "secret": enrolment.secret,
        "otpauth_uri": enrolment.uri,
        "qr_svg": enrolment.qr_svg,
    })
}

/// The live challenge `token` names, if the account API made it (one of the sign-in page
/// belongs to that page's client and completes there); a 401 otherwise.
async fn account_challenge<R: Roles>(
    ctx: &EndpointCtx<'_>,
    token: &str,
) -> Result<challenge::ChallengeModel<R>, ApiError> {
    let challenge = challenge::find::<R>(ctx, token).await?;
    if challenge.client_id() != first_party_client::<R>(ctx).await?.id {
        return Err(ApiError::unauthorized("the MFA challenge is unknown; sign in again", CHALLENGE));
    }
    Ok(challenge)
}

/// `GET /auth/me/mfa/factors`: `{"factors": [...], "recovery_codes_left": n}`, never a secret.
pub async fn list<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let (db, tenant) = (ctx.runtime().db(), ctx.tenant()?);
    let factors = factors::of_user::<R>(db, tenant, caller.user_id).await?;
    let left = recovery::remaining::<R>(db, tenant, caller.user_id).await?;
    let views: Vec<Value> = factors.iter().map(factors::view::<R>).collect();
    Ok(crate::http::respond(200, &json!({ "factors": views, "recovery_codes_left": left })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TotpStart {
    #[serde(default)]
    label: Option<String>,
}

/// `POST /auth/me/mfa/totp` (`{"label"?}`): 201 with an unconfirmed factor's `id`, `secret`
/// (base32), `otpauth_uri` and `qr_svg`; confirm it with its first code. 401
/// `reauthentication-required` when the caller signed in too long ago
/// ([`crate::account::reauth`]); nothing is stored then.
pub async fn start_totp<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let request: TotpStart = optional_body(ctx)?;
    let (id, label, enrolment) = manage::start_totp::<R>(ctx, &caller, request.label, None).await?;
    Ok(crate::http::respond(201, &enrolment_view(id, &label, &enrolment)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

/// `POST /auth/me/mfa/totp/{id}/confirm` (`{"code"}`): the factor, now confirmed. A wrong or
/// replayed code is a 422 on `code` and counts against the code throttle (429 after); 401
/// `reauthentication-required` when the caller signed in too long ago (the factor stays
/// unconfirmed: sign in again and confirm it).
pub async fn confirm_totp<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let id = path_id(ctx, "factor")?;
    factors::owned::<R>(ctx, caller.user_id, id).await?;
    let request: CodeBody = body(ctx)?;
    let factor = manage::confirm_totp::<R>(ctx, &caller, id, &request.code, None).await?;
    Ok(crate::http::respond(200, &factors::view::<R>(&factor)))
}

/// `DELETE /auth/me/mfa/factors/{id}`: 204, recording `factor.removed` (`data: {"factor_id",
/// "kind", "by": "user"}`); 404 for a factor that is not the caller's; 401
/// `reauthentication-required` when the caller signed in too long ago
/// ([`crate::account::reauth`]). A removed passkey no longer signs in, also in challenges
/// issued before.
pub async fn delete_factor<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    manage::remove_factor::<R>(ctx, &caller, path_id(ctx, "factor")?, None).await?;
    Ok(crate::http::respond_empty(204))
}

/// The `data` of a `factor.removed` event: `{"factor_id", "kind", "by"}`, `by` saying whose
/// call removed it (`user`: the account API, `admin`: the admin API).
pub(crate) fn removal<R: Roles>(factor: &factors::FactorModel<R>, by: &str) -> Value {
    json!({ "factor_id": factor.id(), "kind": factor.kind().as_str(), "by": by })
}

/// The pre hook of the admin API's `DELETE /admin/tenants/{tenant}/mfa_factors/{id}`: records
/// `factor.removed` for the factor's user, shaped as the account API's (`"by": "admin"`, the
/// admin's IP and user agent), in the delete's transaction, so the event exists exactly when the
/// factor is gone. The generated handler has found the row in the tenant (404 otherwise). A
/// factor of a user holding a role the caller may not grant is refused (403,
/// [`crate::account::grants`]), as updating that user would be.
pub async fn on_admin_removal<R: Roles>(ctx: &crate::hook_context::PreCtx<'_>) -> crate::hook_context::HookResult {
    let (Some(row), Some(tenant)) = (ctx.row(), ctx.tenant()) else { return Ok(()) };
    let Some(factor) = crud::find_optional::<R::MfaFactor>(ctx.tx(), Some(tenant), row.clone()).await? else {
        return Ok(());
    };
    // As for updating the user: not a factor of someone holding a role the caller could not grant.
    crate::account::grants::check_acting_on::<R>(ctx, factor.user_id()).await?;
    let data = removal::<R>(&factor, "admin");
    security_events::record::<R>(ctx.tx(), tenant, factor.user_id(), EventType::FactorRemoved, &ctx.origin(), data)
        .await?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rename {
    label: String,
}

/// `PATCH /auth/me/mfa/factors/{id}` (`{"label"}`): the factor, renamed; 404 for a factor that
/// is not the caller's, 422 for a label the schema refuses.
pub async fn rename_factor<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let factor = factors::owned::<R>(ctx, caller.user_id, path_id(ctx, "factor")?).await?;
    let request: Rename = body(ctx)?;
    let label = manage::label::<R>(Some(request.label))?;
    let tx = ctx.runtime().begin_write().await?;
    let values = [R::MfaFactor::LABEL.set(label), R::MfaFactor::UPDATED_AT.set(crate::now())];
    crud::set::<R::MfaFactor>(&*tx, ctx.tenant()?, factor.id(), values).await?;
    tx.commit().await?;
    let factor = factors::owned::<R>(ctx, caller.user_id, factor.id()).await?;
    Ok(crate::http::respond(200, &factors::view::<R>(&factor)))
}

/// `POST /auth/me/mfa/recovery-codes`: 201 `{"codes": [...]}`, a new set shown only now; the
/// previous set stops working. 401 `reauthentication-required` when the caller signed in too
/// long ago ([`crate::account::reauth`]).
pub async fn regenerate_recovery_codes<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let codes = manage::regenerate_recovery_codes::<R>(ctx, &caller, None).await?;
    Ok(crate::http::respond(201, &json!({ "codes": codes })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Completion {
    mfa_challenge: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
    /// A WebAuthn assertion to the challenge's `webauthn` options.
    #[serde(default)]
    credential: Option<PublicKeyCredential>,
}

/// `POST /auth/login/mfa` (`{"mfa_challenge", "code" | "recovery_code" | "credential"}`, the
/// last a WebAuthn assertion to the challenge's `webauthn` options): the sign-in's tokens (or
/// cookie session), with `amr` `["pwd", "otp", "mfa"]` (or `["pwd", "hwk" | "swk", "mfa"]` for
/// a passkey). A wrong, replayed or used code (or a refused assertion) is a 401 that leaves the challenge usable until it expires, and counts against the code
/// throttle (429 after); an unknown, expired or used challenge is a 401 saying which.
pub async fn complete<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let request: Completion = body(ctx)?;
    let challenge = account_challenge::<R>(ctx, &request.mfa_challenge).await?;
    let rt = ctx.runtime();
    let Some(account) =
        rt.accounts().find::<R::Account>(rt, ctx.tenant()?, challenge.user_id()).await?.filter(|a| a.is_active())
    else {
        return Err(ApiError::unauthorized("the account is disabled", CHALLENGE));
    };
    let answer = match (&request.code, &request.recovery_code, &request.credential) {
        (Some(code), None, None) => Answer::Code(code),
        (None, Some(code), None) => Answer::RecoveryCode(code),
        (None, None, Some(credential)) => Answer::Passkey(credential),
        _ => return Err(ApiError::bad_request("send exactly one of `code`, `recovery_code` and `credential`")),
    };
    match answer::check::<R>(ctx, &challenge, answer).await? {
        Outcome::Refused(detail) => Err(ApiError::unauthorized(detail, CHALLENGE)),
        Outcome::Accepted(amr) => signed_in::<R>(ctx, &account, challenge.cookie(), amr).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolAtSignIn {
    mfa_challenge: String,
    #[serde(default)]
    label: Option<String>,
}

/// `POST /auth/login/mfa/totp` (`{"mfa_challenge", "label"?}`): enrolment during a sign-in whose
/// challenge says `enrol` (policy requires a factor the user lacks); answers like
/// `POST /auth/me/mfa/totp`. Completing the sign-in with the factor's first code confirms it.
pub async fn enrol_at_sign_in<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let request: EnrolAtSignIn = body(ctx)?;
    let label = manage::label::<R>(request.label)?;
    let challenge = account_challenge::<R>(ctx, &request.mfa_challenge).await?;
    if !challenge.enrol() {
        return Err(ApiError::forbidden(
            "this challenge completes with a code of an enrolled factor; add factors after signing in",
        ));
    }
    let account = crud::find::<R::Account>(ctx.runtime().db(), Some(ctx.tenant()?), challenge.user_id()).await?;
    let (id, enrolment) = factors::enrol_totp::<R>(ctx, account.id(), account.username(), label.clone()).await?;
    Ok(crate::http::respond(201, &enrolment_view(id, &label, &enrolment)))
}

/// `POST /admin/tenants/{tenant}/users/{id}/mfa/reset`: removes every factor and recovery code
/// of the user; `{"factors_removed", "recovery_codes_removed"}`. The user signs in with a
/// password again (and enrols anew where policy requires it).
pub async fn reset<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let id = path_id(ctx, "user")?;
    if crud::find_optional::<R::Account>(rt.db(), Some(tenant), id).await?.is_none() {
        return Err(ApiError::not_found("user"));
    }
    let tx = rt.begin_write().await?;
    let factors = crud::delete_where(&*tx, tenant, R::MfaFactor::USER_ID, id).await?;
    let codes = crud::delete_where(&*tx, tenant, R::RecoveryCode::USER_ID, id).await?;
    let data = json!({ "factors_removed": factors, "recovery_codes_removed": codes, "by": "admin" });
    security_events::record::<R>(&*tx, tenant, id, EventType::FactorsReset, &Origin::of(ctx), data).await?;
    tx.commit().await?;
    Ok(crate::http::respond(200, &json!({ "factors_removed": factors, "recovery_codes_removed": codes })))
}
