//! Recent authentication for sensitive changes: adding a second factor (TOTP start and confirm,
//! passkey options and registration) or removing one, making new recovery codes, changing the
//! email address (where reset links go), changing the password. A stolen session cookie or
//! access token should not be enough to lock the owner out, weaken their account or plant a way
//! back in, so these changes need a sign-in no older than
//! [`crate::RuntimeConfig::reauthentication_window`] (10 minutes by default) — the session's
//! or access token's `auth_time` — or the current password entered with the change (the account
//! page's forms ask for it when the session is older). An API key is no sign-in: it never counts
//! as recent. The password change itself always carries the current password.
//!
//! The account API answers a stale caller 401 with RFC 9470 §3's challenge,
//! `Bearer error="insufficient_user_authentication", max_age="600"`: sign in again (a new token
//! or cookie session) and retry.

use chrono::{DateTime, Utc};

use super::credentials;
use super::principal::Principal;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{Account, Roles};

/// What a wrong re-entered password is told (a 422 on the field `password`).
pub const WRONG_PASSWORD: &str = "is not the current password";

/// Whether an authentication at `auth_time` is recent enough for a sensitive change now.
pub fn is_recent(rt: &crate::Runtime, auth_time: Option<DateTime<Utc>>) -> bool {
    auth_time.is_some_and(|at| crate::now() - at <= rt.config().reauthentication_window)
}

/// Admits a sensitive change by `caller`: at once when they signed in recently; else when
/// `password` (entered with the change) is theirs. A wrong password is a 422 on `password`
/// that counts against the sign-in throttle (429 once it is exceeded); no password is a 401
/// [`ApiError::reauthentication_required`].
pub async fn require<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &Principal,
    password: Option<String>,
) -> Result<(), ApiError> {
    let rt = ctx.runtime();
    if is_recent(rt, caller.auth_time) {
        return Ok(());
    }
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(stale(rt));
    };
    let account = crud::find::<R::Account>(rt.db(), Some(ctx.tenant()?), caller.user_id).await?;
    confirm_password(ctx, &account, password, "password").await
}

/// Checks that `password` is `account`'s, under the sign-in throttle for its username and the
/// client's IP: 429 while throttled, a 422 on `field` when wrong (counted as a failure).
pub(crate) async fn confirm_password(
    ctx: &EndpointCtx<'_>,
    account: &impl Account,
    password: String,
    field: &str,
) -> Result<(), ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let ip = credentials::client_ip(ctx);
    let name = account.username();
    if let Some(wait) = rt.throttle().check(tenant, name, &ip).await? {
        return Err(ApiError::too_many_requests(format!("too many failed attempts; retry in {wait} s"), wait));
    }
    if !credentials::verify(rt, Some(account), password).await?.matches() {
        rt.throttle().failed(tenant, name, &ip).await?;
        return Err(ApiError::invalid_field(field, WRONG_PASSWORD));
    }
    Ok(())
}

/// The 401 a stale caller gets: RFC 9470 §3 `insufficient_user_authentication` with `max_age`.
fn stale(rt: &crate::Runtime) -> ApiError {
    let window = rt.config().reauthentication_window.num_seconds();
    let minutes = (window + 59) / 60;
    let detail = format!("this change needs a sign-in from the last {minutes} minutes; sign in again and retry");
    let challenge = format!(
        "Bearer realm=\"keygate\", error=\"insufficient_user_authentication\", \
         error_description=\"a more recent sign-in is required\", max_age=\"{window}\""
    );
    ApiError::reauthentication_required(detail, &challenge)
}
