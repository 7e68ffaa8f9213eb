//! Checking a username (or email) and password, for the account API and the sign-in page alike:
//! brute-force throttling, the same bcrypt work for unknown users, and re-hashing at the
//! configured cost or of the prepared form (see [`crate::password`]).

use sea_orm::EntityTrait;

use super::normalize::login_name;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::password;
use crate::roles::{Account, AccountColumns, Roles};

type AccountModel<R> = <<R as Roles>::Account as EntityTrait>::Model;

/// The result of a sign-in attempt.
pub enum Attempt<A> {
    /// The password is right and the account active.
    SignedIn(A),
    /// Unknown user, wrong password or disabled account (deliberately not told apart).
    Refused,
    /// Too many failures: retry after this many seconds.
    Throttled(u64),
}

/// The client's IP address as the throttle counts it (see [`crate::forwarded`]).
pub(crate) fn client_ip(ctx: &EndpointCtx<'_>) -> String {
    crate::forwarded::client_ip(ctx.request(), &ctx.runtime().config().trusted_proxies)
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

/// Checks `password` for the account named `name` (username or email, any case or form).
pub async fn attempt<R: Roles>(
    ctx: &EndpointCtx<'_>,
    name: &str,
    password: String,
) -> Result<Attempt<AccountModel<R>>, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let typed = login_name(name);
    // The socket's address, or the one a trusted proxy forwarded: a forwarded-for header from
    // anyone else would let a client pick its own bucket.
    let ip = client_ip(ctx);
    let account = find_by_login::<R>(ctx, &typed).await?;
    // Failures count per account, whichever of its names (username, email) was typed, or
    // alternating them would double the attempts; a name no account has counts by itself.
    let name = account.as_ref().map_or(typed, |account| account.username().to_owned());
    if let Some(wait) = rt.throttle().check(tenant, &name, &ip).await? {
        return Ok(Attempt::Throttled(wait));
    }
    let verified = verify(rt, account.as_ref(), password.clone()).await?;
    match account {
        Some(account) if verified.matches() && account.is_active() => {
            rt.throttle().succeeded(tenant, &name, &ip).await?;
            rehash_if_needed::<R>(ctx, &account, password, verified).await?;
            Ok(Attempt::SignedIn(account))
        }
        _ => {
            rt.throttle().failed(tenant, &name, &ip).await?;
            if let Some(account) = &account
                && let Some(wait) = rt.throttle().check(tenant, &name, &ip).await?
            {
                locked_out::<R>(ctx, account.id(), wait, "password").await?;
            }
            Ok(Attempt::Refused)
        }
    }
}

/// This failure locked the account (for `wait` seconds, from this IP at least): recorded as a
/// `sign_in.locked_out` security event, `{"retry_after": seconds, "factor": "password" | "mfa"}`
/// (which attempts were locked). Attempts while locked are refused before they count, so each
/// lock is recorded once.
pub(crate) async fn locked_out<R: Roles>(
    ctx: &EndpointCtx<'_>,
    user: uuid::Uuid,
    wait: u64,
    factor: &str,
) -> Result<(), ApiError> {
    use crate::security_events::{self, EventType, Origin};
    let rt = ctx.runtime();
    let tx = rt.begin_write().await?;
    let data = serde_json::json!({ "retry_after": wait, "factor": factor });
    security_events::record::<R>(&*tx, ctx.tenant()?, user, EventType::SignInLockedOut, &Origin::of(ctx), data).await?;
    tx.commit().await
}

/// The account whose normalized username or email is `name`. A name no account can have (empty,
/// or with control characters, which PostgreSQL cannot even compare) is nobody's.
async fn find_by_login<R: Roles>(ctx: &EndpointCtx<'_>, name: &str) -> Result<Option<AccountModel<R>>, ApiError> {
    find_account::<R>(ctx.runtime().db(), ctx.tenant()?, name).await
}

/// The account of `tenant` whose normalized username or email is `name` (see
/// [`find_by_login`]).
pub(crate) async fn find_account<R: Roles>(
    db: &impl sea_orm::ConnectionTrait,
    tenant: uuid::Uuid,
    name: &str,
) -> Result<Option<AccountModel<R>>, ApiError> {
    if name.is_empty() || crate::check::has_control(name) {
        return Ok(None);
    }
    // One lookup per login field, each on its own per-tenant unique index, rather than one OR
    // over both, which a cached generic plan may serve from any index led by `tenant_id`,
    // reading the whole tenant. A string names at most one account across both fields
    // (`unique_across`), so the first match is the only one.
    for column in [R::Account::USERNAME, R::Account::EMAIL] {
        if let Some(account) = crud::find_where(db, tenant, column, name).await? {
            return Ok(Some(account));
        }
    }
    Ok(None)
}

/// Checks `password` against the account's hash, or against a dummy hash when there is no
/// account, so both cost the same bcrypt work and response times reveal nothing.
pub async fn verify(
    rt: &crate::Runtime,
    account: Option<&impl Account>,
    password: String,
) -> Result<password::Verified, ApiError> {
    let (stored, known) = match account {
        Some(account) => (account.password_hash().to_owned(), true),
        None => (dummy_hash(rt.config().bcrypt_cost).await?, false),
    };
    let verified = match password::verify(password, stored).await {
        Ok(verified) => verified,
        Err(error @ password::PasswordError::Pool) => return Err(ApiError::internal(error)),
        // A malformed stored hash matches nothing.
        Err(_) => password::Verified::No,
    };
    Ok(if known { verified } else { password::Verified::No })
}

/// A bcrypt hash of a random password at the configured cost, made once.
async fn dummy_hash(cost: u32) -> Result<String, ApiError> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| password::hash(crate::secret::random_token("", 16), cost))
        .await
        .cloned()
        .map_err(ApiError::internal)
}

/// Re-hashes a verified password whose hash used another bcrypt cost than the configured one, or
/// was made of the raw password before passwords were prepared (a [`password::Verified::Legacy`]
/// match). A legacy password the profile now refuses keeps its old hash.
async fn rehash_if_needed<R: Roles>(
    ctx: &EndpointCtx<'_>,
    account: &AccountModel<R>,
    password: String,
    verified: password::Verified,
) -> Result<(), ApiError> {
    let rt = ctx.runtime();
    let cost = rt.config().bcrypt_cost;
    if password::cost_of(account.password_hash()) == Some(cost) && verified == password::Verified::Yes {
        return Ok(());
    }
    let hash = match password::hash(password, cost).await {
        Ok(hash) => hash,
        Err(password::PasswordError::Disallowed | password::PasswordError::TooLong(_)) => return Ok(()),
        Err(error) => return Err(ApiError::internal(error)),
    };
    let tx = rt.begin_write().await?;
    crud::set(&*tx, ctx.tenant()?, account.id(), [R::Account::PASSWORD_HASH.set(hash)]).await?;
    tx.wrote::<R::Account>();
    tx.commit().await?;
    Ok(())
}
