//! A user's factors: listing, enrolling TOTP, checking a code against them (each time step
//! accepted once, RFC 6238 §5.2), and their JSON view, which never holds a secret.

use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use super::totp;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{MfaFactor, MfaFactorColumns, NewMfaFactor, Roles};
use crate::vocab::FactorKind;

/// A factor row.
pub type FactorModel<R> = <<R as Roles>::MfaFactor as EntityTrait>::Model;

/// Every factor of `user`, oldest first.
pub async fn of_user<R: Roles>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
) -> Result<Vec<FactorModel<R>>, ApiError> {
    Ok(crud::scoped_find::<R::MfaFactor>(Some(tenant))
        .filter(R::MfaFactor::USER_ID.eq(user))
        .order_by_asc(<R::MfaFactor as crud::Resource>::pk())
        .all(db)
        .await?)
}

/// Whether `user` has a confirmed factor.
pub async fn has_confirmed<R: Roles>(db: &impl ConnectionTrait, tenant: Uuid, user: Uuid) -> Result<bool, ApiError> {
    Ok(of_user::<R>(db, tenant, user).await?.iter().any(|f| f.confirmed_at().is_some()))
}

/// The factor `id` of `user`; 404 when it is another user's or another tenant's.
pub async fn owned<R: Roles>(ctx: &EndpointCtx<'_>, user: Uuid, id: Uuid) -> Result<FactorModel<R>, ApiError> {
    crud::find_optional::<R::MfaFactor>(ctx.runtime().db(), Some(ctx.tenant()?), id)
        .await?
        .filter(|factor| factor.user_id() == user)
        .ok_or_else(|| ApiError::not_found("factor"))
}

/// Starts TOTP enrolment for `user` (login name `account`): an unconfirmed factor replacing any
/// earlier unconfirmed one; its id and what the user's app needs.
pub async fn enrol_totp<R: Roles>(
    ctx: &EndpointCtx<'_>,
    user: Uuid,
    account: &str,
    label: String,
) -> Result<(Uuid, totp::Enrolment), ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let id = Uuid::new_v4();
    let enrolment = totp::enrol(rt.keys(), id, ctx.tenant_key()?, account)?;
    let stale: Vec<Uuid> = of_user::<R>(rt.db(), tenant, user)
        .await?
        .iter()
        .filter(|f| f.confirmed_at().is_none())
        .map(|f| f.id())
        .collect();
    let row = NewMfaFactor {
        tenant_id: tenant,
        id,
        user_id: user,
        kind: FactorKind::Totp,
        label,
        secret_sealed: Some(enrolment.sealed.clone()),
        confirmed_at: None,
        credential_id: None,
        passkey: None,
        sign_count: None,
        backup_eligible: None,
        backup_state: None,
    };
    let tx = rt.begin_write().await?;
    for stale in stale {
        crud::delete_id::<R::MfaFactor>(&*tx, stale).await?;
    }
    crud::insert_new::<R::MfaFactor>(&*tx, row).await?;
    tx.commit().await?;
    Ok((id, enrolment))
}

/// What became of a code.
pub enum Verdict {
    /// Accepted for the factor with this id.
    Accepted(Uuid),
    /// It is no factor's current code.
    Wrong,
    /// It is right, but its time step was already used (RFC 6238 §5.2: each code once).
    Replayed,
}

/// Checks `code` against the TOTP factors among `factors` and, on a match, claims its time step
/// inside `db` (a write transaction), confirming the factor if it was not yet; the factor's id.
pub async fn accept_code<R: Roles>(
    ctx: &EndpointCtx<'_>,
    db: &impl ConnectionTrait,
    factors: &[FactorModel<R>],
    code: &str,
) -> Result<Verdict, ApiError> {
    let now = crate::now();
    let unix = u64::try_from(now.timestamp()).unwrap_or_default();
    for factor in factors.iter().filter(|f| f.kind() == FactorKind::Totp) {
        let Some(sealed) = factor.secret_sealed() else { continue };
        let Some(step) = totp::matching_step(ctx.runtime().keys(), factor.id(), sealed, code, unix)? else {
            continue;
        };
        let mut values = vec![
            R::MfaFactor::LAST_USED_STEP.set(Some(step)),
            R::MfaFactor::LAST_USED_AT.set(Some(now)),
            R::MfaFactor::UPDATED_AT.set(now),
        ];
        if factor.confirmed_at().is_none() {
            values.push(R::MfaFactor::CONFIRMED_AT.set(Some(now)));
        }
        let claimed = crud::claim_below(db, factor.id(), R::MfaFactor::LAST_USED_STEP, step, values).await?;
        return Ok(if claimed { Verdict::Accepted(factor.id()) } else { Verdict::Replayed });
    }
    Ok(Verdict::Wrong)
}

/// What a client sees of a factor: never its secret or last step; a passkey's credential id,
/// signature counter and backup flags besides.
pub fn view<R: Roles>(factor: &FactorModel<R>) -> Value {
    let mut view = json!({
        "id": factor.id(),
        "kind": factor.kind(),
        "label": factor.label(),
        "confirmed": factor.confirmed_at().is_some(),
        "confirmed_at": factor.confirmed_at(),
        "last_used_at": factor.last_used_at(),
        "created_at": factor.created_at(),
    });
    if factor.kind() == FactorKind::Passkey {
        view["credential_id"] = json!(factor.credential_id());
        view["sign_count"] = json!(factor.sign_count());
        view["backup_eligible"] = json!(factor.backup_eligible());
        view["backup_state"] = json!(factor.backup_state());
    }
    view
}
