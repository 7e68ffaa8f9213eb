//! Changing the password while signed in: `POST /auth/password` and the account page's form.
//! The current password is checked under the sign-in throttle (so it is also the change's
//! re-authentication, [`super::reauth`]), the new one against the password policy; bcrypt runs
//! before the write transaction, which stores the hash, ends every other sign-in of the user
//! ([`super::sign_ins::end_others_in`]: other browser sessions, every grant but the caller's)
//! and records `password.changed`.

use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::json;

use super::api::{body, check_password, hash_password};
use super::principal::{self, Principal};
use super::{reauth, sign_ins};
use crate::check::Checks;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{AccountColumns, Roles};
use crate::security_events::{self, EventType, Origin};

/// Sets `caller`'s password to `new` once `current` is theirs. Errors: 422 on `new_password`
/// (the policy) or `current_password` (wrong; counts against the throttle), 429 while throttled.
pub async fn change<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    current: String,
    new: String,
) -> Result<(), ApiError> {
    let mut checks = Checks::default();
    check_password::<R>(&mut checks, "new_password", &new);
    checks.finish()?;
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let account = crud::find::<R::Account>(rt.db(), Some(tenant), caller.user_id).await?;
    reauth::confirm_password(ctx, &account, current, "current_password").await?;
    let hash = hash_password(rt, new).await?;
    let tx = rt.begin_write().await?;
    let values = [R::Account::PASSWORD_HASH.set(hash), R::Account::UPDATED_AT.set(crate::now())];
    crud::set(&*tx, tenant, caller.user_id, values).await?;
    super::links::end_resets::<R>(&*tx, tenant, caller.user_id).await?;
    sign_ins::end_others_in::<R>(&*tx, tenant, caller).await?;
    let origin = Origin::of(ctx);
    security_events::record::<R>(&*tx, tenant, caller.user_id, EventType::PasswordChanged, &origin, json!({})).await?;
    tx.wrote::<R::Account>();
    tx.commit().await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /auth/password` `{"current_password", "new_password"}`: 204, every other sign-in of the
/// user ended, the calling one kept (see [`change`]).
pub async fn change_json<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let request: PasswordChange = body(ctx)?;
    change::<R>(ctx, &caller, request.current_password, request.new_password).await?;
    Ok(crate::http::respond_empty(204))
}
