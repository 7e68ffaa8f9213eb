//! Single-use links sent by email: a 256-bit random token in the URL, stored only as its SHA-256
//! digest (the `email_token` role) with its purpose, the address it went to, an expiry and a
//! `used_at` claimed once. A token that is unknown (mistyped, tampered), expired, already used,
//! or for another purpose is refused with a 422 naming `token` and saying which.

use chrono::Duration;
use sea_orm::QueryFilter;
use uuid::Uuid;

use crate::crud;
use crate::error::ApiError;
use crate::roles::{EmailToken, EmailTokenColumns, NewEmailToken, Roles};
use crate::secret;

/// The name a link's token goes by: its URL query parameter, form field, JSON member, and the
/// field its refusals name.
pub const TOKEN_FIELD: &str = "token";

/// How long a verification link works.
pub const VERIFY_LIFETIME: Duration = Duration::hours(24);
/// How long a password reset link works.
pub const RESET_LIFETIME: Duration = Duration::minutes(30);

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Marks the address it was sent to verified.
    VerifyEmail,
    /// Lets its holder set a new password.
    ResetPassword,
}

impl Purpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    /// How long a link of this purpose works.
    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::VerifyEmail => VERIFY_LIFETIME,
            Purpose::ResetPassword => RESET_LIFETIME,
        }
    }
}

type TokenModel<R> = <<R as Roles>::EmailToken as sea_orm::EntityTrait>::Model;

/// Stores a new link of `purpose` for `user`, sent to `email`, on `db` (a write transaction);
/// returns the raw token, which only the message carries.
pub async fn issue<R: Roles>(
    db: &impl sea_orm::ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
    purpose: Purpose,
    email: &str,
) -> Result<String, ApiError> {
    let raw = secret::random_token("", 32);
    let row = NewEmailToken {
        tenant_id: tenant,
        user_id: user,
        purpose: purpose.as_str().to_owned(),
        token_digest: secret::digest(&raw),
        email: email.to_owned(),
        expires_at: crate::now() + purpose.lifetime(),
    };
    crud::insert_new::<R::EmailToken>(db, row).await?;
    Ok(raw)
}

/// The live link `token` names for `purpose` in `tenant`; an error saying why it does not work
/// otherwise (422 naming `token`: the link is unknown or altered, expired, or used).
pub async fn find<R: Roles>(
    db: &impl sea_orm::ConnectionTrait,
    tenant: Uuid,
    token: &str,
    purpose: Purpose,
) -> Result<TokenModel<R>, ApiError> {
    let row = if token.is_empty() || crate::check::has_control(token) {
        None
    } else {
        crud::find_where(db, tenant, R::EmailToken::TOKEN_DIGEST, secret::digest(token)).await?
    };
    let Some(row) = row.filter(|row| row.purpose() == purpose.as_str()) else {
        return Err(ApiError::invalid_field(TOKEN_FIELD, "this link is not valid; check that it was copied whole"));
    };
    if row.used_at().is_some() {
        return Err(used());
    }
    if row.expires_at() <= crate::now() {
        return Err(ApiError::invalid_field(TOKEN_FIELD, "this link has expired; ask for a new one"));
    }
    Ok(row)
}

/// Marks the link `id` used in the caller's write transaction; a 422 if another request used
/// it first.
pub async fn claim<R: Roles>(db: &impl sea_orm::ConnectionTrait, id: Uuid) -> Result<(), ApiError> {
    let now = crate::now();
    if crud::claim::<R::EmailToken, _>(db, id, R::EmailToken::USED_AT, [R::EmailToken::USED_AT.set(Some(now))]).await? {
        Ok(())
    } else {
        Err(used())
    }
}

/// Ends every unused password reset link of `user` in the caller's write transaction (marks
/// them used), when the password was just set or reset: a link asked for before must not set it
/// again (OWASP Forgot Password Cheat Sheet: tokens are invalidated once the password changes).
pub async fn end_resets<R: Roles>(
    db: &impl sea_orm::ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
) -> Result<(), ApiError> {
    let now = crate::now();
    let unused = crud::scoped_find::<R::EmailToken>(Some(tenant))
        .filter(R::EmailToken::USER_ID.eq(user))
        .filter(R::EmailToken::USED_AT.is_null())
        .all(db)
        .await?;
    for link in unused.iter().filter(|link| link.purpose() == Purpose::ResetPassword.as_str()) {
        crud::claim::<R::EmailToken, _>(db, link.id(), R::EmailToken::USED_AT, [R::EmailToken::USED_AT.set(Some(now))])
            .await?;
    }
    Ok(())
}

fn used() -> ApiError {
    ApiError::invalid_field(TOKEN_FIELD, "this link was already used; ask for a new one")
}
