//! Wrong second-factor codes are throttled like wrong passwords: the sign-in throttle
//! ([`crate::account::throttle`]) counts them under a key of their own per user, so six-digit
//! codes cannot be guessed faster than passwords, and a right code clears the record.

use uuid::Uuid;

use crate::account::credentials::client_ip;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::Roles;

fn key(user: Uuid) -> String {
    format!("mfa:{user}")
}

/// 429 with `Retry-After` while the user's code attempts from this IP are delayed.
pub async fn check(ctx: &EndpointCtx<'_>, user: Uuid) -> Result<(), ApiError> {
    let rt = ctx.runtime();
    match rt.throttle().check(ctx.tenant()?, &key(user), &client_ip(ctx)).await? {
        Some(wait) => Err(ApiError::too_many_requests(format!("too many wrong codes; retry in {wait} s"), wait)),
        None => Ok(()),
    }
}

/// Records a wrong (or replayed) code; one that locks the user's code attempts is recorded as a
/// `sign_in.locked_out` security event (`factor: "mfa"`).
pub async fn failed<R: Roles>(ctx: &EndpointCtx<'_>, user: Uuid) -> Result<(), ApiError> {
    let (throttle, tenant, ip) = (ctx.runtime().throttle(), ctx.tenant()?, client_ip(ctx));
    throttle.failed(tenant, &key(user), &ip).await?;
    if let Some(wait) = throttle.check(tenant, &key(user), &ip).await? {
        crate::account::credentials::locked_out::<R>(ctx, user, wait, "mfa").await?;
    }
    Ok(())
}

/// Records a right code.
pub async fn succeeded(ctx: &EndpointCtx<'_>, user: Uuid) -> Result<(), ApiError> {
    ctx.runtime().throttle().succeeded(ctx.tenant()?, &key(user), &client_ip(ctx)).await
}
