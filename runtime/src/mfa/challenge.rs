//! Sign-in challenges: when a sign-in needs a second factor, the password step answers
//! `mfa_required` with a challenge token instead of tokens. The token is 256 random bits, stored
//! as its SHA-256 digest, lives [`LIFETIME`], and completes one sign-in.

use actix_web::HttpResponse;
use chrono::Duration;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{factors, passkey};
use crate::account::principal::CHALLENGE;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{MfaChallenge, MfaChallengeColumns, MfaFactor, NewMfaChallenge, Roles};
use crate::vocab::{FactorKind, MfaPolicy};
use crate::{http, secret};

/// How long a challenge can be completed.
pub const LIFETIME: Duration = Duration::minutes(5);

/// A challenge row.
pub type ChallengeModel<R> = <<R as Roles>::MfaChallenge as EntityTrait>::Model;

/// What a sign-in whose password was right still needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: issue the tokens.
    Nothing,
    /// A code of a confirmed factor (or a recovery code).
    Code,
    /// Policy requires a factor the user lacks: enrol one, then its first code.
    Enrolment,
}

/// What `user` still needs under `policy` (the stricter of the tenant's and the client's).
pub async fn need<R: Roles>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
    policy: MfaPolicy,
) -> Result<Need, ApiError> {
    if policy == MfaPolicy::Off {
        return Ok(Need::Nothing);
    }
    if factors::has_confirmed::<R>(db, tenant, user).await? {
        return Ok(Need::Code);
    }
    Ok(if policy == MfaPolicy::Required { Need::Enrolment } else { Need::Nothing })
}

/// Stores a challenge for `user` signing in to `client` and answers `mfa_required` with it:
/// `{"mfa_required": true, "mfa_challenge", "expires_in" (seconds), "enrol", "methods"}`, plus
/// `"webauthn"` (WebAuthn request options, `{"publicKey": {...}}`) when the user has passkeys.
/// `methods` names what completes it: `totp`, `passkey`, `recovery_code`.
pub async fn issue<R: Roles>(
    ctx: &EndpointCtx<'_>,
    user: Uuid,
    client: Uuid,
    need: Need,
    cookie: bool,
) -> Result<HttpResponse, ApiError> {
    let (token, webauthn) = store::<R>(ctx, user, client, need, cookie).await?;
    let enrol = need == Need::Enrolment;
    let kinds: Vec<FactorKind> = factors::of_user::<R>(ctx.runtime().db(), ctx.tenant()?, user)
        .await?
        .iter()
        .filter(|f| f.confirmed_at().is_some())
        .map(|f| f.kind())
        .collect();
    let mut methods = Vec::new();
    if enrol || kinds.contains(&FactorKind::Totp) {
        methods.push("totp");
    }
    if webauthn.is_some() {
        methods.push("passkey");
    }
    if !enrol {
        methods.push("recovery_code");
    }
    let mut body = json!({
        "mfa_required": true,
        "mfa_challenge": token,
        "expires_in": LIFETIME.num_seconds(),
        "enrol": enrol,
        "methods": methods,
    });
    if let Some(options) = webauthn {
        body["webauthn"] = options;
    }
    Ok(http::respond(200, &body))
}

/// Stores a challenge for `user` signing in to `client` (`cookie`: the sign-in ends in a
/// cookie session); the raw token, whose digest alone is stored, and when the user has
/// passkeys the WebAuthn request options (`{"publicKey": {...}}`) it also accepts an
/// assertion to, whose state it keeps.
pub async fn store<R: Roles>(
    ctx: &EndpointCtx<'_>,
    user: Uuid,
    client: Uuid,
    need: Need,
    cookie: bool,
) -> Result<(String, Option<Value>), ApiError> {
    let rt = ctx.runtime();
    let token = secret::random_token("kgm_", 32);
    let (options, webauthn_state) = match need {
        Need::Code => passkey_request::<R>(ctx, user).await?,
        _ => (None, None),
    };
    let row = NewMfaChallenge {
        tenant_id: ctx.tenant()?,
        id: Uuid::new_v4(),
        challenge_digest: secret::digest(&token),
        user_id: user,
        client_id: client,
        enrol: need == Need::Enrolment,
        cookie,
        expires_at: crate::now() + LIFETIME,
        webauthn_state,
    };
    let tx = rt.begin_write().await?;
    crud::insert_new::<R::MfaChallenge>(&*tx, row).await?;
    tx.commit().await?;
    Ok((token, options))
}

/// WebAuthn request options naming `user`'s passkeys, and the state that checks the answer;
/// nothing when they have none (or the public URL cannot be a relying party).
async fn passkey_request<R: Roles>(
    ctx: &EndpointCtx<'_>,
    user: Uuid,
) -> Result<(Option<Value>, Option<String>), ApiError> {
    let passkeys: Vec<_> = factors::of_user::<R>(ctx.runtime().db(), ctx.tenant()?, user)
        .await?
        .iter()
        .filter(|f| f.confirmed_at().is_some())
        .filter_map(passkey::load::<R>)
        .collect();
    let Ok(rp) = passkey::relying_party(ctx) else { return Ok((None, None)) };
    if passkeys.is_empty() {
        return Ok((None, None));
    }
    let (options, state) = rp.start_passkey_authentication(&passkeys).map_err(ApiError::internal)?;
    let options = serde_json::to_value(options).map_err(ApiError::internal)?;
    Ok((Some(options), Some(serde_json::to_string(&state).map_err(ApiError::internal)?)))
}

/// The live challenge `token` names; a 401 saying why otherwise (unknown, expired, used).
pub async fn find<R: Roles>(ctx: &EndpointCtx<'_>, token: &str) -> Result<ChallengeModel<R>, ApiError> {
    let refused = |why: &str| ApiError::unauthorized(format!("the MFA challenge {why}; sign in again"), CHALLENGE);
    let digest = secret::digest(token);
    let Some(row) =
        crud::find_where(ctx.runtime().db(), ctx.tenant()?, R::MfaChallenge::CHALLENGE_DIGEST, digest).await?
    else {
        return Err(refused("is unknown"));
    };
    if row.used_at().is_some() {
        return Err(refused("was already used"));
    }
    if row.expires_at() <= crate::now() {
        return Err(refused("has expired"));
    }
    Ok(row)
}

/// Inside a write transaction: marks the challenge used; whether this call did.
pub async fn claim<R: Roles>(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, ApiError> {
    crud::claim(db, id, R::MfaChallenge::USED_AT, [R::MfaChallenge::USED_AT.set(crate::now())]).await
}
