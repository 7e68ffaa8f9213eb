//! Wrong second-factor codes are throttled like wrong passwords: the sign-in throttle
//! ([`crate::account::throttle`]) counts them under a key of their own per user, so six-digit
//! codes cannot be guessed faster than passwords, and a right code clears the record.

use uuid::Uuid;

use crate::account::credentials::client_ip;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;

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

/// Records a wrong (or replayed) code.
pub async fn failed(ctx: &EndpointCtx<'_>, user: Uuid) -> Result<(), ApiError> {
    ctx.runtime().throttle().failed(ctx.tenant()?, &key(user), &client_ip(ctx)).await
}

/// Records a right code.
pub async fn succeeded(ctx: &EndpointCtx<'_>, user: Uuid) -> Result<(), ApiError> {
    ctx.runtime().throttle().succeeded(ctx.tenant()?, &key(user), &client_ip(ctx)).await
}
