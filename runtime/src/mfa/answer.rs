//! Answering a sign-in challenge, for the account API and the sign-in page alike: a TOTP code
//! (of a confirmed factor, or for an enrolment challenge of the new factor, which it confirms)
//! or a recovery code. The code and the challenge are claimed in one transaction, so each
//! works once; wrong answers count against the code throttle. A factor enrolled this way is
//! recorded as `factor.added`, a recovery code used as `recovery_code.used`.

use super::challenge::{self, ChallengeModel};
use super::factors::{self, Verdict};
use super::{recovery, throttle};
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
}

/// How a challenge's answer went.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Right: the challenge is used up and the sign-in may finish.
    Accepted,
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
    Ok(Outcome::Accepted)
}
