//! Answering a sign-in challenge, for the account API and the sign-in page alike: a TOTP code
//! (of a confirmed factor, or for an enrolment challenge of the new factor, which it confirms)
//! or a recovery code, or a WebAuthn assertion of one of the user's passkeys. The code (or the
//! passkey's signature counter) and the challenge are claimed in one transaction, so each works
//! once; wrong answers count against the code throttle. A factor enrolled this way is recorded
//! as `factor.added`, a recovery code used as `recovery_code.used`.

use webauthn_rs::prelude::{AuthenticationResult, PasskeyAuthentication, PublicKeyCredential, WebauthnError};

use super::challenge::{self, ChallengeModel};
use super::factors::{self, FactorModel, Verdict};
use super::passkey::{self, Assertion};
use super::{amr, recovery, throttle};
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{MfaChallenge, MfaFactor, RecoveryCode, Roles};
use crate::security_events::{self, EventType, Origin};
use serde_json::json;

/// What the user typed.
pub enum Answer<'a> {
    /// A TOTP code.
    Code(&'a str),
    /// A recovery code (not for enrolment challenges: the user has no factor yet).
    RecoveryCode(&'a str),
    /// A WebAuthn assertion (`navigator.credentials.get`) to the challenge's request options.
    Passkey(&'a PublicKeyCredential),
}

/// How a challenge's answer went.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Right: the challenge is used up and the sign-in may finish, with these `amr` methods.
    Accepted(Vec<String>),
    /// Refused, with why (to show the user); the challenge stays usable until it expires.
    Refused(&'static str),
}

/// Checks `answer` to `challenge` (after the throttle allows it: 429 otherwise).
pub async fn check<R: Roles>(
    ctx: &EndpointCtx<'_>,
    challenge: &ChallengeModel<R>,
    answer: Answer<'_>,
) -> Result<Outcome, ApiError> {
    let user = challenge.user_id();
    throttle::check(ctx, user).await?;
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    // An enrolment challenge completes with the new (unconfirmed) factor's first code; any
    // other with a confirmed factor's.
    let candidates: Vec<_> = factors::of_user::<R>(rt.db(), tenant, user)
        .await?
        .into_iter()
        .filter(|f| f.confirmed_at().is_some() != challenge.enrol())
        .collect();
    let verified = match answer {
        Answer::Passkey(assertion) => Some(verify_passkey::<R>(ctx, challenge, &candidates, assertion)?),
        _ => None,
    };
    let mut amr = amr::password_and_otp();
    let tx = rt.begin_write().await?;
    let origin = Origin::of(ctx);
    let refusal = match answer {
        Answer::Code(code) => match factors::accept_code::<R>(ctx, &*tx, &candidates, code).await? {
            Verdict::Accepted(factor) if challenge.enrol() => {
                let data = json!({ "factor_id": factor, "kind": "totp", "via": "sign_in" });
                security_events::record::<R>(&*tx, tenant, user, EventType::FactorAdded, &origin, data).await?;
                None
            }
            Verdict::Accepted(_) => None,
            Verdict::Wrong => Some("the code is incorrect"),
            Verdict::Replayed => Some("the code was already used; wait for the next one"),
        },
        Answer::Passkey(_) => match verified {
            Some(Checked::Verified(factor, result)) => match passkey::accept::<R>(ctx, &*tx, factor, result).await? {
                Assertion::Accepted { method, .. } => {
                    amr = amr::password_and_passkey(method);
                    None
                }
                Assertion::Refused(detail) => Some(detail),
                Assertion::Cloned(counter) => {
                    tx.rollback().await?;
                    passkey::record_clone::<R>(ctx, factor, counter).await?;
                    throttle::failed::<R>(ctx, user).await?;
                    return Ok(Outcome::Refused(passkey::CLONED));
                }
            },
            Some(Checked::Refused(detail)) => Some(detail),
            None => Some("send the passkey's answer"),
        },
        Answer::RecoveryCode(_) if challenge.enrol() => Some("this sign-in needs a new factor: enrol one first"),
        Answer::RecoveryCode(code) => match recovery::find::<R>(&*tx, tenant, user, code).await? {
            Some(row) if recovery::claim::<R>(&*tx, row.id()).await? => {
                let left = recovery::remaining::<R>(&*tx, tenant, user).await?;
                let data = json!({ "recovery_code_id": row.id(), "codes_left": left });
                security_events::record::<R>(&*tx, tenant, user, EventType::RecoveryCodeUsed, &origin, data).await?;
                None
            }
            _ => Some("the recovery code is incorrect or was already used"),
        },
    };
    if let Some(detail) = refusal {
        // The refusal may rest on what earlier writers of the batch wrote (a code of the same
        // step just used): wait for it to be committed.
        tx.rollback().await?;
        throttle::failed::<R>(ctx, user).await?;
        return Ok(Outcome::Refused(detail));
    }
    if !challenge::claim::<R>(&*tx, challenge.id()).await? {
        tx.rollback().await?;
        return Ok(Outcome::Refused("the sign-in was already completed; sign in again"));
    }
    tx.commit().await?;
    throttle::succeeded(ctx, user).await?;
    Ok(Outcome::Accepted(amr))
}

/// A passkey answer, checked against the challenge's state.
enum Checked<'f, R: Roles> {
    /// The factor it names, and webauthn-rs's verdict on the assertion.
    Verified(&'f FactorModel<R>, Result<AuthenticationResult, WebauthnError>),
    /// Why it cannot be checked at all.
    Refused(&'static str),
}

fn verify_passkey<'f, R: Roles>(
    ctx: &EndpointCtx<'_>,
    challenge: &ChallengeModel<R>,
    candidates: &'f [FactorModel<R>],
    assertion: &PublicKeyCredential,
) -> Result<Checked<'f, R>, ApiError> {
    let Some(state) = challenge.webauthn_state() else {
        return Ok(Checked::Refused("this sign-in was not offered a passkey; use a code"));
    };
    let state: PasskeyAuthentication = serde_json::from_str(state).map_err(ApiError::internal)?;
    let Some(factor) = passkey::named::<R>(candidates, assertion) else {
        return Ok(Checked::Refused("the passkey is not registered to this account (or was removed)"));
    };
    let rp = passkey::relying_party(ctx)?;
    Ok(Checked::Verified(factor, rp.finish_passkey_authentication(assertion, &state)))
}
