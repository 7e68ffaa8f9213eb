//! Handlers of the passkey endpoints: registering one for the signed-in user
//! (`/auth/me/mfa/passkeys`, then `/register` with the browser's answer) and the passwordless
//! sign-in (`/auth/login/passkey/options`, then `/auth/login/passkey`). Listing, renaming and
//! removing are the generic factor endpoints ([`super::api`]); a passkey as a second factor
//! answers the sign-in challenge ([`super::answer`]).
//!
//! Registering is a sensitive change ([`crate::account::reauth`]): a thief's passkey would be a
//! way in that survives a password reset (with `passkey_sign_in`, without the password at all).
//! Both calls need a recent sign-in or the current `password` in the body (the account page's
//! script sends it when the session is older); otherwise 401 `reauthentication-required`.

use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{
    Credential, DiscoverableAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
};

use super::factors::{self, FactorModel};
use super::passkey::{self, Assertion};
use super::{amr, ceremony, throttle};
use crate::account::api::{AccountModel, body, signed_in};
use crate::account::principal::{self, CHALLENGE};
use crate::account::reauth;
use crate::check::Checks;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{Account, MfaFactor, MfaFactorColumns, PasskeyCeremony, Roles};
use crate::vocab::{CeremonyPurpose, FactorKind, MfaPolicy};

const DEFAULT_LABEL: &str = "Passkey";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Start {
    #[serde(default)]
    label: Option<String>,
    /// The current password, re-authenticating a stale caller.
    #[serde(default)]
    password: Option<String>,
}

/// 403 unless the tenant uses passkeys: as second factors (`mfa_policy` not `off`) or to sign in
/// without a password (`passkey_sign_in`).
async fn passkeys_allowed<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<(), ApiError> {
    let settings = crate::tenancy::settings::<R>(ctx.runtime(), ctx.tenant()?).await?;
    if settings.mfa_policy == MfaPolicy::Off && !settings.passkey_sign_in {
        return Err(ApiError::forbidden("passkeys are turned off for this tenant"));
    }
    Ok(())
}

/// `POST /auth/me/mfa/passkeys` (`{"label"?, "password"?}`): `{"ceremony", "expires_in",
/// "options": {"publicKey": ...}}`, the WebAuthn creation options (§5.4) to pass to
/// `navigator.credentials.create`, excluding the user's registered passkeys; the ceremony
/// token goes back with the answer. 401 `reauthentication-required` for a stale caller without
/// `password`, 422 on a wrong one ([`crate::account::reauth::require`]); no ceremony is stored.
pub async fn start_registration<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let request: Start = if ctx.body().is_empty() { Start::default() } else { body(ctx)? };
    let label = request.label.unwrap_or_else(|| DEFAULT_LABEL.to_owned());
    let mut checks = Checks::default();
    checks.field::<R::MfaFactor>("label", &label);
    checks.finish()?;
    passkeys_allowed::<R>(ctx).await?;
    reauth::require::<R>(ctx, &caller, request.password).await?;
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let rp = passkey::relying_party(ctx)?;
    let account = crud::find::<R::Account>(rt.db(), Some(tenant), caller.user_id).await?;
    let existing: Vec<_> = factors::of_user::<R>(rt.db(), tenant, caller.user_id)
        .await?
        .iter()
        .filter_map(passkey::load::<R>)
        .map(|key| key.cred_id().clone())
        .collect();
    let display = account.name().unwrap_or(account.username()).to_owned();
    let (options, state) = rp
        .start_passkey_registration(caller.user_id, account.username(), &display, Some(existing))
        .map_err(ApiError::internal)?;
    let mut options = serde_json::to_value(options).map_err(ApiError::internal)?;
    // A discoverable credential where the authenticator can keep one (WebAuthn §5.4.6
    // `preferred`), so the passkey also signs in without a username.
    options["publicKey"]["authenticatorSelection"]["residentKey"] = json!("preferred");
    let token = ceremony::store::<R>(ctx, CeremonyPurpose::Register, Some(caller.user_id), Some(label), &state).await?;
    let body = json!({ "ceremony": token, "expires_in": ceremony::LIFETIME.num_seconds(), "options": options });
    Ok(crate::http::respond(200, &body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
    /// The current password, re-authenticating a stale caller.
    #[serde(default)]
    password: Option<String>,
}

/// `POST /auth/me/mfa/passkeys/register` (`{"ceremony", "credential", "password"?}`, the
/// credential as `PublicKeyCredential` JSON with base64url binary members): 201 with the new
/// factor. A 422 on `ceremony` (unknown, another user's, used or expired) or `credential`
/// (refused by WebAuthn §7.1's checks); 409 when the credential is already registered. 401
/// `reauthentication-required` (or 422 on `password`) as for the options, checked first: the
/// ceremony stays unused and nothing is stored.
pub async fn finish_registration<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let request: Registration = body(ctx)?;
    reauth::require::<R>(ctx, &caller, request.password).await?;
    let (row, state): (_, PasskeyRegistration) =
        ceremony::find::<R, _>(ctx, &request.ceremony, CeremonyPurpose::Register).await?;
    if row.user_id() != Some(caller.user_id) {
        return Err(ApiError::invalid_field("ceremony", "is unknown; start again"));
    }
    let rp = passkey::relying_party(ctx)?;
    let key = passkey::verify_registration(&rp, &request.credential, &state)?;
    let label = row.label().unwrap_or(DEFAULT_LABEL).to_owned();
    let tx = ctx.runtime().begin_write().await?;
    if !ceremony::claim::<R>(&*tx, row.id()).await? {
        tx.rollback().await?;
        return Err(ApiError::invalid_field("ceremony", "was already used; start again"));
    }
    let id = passkey::store::<R>(ctx, &*tx, caller.user_id, label, &key).await?;
    tx.commit().await?;
    let factor = factors::owned::<R>(ctx, caller.user_id, id).await?;
    Ok(crate::http::respond(201, &factors::view::<R>(&factor)))
}

/// 403 unless the tenant turned passwordless passkey sign-in on.
async fn sign_in_allowed<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<(), ApiError> {
    if !crate::tenancy::settings::<R>(ctx.runtime(), ctx.tenant()?).await?.passkey_sign_in {
        return Err(ApiError::forbidden("signing in with a passkey alone is turned off for this tenant"));
    }
    Ok(())
}

/// `POST /auth/login/passkey/options`: `{"ceremony", "expires_in", "options": {"publicKey":
/// ..., "mediation": "conditional"}}`, request options for a discoverable credential (empty
/// `allowCredentials`, user verification required, WebAuthn §5.5). 403 unless the tenant's
/// `passkey_sign_in` is on.
pub async fn start_sign_in<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    sign_in_allowed::<R>(ctx).await?;
    let rp = passkey::relying_party(ctx)?;
    let (options, state) = rp.start_discoverable_authentication().map_err(ApiError::internal)?;
    let token = ceremony::store::<R>(ctx, CeremonyPurpose::SignIn, None, None, &state).await?;
    let body = json!({ "ceremony": token, "expires_in": ceremony::LIFETIME.num_seconds(), "options": options });
    Ok(crate::http::respond(200, &body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    ceremony: String,
    credential: PublicKeyCredential,
    #[serde(default)]
    session: Option<String>,
}

/// `POST /auth/login/passkey` (`{"ceremony", "credential", "session"?}`): the tokens (or, with
/// `"session": "cookie"`, a cookie session) of a passwordless sign-in, `amr` `["hwk" | "swk",
/// "mfa"]`. A 401 when the passkey is unknown in this tenant, revoked, its account disabled,
/// its answer invalid or its counter did not advance (recorded); 422 on a bad `ceremony`.
pub async fn finish_sign_in<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let request: SignIn = body(ctx)?;
    let cookie_mode = match request.session.as_deref() {
        None | Some("tokens") => false,
        Some("cookie") => true,
        Some(_) => return Err(ApiError::invalid_field("session", "must be `tokens` or `cookie`")),
    };
    let (account, amr) = verify_sign_in::<R>(ctx, &request.ceremony, &request.credential).await?;
    signed_in::<R>(ctx, &account, cookie_mode, amr).await
}

/// A passwordless sign-in's checks, for the account API and the sign-in page alike: the tenant
/// allows it (403), the `ceremony` is live (422), and `credential` is a valid assertion of a
/// passkey registered here whose counter advanced, by an active account (401 otherwise, a
/// cloned counter recorded). The account and the `amr` of the sign-in, the ceremony used up.
pub async fn verify_sign_in<R: Roles>(
    ctx: &EndpointCtx<'_>,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> Result<(AccountModel<R>, Vec<String>), ApiError> {
    sign_in_allowed::<R>(ctx).await?;
    let (row, state): (_, DiscoverableAuthentication) =
        ceremony::find::<R, _>(ctx, ceremony, CeremonyPurpose::SignIn).await?;
    let rp = passkey::relying_party(ctx)?;
    let refused = |detail: &str| ApiError::unauthorized(detail, CHALLENGE);
    let (user, raw_id) = rp
        .identify_discoverable_authentication(credential)
        .map_err(|_| refused("the passkey did not say whose it is (no user handle)"))?;
    let factor = known_passkey::<R>(ctx, raw_id).await?.filter(|f| f.user_id() == user);
    let (Some(factor), Some(key)) = (factor.as_ref(), factor.as_ref().and_then(passkey::load::<R>)) else {
        return Err(refused("the passkey is not registered here (or was removed)"));
    };
    let rt = ctx.runtime();
    let Some(account) = rt.accounts().find::<R::Account>(rt, ctx.tenant()?, user).await?.filter(|a| a.is_active())
    else {
        return Err(refused("the account is disabled"));
    };
    throttle::check(ctx, user).await?;
    let verified = rp.finish_discoverable_authentication_v2(credential, state, Credential::from(key));
    let tx = rt.begin_write().await?;
    let method = match passkey::accept::<R>(ctx, &*tx, factor, verified).await? {
        Assertion::Accepted { method, .. } => method,
        Assertion::Refused(detail) => {
            tx.rollback().await?;
            throttle::failed::<R>(ctx, user).await?;
            return Err(refused(detail));
        }
        Assertion::Cloned(counter) => {
            tx.rollback().await?;
            passkey::record_clone::<R>(ctx, factor, counter).await?;
            throttle::failed::<R>(ctx, user).await?;
            return Err(refused(passkey::CLONED));
        }
    };
    if !ceremony::claim::<R>(&*tx, row.id()).await? {
        tx.rollback().await?;
        return Err(ApiError::invalid_field("ceremony", "was already used; start again"));
    }
    tx.commit().await?;
    throttle::succeeded(ctx, user).await?;
    Ok((account, amr::passkey(method)))
}

/// The confirmed passkey of this tenant with the credential id `raw_id`.
async fn known_passkey<R: Roles>(ctx: &EndpointCtx<'_>, raw_id: &[u8]) -> Result<Option<FactorModel<R>>, ApiError> {
    let id = passkey::credential_id(raw_id);
    let found: Option<FactorModel<R>> =
        crud::find_where(ctx.runtime().db(), ctx.tenant()?, R::MfaFactor::CREDENTIAL_ID, Some(id)).await?;
    Ok(found.filter(|f| f.kind() == FactorKind::Passkey && f.confirmed_at().is_some()))
}
