//! Every hook `schema.yaml` may name, one short function each; the bodies live in domain modules.
//!
//! keygate-codegen reads this file: a hook's signature is its registration. The first parameter
//! says when it runs (`PrepareCtx`: before the write transaction opens, `PreCtx`: before the
//! write, `PostCtx`: after), and each further parameter
//! binds the entity field of the same name (or the one `args:` names) as an `Input` (virtual
//! input), `Column` (stored column) or `Output` (virtual output).

use chrono::{DateTime, Utc};

use uuid::Uuid;

use crate::account::grants;
use crate::hook_context::{Column, HookError, HookResult, Input, Output, PostCtx, PreCtx, PrepareCtx};
use crate::roles::Roles;
use crate::string_list::StringList;
use crate::vocab::{ApplicationType, ClientAuthMethod};
use crate::{password, secret, uri};

/// Hashes the plaintext `password` with bcrypt into `password_hash`, prepared by the OpaqueString
/// profile (RFC 8265 §4.2; a password it refuses is a 422); without a password (a partial
/// update) the stored hash is kept. A prepare hook: bcrypt runs on the blocking pool before the
/// write transaction opens, so other writers never wait behind it.
pub async fn hash_pw(
    ctx: &mut PrepareCtx<'_>,
    password: Input<String>,
    password_hash: Column<'_, String>,
) -> HookResult {
    let Some(plain) = password.into_inner() else { return Ok(()) };
    let hash = password::hash(plain, ctx.config().bcrypt_cost).await.map_err(|error| match error {
        password::PasswordError::TooLong(_) | password::PasswordError::Disallowed => {
            HookError::invalid("password", error.to_string())
        }
        other => HookError::Failed(Box::new(other)),
    })?;
    password_hash.set(hash);
    Ok(())
}

/// Stores usernames and emails in one spelling (NFKC, lowercase, trimmed), so uniqueness and
/// sign-in do not depend on case or Unicode form.
pub async fn normalize_login(
    _ctx: &mut PreCtx<'_>,
    username: Column<'_, String>,
    email: Column<'_, String>,
) -> HookResult {
    if let Some(value) = username.get().map(|v| crate::account::normalize::login_name(v)) {
        username.set(value);
    }
    if let Some(value) = email.get().map(|v| crate::account::normalize::login_name(v)) {
        email.set(value);
    }
    Ok(())
}

/// Refuses a user's `roles` when they add a role the caller may not grant: only a superadmin
/// grants `superadmin`, a user only roles they hold and none to themselves; and an update of
/// another user who holds a role the caller may not grant (403, [`crate::account::grants`]).
pub async fn check_user_role_grant<R: Roles>(ctx: &mut PreCtx<'_>, roles: Column<'_, StringList>) -> HookResult {
    grants::check_user::<R>(ctx, roles.get()).await
}

/// Refuses a group's `roles` when they add a role the caller may not grant (every member gets
/// them; 403, [`crate::account::grants`]).
pub async fn check_group_role_grant<R: Roles>(ctx: &mut PreCtx<'_>, roles: Column<'_, StringList>) -> HookResult {
    grants::check_group::<R>(ctx, roles.get()).await
}

/// Refuses a membership whose group has a role the caller may not grant to `user_id` (joining
/// gives every role of the group; 403, [`crate::account::grants`]).
pub async fn check_group_join<R: Roles>(
    ctx: &mut PreCtx<'_>,
    group_id: Column<'_, Uuid>,
    user_id: Column<'_, Uuid>,
) -> HookResult {
    let (Some(group), Some(user)) = (group_id.get(), user_id.get()) else { return Ok(()) };
    grants::check_join::<R>(ctx, *group, *user).await
}

/// Refuses an API key for another user who holds a role the caller may not grant: the key
/// would act as them (403, [`crate::account::grants`]).
pub async fn check_key_holder<R: Roles>(ctx: &mut PreCtx<'_>, user_id: Column<'_, Uuid>) -> HookResult {
    let Some(user) = user_id.get() else { return Ok(()) };
    grants::check_key_holder::<R>(ctx, *user).await
}

/// Generates a client secret, stores only its digest, and returns the secret once. A public
/// client (`none`) or one that signs assertions (`private_key_jwt`) gets no secret: its stored
/// digest is empty, which no secret matches.
pub async fn hash_client_secret(
    _ctx: &mut PreCtx<'_>,
    token_endpoint_auth_method: Column<'_, ClientAuthMethod>,
    client_secret: Output<'_, String>,
    client_secret_hash: Column<'_, String>,
) -> HookResult {
    if token_endpoint_auth_method.get().is_some_and(|method| !method.has_secret()) {
        client_secret_hash.set(String::new());
        return Ok(());
    }
    let raw = secret::random_token("kgs_", 32);
    client_secret_hash.set(secret::digest(&raw));
    client_secret.set(raw);
    Ok(())
}

/// Checks a client's `jwks`: a JWK Set of public keys only (a private member such as `d` is
/// refused, so a leaked registration leaks nothing), required for `private_key_jwt`.
pub async fn check_client_keys(
    _ctx: &mut PreCtx<'_>,
    token_endpoint_auth_method: Column<'_, ClientAuthMethod>,
    jwks: Column<'_, Option<serde_json::Value>>,
) -> HookResult {
    let keys = jwks.get().and_then(Option::as_ref);
    if let Some(keys) = keys {
        crate::oauth::client_auth::check_jwks(keys).map_err(|problem| HookError::invalid("jwks", problem))?;
    }
    if token_endpoint_auth_method.get() == Some(&ClientAuthMethod::PrivateKeyJwt) && keys.is_none() {
        return Err(HookError::invalid("jwks", "is required when token_endpoint_auth_method is private_key_jwt"));
    }
    Ok(())
}

/// Checks a client's URIs as the row will be stored (on updates, with the stored values the body
/// leaves alone, so a change of `application_type` re-checks the redirect URIs): every
/// `redirect_uris` and `post_logout_redirect_uris` entry is a redirect URI its application type
/// may use ([`crate::uri::redirect_uri`]); every `allowed_cors_origins` entry is an origin,
/// stored normalized and without repeats ([`crate::uri::origins`], as dynamic registration
/// stores them). A 422 names the field and the value.
pub async fn check_client_uris(
    _ctx: &mut PreCtx<'_>,
    application_type: Column<'_, ApplicationType>,
    redirect_uris: Column<'_, StringList>,
    post_logout_redirect_uris: Column<'_, StringList>,
    allowed_cors_origins: Column<'_, StringList>,
) -> HookResult {
    let kind = application_type.get().copied().unwrap_or(ApplicationType::Web);
    let invalid = |field, value: &str, error: uri::UriError| HookError::invalid(field, format!("`{value}` {error}"));
    for (field, list) in [("redirect_uris", &redirect_uris), ("post_logout_redirect_uris", &post_logout_redirect_uris)]
    {
        for value in list.get().map_or(&[][..], |l| &l.0) {
            uri::redirect_uri(value, kind).map_err(|error| invalid(field, value, error))?;
        }
    }
    let Some(origins) = allowed_cors_origins.get() else { return Ok(()) };
    let normalized =
        uri::origins(&origins.0).map_err(|(value, error)| invalid("allowed_cors_origins", value, error))?;
    if normalized != origins.0 {
        allowed_cors_origins.set(StringList(normalized));
    }
    Ok(())
}

/// Checks a tenant's dynamic registration policy (`registration_grant_types`,
/// `registration_auth_methods`, `registration_scopes`): only grant types and methods this server
/// implements, only RFC 6749 §3.3 scope tokens; each list is stored without repeats. Null keeps
/// the default.
pub async fn check_registration_policy(
    _ctx: &mut PreCtx<'_>,
    registration_grant_types: Column<'_, Option<StringList>>,
    registration_auth_methods: Column<'_, Option<StringList>>,
    registration_scopes: Column<'_, Option<StringList>>,
) -> HookResult {
    use crate::oauth::registration_policy::{check_auth_methods, check_grant_types, check_scopes};
    check_list("registration_grant_types", registration_grant_types, check_grant_types)?;
    check_list("registration_auth_methods", registration_auth_methods, check_auth_methods)?;
    check_list("registration_scopes", registration_scopes, check_scopes)
}

/// Replaces a nullable list column's value with what `check` makes of it, or refuses `field`.
fn check_list(
    field: &'static str,
    column: Column<'_, Option<StringList>>,
    check: fn(&StringList) -> Result<StringList, String>,
) -> HookResult {
    if let Some(Some(values)) = column.get() {
        let checked = check(values).map_err(|problem| HookError::invalid(field, problem))?;
        column.set(Some(checked));
    }
    Ok(())
}

/// Generates an `sk_` key with 256 bits of entropy, stores its digest and a display prefix, and
/// leaves the raw key for `return_raw_key`.
pub async fn generate_api_key(
    ctx: &mut PreCtx<'_>,
    digest: Column<'_, String>,
    prefix: Column<'_, String>,
) -> HookResult {
    let raw = secret::random_token("sk_", 32);
    digest.set(secret::digest(&raw));
    prefix.set(raw[..11].to_owned());
    ctx.stash(RAW_KEY, raw);
    Ok(())
}

/// Puts the raw key made by `generate_api_key` in the response, after the row is written.
pub async fn return_raw_key(ctx: &mut PostCtx<'_>, key: Output<'_, String>) -> HookResult {
    let raw = ctx
        .take_stashed(RAW_KEY)
        .ok_or_else(|| HookError::Failed("`return_raw_key` needs `generate_api_key` in the same op's `pre`".into()))?;
    key.set(raw);
    Ok(())
}

const RAW_KEY: &str = "raw_key";

/// Generates a one-time secret (e.g. an authorization code), stores its digest, returns it once.
pub async fn generate_secret(
    _ctx: &mut PreCtx<'_>,
    digest: Column<'_, String>,
    secret: Output<'_, String>,
) -> HookResult {
    let raw = secret::random_token("", 32);
    digest.set(secret::digest(&raw));
    secret.set(raw);
    Ok(())
}

/// Remembers a revoked token by its SHA-256 digest; the token itself is never stored.
pub async fn store_revoked_token(
    _ctx: &mut PreCtx<'_>,
    token: Input<String>,
    token_digest: Column<'_, String>,
) -> HookResult {
    let Some(token) = token.into_inner() else { return Err(HookError::invalid("token", "is required")) };
    if token.trim().is_empty() {
        return Err(HookError::invalid("token", "must not be empty"));
    }
    token_digest.set(secret::digest(&token));
    Ok(())
}

/// RFC 9126 §2.2: assigns a `request_uri` (`urn:ietf:params:oauth:request_uri:` + 256 random
/// bits) and a short lifetime.
pub async fn persist_par_request(
    ctx: &mut PreCtx<'_>,
    request_uri: Column<'_, String>,
    expires_at: Column<'_, DateTime<Utc>>,
) -> HookResult {
    request_uri.set(secret::random_token("urn:ietf:params:oauth:request_uri:", 32));
    expires_at.set(crate::now() + ctx.config().par_lifetime);
    Ok(())
}

/// RFC 8628 §3.2: issues a device code (stored as a digest, returned once), a user code, an
/// expiry and the polling interval.
pub async fn issue_device_code(
    ctx: &mut PreCtx<'_>,
    device_code_digest: Column<'_, String>,
    user_code: Column<'_, String>,
    expires_at: Column<'_, DateTime<Utc>>,
    interval: Column<'_, i64>,
    device_code: Output<'_, String>,
) -> HookResult {
    let raw = secret::random_token("", 32);
    device_code_digest.set(secret::digest(&raw));
    device_code.set(raw);
    user_code.set(secret::user_code());
    expires_at.set(crate::now() + ctx.config().device_code_lifetime);
    interval.set(ctx.config().device_poll_interval.num_seconds());
    Ok(())
}

/// On an admin's delete of a second factor: records `factor.removed` for its user (`data:
/// {"factor_id", "kind", "by": "admin"}`), as the account API's removal does, in the delete's
/// transaction; refuses (403) a factor of a user holding a role the caller may not grant.
pub async fn record_factor_removal<R: Roles>(ctx: &mut PreCtx<'_>) -> HookResult {
    crate::mfa::api::on_admin_removal::<R>(ctx).await
}

/// On an admin update that changes a user's `email`: the new address is unverified (unless the
/// body sets `email_verified` itself), an `email.changed` security event is recorded, and the
/// old address is told once the update committed.
pub async fn unverify_changed_email<R: Roles>(
    ctx: &mut PreCtx<'_>,
    email: Column<'_, String>,
    email_verified: Column<'_, bool>,
) -> HookResult {
    crate::account::verify::on_admin_email_change::<R>(ctx, email, email_verified).await
}
