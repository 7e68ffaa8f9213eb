//! Roles: what protocol code reads, queries and writes in schema entities, as traits and
//! structs the generated code implements.
//!
//! keygate-codegen reads this file. For a role `X`:
//!
//! - `pub trait X` of `fn FIELD(&self) -> T` methods: the fields protocol code reads from a row;
//!   the generator emits the accessors on the bound entity's `Model`.
//! - `pub trait XColumns: Resource` of `const FIELD: Col<Self, T>` handles: the columns protocol
//!   code filters, claims or sets (`R::AuthCode::CODE_DIGEST`); the generator emits them on the
//!   bound entity, so a misspelt column is a compile error and a missing one a schema error.
//! - `pub struct NewX` of `pub field: T`: how protocol code creates a row; the generator emits
//!   `From<NewX>` for the entity's `ActiveModel`, filling every other field from its default.
//!
//! An entity plays the role named like itself, or the one its `plays:` names; the generator checks the entity has every
//! field named above with that type and nullability (`Option<T>` for nullable fields), and
//! reports a located `role-binding` error otherwise. A field of a [`crate::vocab`] type (e.g.
//! [`ClientAuthMethod`]) must be a schema `enum` whose values are all that type's wire values
//! (a located `role-enum-values` error otherwise); the generated model then stores it as that
//! type, so accessors, handles and constructors carry the enum, never a string. [`Roles`] ties every role to its entity, so
//! protocol handlers are generic over it instead of depending on generated code.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::crud::{Col, Resource};
use crate::string_list::StringList;
use crate::vocab::{
    Algorithm, ApplicationType, CeremonyPurpose, ClientAuthMethod, FactorKind, MfaPolicy, RegistrationMode,
};

/// An OAuth client (RFC 6749 §2). Its id is the `client_id`.
pub trait OauthClient {
    /// The `client_id`.
    fn id(&self) -> Uuid;
    /// Display name, shown on the login and consent pages.
    fn name(&self) -> &str;
    /// Hex SHA-256 digest of the client secret (secrets are server-generated, 256 bits).
    fn client_secret_hash(&self) -> &str;
    /// Registered redirection URIs, matched exactly (RFC 6749 §3.1.2.3, OAuth 2.1 §2.3.1).
    fn redirect_uris(&self) -> &StringList;
    /// Grant types the client may use (RFC 7591 §2 `grant_types`).
    fn grant_types(&self) -> &StringList;
    /// Scopes the client may be granted; also the default when a request names none.
    fn scopes(&self) -> &StringList;
    /// Whether the client may authenticate at all.
    fn is_active(&self) -> bool;
    /// JWS algorithm of its access tokens; `None` for the tenant default.
    fn access_token_signed_response_alg(&self) -> Option<Algorithm>;
    /// JWS algorithm of its ID tokens; `None` for RS256.
    fn id_token_signed_response_alg(&self) -> Option<Algorithm>;
    /// RFC 7591 §2 `token_endpoint_auth_method`; [`ClientAuthMethod::None`] for public clients.
    fn token_endpoint_auth_method(&self) -> ClientAuthMethod;
    /// The client's public keys (a JWK Set), for `private_key_jwt`.
    fn jwks(&self) -> Option<&serde_json::Value>;
    /// Web or native (RFC 8252 §7.3 loopback redirects are for native clients).
    fn application_type(&self) -> ApplicationType;
    /// Whether authorization requests must carry a PKCE challenge.
    fn require_pkce(&self) -> bool;
    /// Where RP-initiated logout may send the browser afterwards.
    fn post_logout_redirect_uris(&self) -> &StringList;
    /// Browser origins (`https://app.example`) that may call the token, UserInfo and
    /// revocation endpoints (CORS).
    fn allowed_cors_origins(&self) -> &StringList;
    /// Digest of the RFC 7592 registration access token, for dynamically registered clients.
    fn registration_access_token_hash(&self) -> Option<&str>;
    /// Second factors for sign-ins to this client; effective only when stricter than the
    /// tenant's; `None` for the tenant's.
    fn mfa_policy(&self) -> Option<MfaPolicy>;
}

/// The columns of OAuth clients that RFC 7592 client updates set.
pub trait OauthClientColumns: Resource {
    /// Display name.
    const NAME: Col<Self, String>;
    /// Registered redirection URIs.
    const REDIRECT_URIS: Col<Self, StringList>;
    /// Grant types the client may use.
    const GRANT_TYPES: Col<Self, StringList>;
    /// Scopes the client may be granted.
    const SCOPES: Col<Self, StringList>;
    /// Web or native.
    const APPLICATION_TYPE: Col<Self, ApplicationType>;
    /// JWS algorithm of its ID tokens.
    const ID_TOKEN_SIGNED_RESPONSE_ALG: Col<Self, Option<Algorithm>>;
    /// The client's public keys (a JWK Set).
    const JWKS: Col<Self, Option<serde_json::Value>>;
    /// Where RP-initiated logout may send the browser.
    const POST_LOGOUT_REDIRECT_URIS: Col<Self, StringList>;
    /// Browser origins that may call the token, UserInfo and revocation endpoints (CORS).
    const ALLOWED_CORS_ORIGINS: Col<Self, StringList>;
    /// Last change.
    const UPDATED_AT: Col<Self, DateTime<Utc>>;
}

/// How dynamic registration (RFC 7591) and the account API create a client; the other fields
/// come from their defaults.
pub struct NewOauthClient {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// The `client_id`.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Hex SHA-256 digest of the client secret; empty for clients without one.
    pub client_secret_hash: String,
    /// Registered redirection URIs.
    pub redirect_uris: StringList,
    /// Grant types the client may use.
    pub grant_types: StringList,
    /// Scopes the client may be granted.
    pub scopes: StringList,
    /// RFC 7591 §2 `token_endpoint_auth_method`.
    pub token_endpoint_auth_method: ClientAuthMethod,
    /// Web or native.
    pub application_type: ApplicationType,
    /// JWS algorithm of its ID tokens; `None` for RS256.
    pub id_token_signed_response_alg: Option<Algorithm>,
    /// The client's public keys (a JWK Set), for `private_key_jwt`.
    pub jwks: Option<serde_json::Value>,
    /// Where RP-initiated logout may send the browser afterwards.
    pub post_logout_redirect_uris: StringList,
    /// Browser origins that may call the token, UserInfo and revocation endpoints (CORS), in
    /// [`crate::uri::origin`]'s normalized form.
    pub allowed_cors_origins: StringList,
    /// Digest of the RFC 7592 registration access token, for dynamically registered clients.
    pub registration_access_token_hash: Option<String>,
    /// Whether it is the tenant's own first-party client (the account API's).
    pub first_party: bool,
}

/// Per-tenant settings, read from the tenant entity.
pub trait TenantSettings {
    /// The tenant's URL name (its issuer is `{public_url}/{slug}`).
    fn slug(&self) -> &str;
    /// Access-token algorithm for clients that do not choose one.
    fn default_signing_alg(&self) -> Algorithm;
    /// Seconds access and ID tokens live; `None` for the server default.
    fn access_token_lifetime(&self) -> Option<i64>;
    /// Seconds refresh tokens live; `None` for the server default.
    fn refresh_token_lifetime(&self) -> Option<i64>;
    /// Who may register clients dynamically.
    fn registration(&self) -> RegistrationMode;
    /// Grant types dynamic registration may ask for; `None` for the default (all).
    fn registration_grant_types(&self) -> Option<&StringList>;
    /// Token endpoint auth methods dynamic registration may ask for; `None` for the default (all).
    fn registration_auth_methods(&self) -> Option<&StringList>;
    /// Scopes a dynamically registered client may hold; `None` for `openid profile email`.
    fn registration_scopes(&self) -> Option<&StringList>;
    /// Whether sign-in asks for a second factor.
    fn mfa_policy(&self) -> MfaPolicy;
    /// Whether users may sign in with a passkey alone (no password).
    fn passkey_sign_in(&self) -> bool;
}

/// The columns tenants are found by.
pub trait TenantSettingsColumns: Resource {
    /// The tenant's URL name, unique across tenants.
    const SLUG: Col<Self, String>;
}

/// How the server creates the `default` tenant on first start; every setting from its default.
pub struct NewTenantSettings {
    /// The tenant id.
    pub id: Uuid,
    /// Its URL name.
    pub slug: String,
    /// Its display name.
    pub name: String,
}

/// A token that allows dynamic client registration, found by its digest.
pub trait InitialAccessToken {
    /// When it stops working, if ever.
    fn expires_at(&self) -> Option<DateTime<Utc>>;
}

/// The columns initial access tokens are found by.
pub trait InitialAccessTokenColumns: Resource {
    /// Hex SHA-256 digest of the token.
    const TOKEN_DIGEST: Col<Self, String>;
}

/// A person who signs in (the subject of ID tokens and UserInfo).
pub trait Account {
    /// The stable subject identifier (`sub`).
    fn id(&self) -> Uuid;
    /// Login name (`preferred_username`).
    fn username(&self) -> &str;
    /// Email address (`email`).
    fn email(&self) -> &str;
    /// Whether the email address is verified (`email_verified`).
    fn email_verified(&self) -> bool;
    /// Full name (`name`).
    fn name(&self) -> Option<&str>;
    /// bcrypt hash of the password.
    fn password_hash(&self) -> &str;
    /// Whether the account may sign in.
    fn is_active(&self) -> bool;
    /// Roles granted to the user (the `roles` claim of its access tokens).
    fn roles(&self) -> &StringList;
    /// Last change (`updated_at`).
    fn updated_at(&self) -> DateTime<Utc>;
}

/// The columns of accounts that sign-in looks up and the account API changes.
pub trait AccountColumns: Resource {
    /// Login name.
    const USERNAME: Col<Self, String>;
    /// Email address, also a login name.
    const EMAIL: Col<Self, String>;
    /// Full name.
    const NAME: Col<Self, Option<String>>;
    /// bcrypt hash of the password.
    const PASSWORD_HASH: Col<Self, String>;
    /// Whether `EMAIL` is verified.
    const EMAIL_VERIFIED: Col<Self, bool>;
    /// Last change.
    const UPDATED_AT: Col<Self, DateTime<Utc>>;
}

/// How the account API registers a user: an active account, the other fields from defaults.
pub struct NewAccount {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// The subject identifier.
    pub id: Uuid,
    /// Login name, already normalized.
    pub username: String,
    /// Email address, already normalized.
    pub email: String,
    /// bcrypt hash of the password.
    pub password_hash: String,
    /// Full name.
    pub name: Option<String>,
}

/// A user's API key, found by its digest.
pub trait ApiKey {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The user it authenticates as.
    fn user_id(&self) -> Uuid;
    /// Not valid before.
    fn valid_from(&self) -> DateTime<Utc>;
    /// Not valid from then on.
    fn valid_to(&self) -> Option<DateTime<Utc>>;
    /// Last use, kept to the minute.
    fn last_used_at(&self) -> Option<DateTime<Utc>>;
}

/// The columns API keys are found by and mark their use in.
pub trait ApiKeyColumns: Resource {
    /// Hex SHA-256 digest of the key, unique across tenants.
    const DIGEST: Col<Self, String>;
    /// Last use.
    const LAST_USED_AT: Col<Self, Option<DateTime<Utc>>>;
}

/// A service's key, found by its digest.
pub trait ServiceKey {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The service it authenticates as.
    fn service_id(&self) -> Uuid;
    /// Not valid before.
    fn valid_from(&self) -> DateTime<Utc>;
    /// Not valid from then on.
    fn valid_to(&self) -> Option<DateTime<Utc>>;
    /// Last use, kept to the minute.
    fn last_used_at(&self) -> Option<DateTime<Utc>>;
}

/// The columns service keys are found by and mark their use in.
pub trait ServiceKeyColumns: Resource {
    /// Hex SHA-256 digest of the key, unique across tenants.
    const DIGEST: Col<Self, String>;
    /// Last use.
    const LAST_USED_AT: Col<Self, Option<DateTime<Utc>>>;
}

/// A machine identity.
pub trait Service {
    /// Whether its keys work.
    fn is_active(&self) -> bool;
}

/// A group of users, whose members get its roles.
pub trait Group {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The name (the `groups` claim).
    fn name(&self) -> &str;
    /// Roles every member has.
    fn roles(&self) -> &StringList;
}

/// The columns groups are found by.
pub trait GroupColumns: Resource {
    /// Row id.
    const ID: Col<Self, Uuid>;
}

/// A user's membership of a group.
pub trait GroupMember {
    /// The group.
    fn group_id(&self) -> Uuid;
}

/// The columns memberships are found by.
pub trait GroupMemberColumns: Resource {
    /// The member.
    const USER_ID: Col<Self, Uuid>;
}

/// A signed-in browser session, found by the digest of its cookie.
pub trait AuthSession {
    /// The session id (the ID token's `sid`).
    fn id(&self) -> Uuid;
    /// The signed-in user.
    fn user_id(&self) -> Uuid;
    /// When the user last entered their password.
    fn auth_time(&self) -> DateTime<Utc>;
    /// How the user authenticated (RFC 8176 `amr` values); `None` for a password alone.
    fn amr(&self) -> Option<&StringList>;
    /// When the session ends.
    fn expires_at(&self) -> DateTime<Utc>;
}

/// The columns browser sessions are found and ended by.
pub trait AuthSessionColumns: Resource {
    /// Hex SHA-256 digest of the session cookie's value.
    const SESSION_DIGEST: Col<Self, String>;
    /// The signed-in user.
    const USER_ID: Col<Self, Uuid>;
    /// When the session ends.
    const EXPIRES_AT: Col<Self, DateTime<Utc>>;
}

/// How the login page starts a session.
pub struct NewAuthSession {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// The session id (the ID token's `sid`).
    pub id: Uuid,
    /// The signed-in user.
    pub user_id: Uuid,
    /// Their login name, for the session list.
    pub username: String,
    /// Hex SHA-256 digest of the cookie value (the cookie carries the only copy of the secret).
    pub session_digest: String,
    /// When the user entered their password.
    pub auth_time: DateTime<Utc>,
    /// How the user authenticated (RFC 8176 `amr` values).
    pub amr: Option<StringList>,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// A one-time authorization code (RFC 6749 §4.1.2), found by its digest.
pub trait AuthCode {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The user who authorized.
    fn user_id(&self) -> Uuid;
    /// The client it was issued to.
    fn client_id(&self) -> Uuid;
    /// Where the code was sent: the authorization request's `redirect_uri`, or the client's only
    /// registered one when the request named none (OAuth 2.1 §4.1.1).
    fn redirect_uri(&self) -> &str;
    /// Whether the authorization request carried `redirect_uri`, which the token request must then
    /// repeat (OAuth 2.1 §4.1.3).
    fn redirect_uri_sent(&self) -> bool;
    /// The PKCE S256 challenge (RFC 7636 §4.2), if the request carried one.
    fn code_challenge(&self) -> Option<&str>;
    /// The OIDC `nonce`, copied into the ID token.
    fn nonce(&self) -> Option<&str>;
    /// Granted scopes, space-separated.
    fn scope(&self) -> &str;
    /// When the user authenticated.
    fn auth_time(&self) -> DateTime<Utc>;
    /// How the user authenticated (RFC 8176 `amr` values); `None` for a password alone.
    fn amr(&self) -> Option<&StringList>;
    /// The browser session it came from.
    fn session_id(&self) -> Option<Uuid>;
    /// Expiry (60 seconds after issue).
    fn expires_at(&self) -> DateTime<Utc>;
    /// When it was redeemed.
    fn used_at(&self) -> Option<DateTime<Utc>>;
    /// The grant its redemption created.
    fn grant_id(&self) -> Option<Uuid>;
}

/// The columns codes are found by and redeemed in.
pub trait AuthCodeColumns: Resource {
    /// Hex SHA-256 digest of the code.
    const CODE_DIGEST: Col<Self, String>;
    /// When it was redeemed; claimed once.
    const USED_AT: Col<Self, Option<DateTime<Utc>>>;
    /// The grant its redemption created.
    const GRANT_ID: Col<Self, Option<Uuid>>;
    /// Last change.
    const UPDATED_AT: Col<Self, DateTime<Utc>>;
}

/// How the authorization endpoint issues a code; only the digest of the code is stored.
pub struct NewAuthCode {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// Hex SHA-256 digest of the code.
    pub code_digest: String,
    /// The user who authorized.
    pub user_id: Uuid,
    /// The client it is issued to.
    pub client_id: Uuid,
    /// Where the code is sent (OAuth 2.1 §4.1.1).
    pub redirect_uri: String,
    /// Whether the authorization request carried `redirect_uri` (OAuth 2.1 §4.1.3).
    pub redirect_uri_sent: bool,
    /// The PKCE S256 challenge (RFC 7636 §4.2).
    pub code_challenge: Option<String>,
    /// The OIDC `nonce`.
    pub nonce: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// When the user authenticated.
    pub auth_time: DateTime<Utc>,
    /// How the user authenticated (RFC 8176 `amr` values); `None` for a password alone.
    pub amr: Option<StringList>,
    /// The browser session it comes from.
    pub session_id: Option<Uuid>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// A user's authorization of a client; the family every token issued from one code belongs to.
pub trait Grant {
    /// The grant id, carried by its access tokens.
    fn id(&self) -> Uuid;
    /// The user.
    fn user_id(&self) -> Uuid;
    /// The client.
    fn client_id(&self) -> Uuid;
    /// Granted scopes, space-separated.
    fn scope(&self) -> &str;
    /// When the user authenticated.
    fn auth_time(&self) -> DateTime<Utc>;
    /// How the user authenticated (RFC 8176 `amr` values); `None` for a password alone.
    fn amr(&self) -> Option<&StringList>;
    /// The browser session it came from.
    fn session_id(&self) -> Option<Uuid>;
    /// When it was revoked, if it was.
    fn revoked_at(&self) -> Option<DateTime<Utc>>;
}

/// The columns grants are found by, revoked and locked in.
pub trait GrantColumns: Resource {
    /// The user.
    const USER_ID: Col<Self, Uuid>;
    /// The browser session it came from.
    const SESSION_ID: Col<Self, Option<Uuid>>;
    /// When it was revoked; claimed once.
    const REVOKED_AT: Col<Self, Option<DateTime<Utc>>>;
    /// Last change (written to lock the row).
    const UPDATED_AT: Col<Self, DateTime<Utc>>;
}

/// How redeeming a code (or an account API sign-in) creates a live grant.
pub struct NewGrant {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// The grant id.
    pub id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// When the user authenticated.
    pub auth_time: DateTime<Utc>,
    /// How the user authenticated (RFC 8176 `amr` values); `None` for a password alone.
    pub amr: Option<StringList>,
    /// The browser session it comes from.
    pub session_id: Option<Uuid>,
}

/// An opaque refresh token, found by its digest. It repeats its grant's terms, so a refresh
/// reads this one row; revoking the grant marks its tokens used.
pub trait RefreshToken {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The grant it belongs to.
    fn grant_id(&self) -> Uuid;
    /// The grant's user.
    fn user_id(&self) -> Uuid;
    /// The grant's client.
    fn client_id(&self) -> Uuid;
    /// The grant's scopes, space-separated.
    fn scope(&self) -> &str;
    /// When the user authenticated.
    fn auth_time(&self) -> DateTime<Utc>;
    /// How the user authenticated (RFC 8176 `amr` values); `None` for a password alone.
    fn amr(&self) -> Option<&StringList>;
    /// The browser session the grant came from.
    fn session_id(&self) -> Option<Uuid>;
    /// Expiry.
    fn expires_at(&self) -> DateTime<Utc>;
    /// When it was rotated (or its grant revoked); presenting it again is reuse.
    fn used_at(&self) -> Option<DateTime<Utc>>;
}

/// The columns refresh tokens are found by, rotated and retired in.
pub trait RefreshTokenColumns: Resource {
    /// Hex SHA-256 digest of the token.
    const TOKEN_DIGEST: Col<Self, String>;
    /// The grant it belongs to.
    const GRANT_ID: Col<Self, Uuid>;
    /// When it was rotated or retired; claimed once.
    const USED_AT: Col<Self, Option<DateTime<Utc>>>;
    /// Expiry.
    const EXPIRES_AT: Col<Self, DateTime<Utc>>;
}

/// How the token endpoint stores a fresh, unused refresh token of a grant, with the grant's terms.
pub struct NewRefreshToken {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// The grant it belongs to.
    pub grant_id: Uuid,
    /// The grant's user.
    pub user_id: Uuid,
    /// The grant's client.
    pub client_id: Uuid,
    /// The grant's scopes, space-separated.
    pub scope: String,
    /// When the user authenticated.
    pub auth_time: DateTime<Utc>,
    /// How the user authenticated (RFC 8176 `amr` values); `None` for a password alone.
    pub amr: Option<StringList>,
    /// The browser session the grant came from.
    pub session_id: Option<Uuid>,
    /// Hex SHA-256 digest of the token (only the digest is stored).
    pub token_digest: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Scopes a user agreed to share with a client.
pub trait Consent {
    /// Row id.
    fn id(&self) -> Uuid;
    /// Consented scopes.
    fn scopes(&self) -> &StringList;
}

/// The columns consent is found by.
pub trait ConsentColumns: Resource {
    /// The user who consented.
    const USER_ID: Col<Self, Uuid>;
    /// The client they consented to.
    const CLIENT_ID: Col<Self, Uuid>;
}

/// How the consent page remembers that `user_id` consented to `client_id` for `scopes`.
pub struct NewConsent {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The consented scopes.
    pub scopes: StringList,
}

/// A revoked token, remembered by digest (RFC 7009).
pub trait RevokedToken {
    /// Hex SHA-256 digest of the revoked token.
    fn token_digest(&self) -> &str;
    /// When the token would have expired anyway; the record can go then.
    fn expires_at(&self) -> Option<DateTime<Utc>>;
}

/// The columns revoked tokens are found and pruned by.
pub trait RevokedTokenColumns: Resource {
    /// Hex SHA-256 digest of the revoked token.
    const TOKEN_DIGEST: Col<Self, String>;
    /// When the record can go.
    const EXPIRES_AT: Col<Self, Option<DateTime<Utc>>>;
}

/// How revocation remembers a token until it would have expired anyway; the generator fills the
/// entity's other fields from their defaults.
pub struct NewRevokedToken {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// Hex SHA-256 digest of the revoked token.
    pub token_digest: String,
    /// When the token would have expired; `None` to remember it for good.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A user's second factor (TOTP now; passkeys later, as another [`FactorKind`]).
pub trait MfaFactor {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The user it belongs to.
    fn user_id(&self) -> Uuid;
    /// Which kind of factor.
    fn kind(&self) -> FactorKind;
    /// The user's name for it.
    fn label(&self) -> &str;
    /// TOTP: the shared secret, sealed under the master key (bound to the row id).
    fn secret_sealed(&self) -> Option<&str>;
    /// When a first valid code confirmed it; unconfirmed factors do not count.
    fn confirmed_at(&self) -> Option<DateTime<Utc>>;
    /// TOTP: the last accepted time step.
    fn last_used_step(&self) -> Option<i64>;
    /// When it last signed the user in.
    fn last_used_at(&self) -> Option<DateTime<Utc>>;
    /// When it was enrolled.
    fn created_at(&self) -> DateTime<Utc>;
    /// Passkey: the WebAuthn credential id, base64url.
    fn credential_id(&self) -> Option<&str>;
    /// Passkey: the credential (public key, counter) as webauthn-rs serialises it.
    fn passkey(&self) -> Option<&str>;
    /// Passkey: the signature counter last seen.
    fn sign_count(&self) -> Option<i64>;
    /// Passkey: the backup-eligible (BE) flag.
    fn backup_eligible(&self) -> Option<bool>;
    /// Passkey: the backup-state (BS) flag at its last use.
    fn backup_state(&self) -> Option<bool>;
}

/// The columns factors are found by, confirmed and used in.
pub trait MfaFactorColumns: Resource {
    /// The user it belongs to.
    const USER_ID: Col<Self, Uuid>;
    /// When it was confirmed.
    const CONFIRMED_AT: Col<Self, Option<DateTime<Utc>>>;
    /// TOTP: the last accepted time step; advanced only forward.
    const LAST_USED_STEP: Col<Self, Option<i64>>;
    /// When it last signed the user in.
    const LAST_USED_AT: Col<Self, Option<DateTime<Utc>>>;
    /// Last change.
    const UPDATED_AT: Col<Self, DateTime<Utc>>;
    /// Passkey: the WebAuthn credential id (base64url).
    const CREDENTIAL_ID: Col<Self, Option<String>>;
    /// Passkey: the serialised credential, rewritten as its counter advances.
    const PASSKEY: Col<Self, Option<String>>;
    /// Passkey: the signature counter; advanced only forward.
    const SIGN_COUNT: Col<Self, Option<i64>>;
    /// Passkey: the backup-state flag at its last use.
    const BACKUP_STATE: Col<Self, Option<bool>>;
    /// The user's name for it.
    const LABEL: Col<Self, String>;
}

/// How enrolment stores a factor (TOTP: unconfirmed; a passkey: confirmed by its registration).
pub struct NewMfaFactor {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// Row id (the sealing context of its secret).
    pub id: Uuid,
    /// The user it belongs to.
    pub user_id: Uuid,
    /// Which kind of factor.
    pub kind: FactorKind,
    /// The user's name for it.
    pub label: String,
    /// TOTP: the sealed shared secret.
    pub secret_sealed: Option<String>,
    /// Passkey: when its registration was verified (it counts at once); `None` for TOTP.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Passkey: the WebAuthn credential id, base64url.
    pub credential_id: Option<String>,
    /// Passkey: the serialised credential.
    pub passkey: Option<String>,
    /// Passkey: the signature counter at registration.
    pub sign_count: Option<i64>,
    /// Passkey: the backup-eligible flag.
    pub backup_eligible: Option<bool>,
    /// Passkey: the backup-state flag.
    pub backup_state: Option<bool>,
}

/// One single-use recovery code of a user, found by its digest.
pub trait RecoveryCode {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The user it belongs to.
    fn user_id(&self) -> Uuid;
    /// When it was used.
    fn used_at(&self) -> Option<DateTime<Utc>>;
}

/// The columns recovery codes are found by and used in.
pub trait RecoveryCodeColumns: Resource {
    /// Hex SHA-256 digest of the code, unique across tenants.
    const CODE_DIGEST: Col<Self, String>;
    /// The user it belongs to.
    const USER_ID: Col<Self, Uuid>;
    /// When it was used; claimed once.
    const USED_AT: Col<Self, Option<DateTime<Utc>>>;
}

/// How a new set of recovery codes is stored (digests only).
pub struct NewRecoveryCode {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// The user it belongs to.
    pub user_id: Uuid,
    /// Hex SHA-256 digest of the code.
    pub code_digest: String,
}

/// A sign-in waiting for its second factor, found by the digest of its token.
pub trait MfaChallenge {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The user whose password was right.
    fn user_id(&self) -> Uuid;
    /// The client signed in to.
    fn client_id(&self) -> Uuid;
    /// Whether it allows enrolling a factor (policy requires one the user lacks).
    fn enrol(&self) -> bool;
    /// Whether the sign-in asked for a cookie session.
    fn cookie(&self) -> bool;
    /// Expiry.
    fn expires_at(&self) -> DateTime<Utc>;
    /// When it completed a sign-in.
    fn used_at(&self) -> Option<DateTime<Utc>>;
    /// The WebAuthn assertion state it also accepts (the user had passkeys), JSON.
    fn webauthn_state(&self) -> Option<&str>;
}

/// The columns challenges are found by and completed in.
pub trait MfaChallengeColumns: Resource {
    /// Hex SHA-256 digest of the challenge token, unique across tenants.
    const CHALLENGE_DIGEST: Col<Self, String>;
    /// Expiry; housekeeping deletes expired challenges.
    const EXPIRES_AT: Col<Self, DateTime<Utc>>;
    /// When it completed a sign-in; claimed once.
    const USED_AT: Col<Self, Option<DateTime<Utc>>>;
}

/// How a sign-in that needs a second factor stores its challenge.
pub struct NewMfaChallenge {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// Row id.
    pub id: Uuid,
    /// Hex SHA-256 digest of the challenge token.
    pub challenge_digest: String,
    /// The user whose password was right.
    pub user_id: Uuid,
    /// The client signed in to.
    pub client_id: Uuid,
    /// Whether it allows enrolling a factor.
    pub enrol: bool,
    /// Whether the sign-in asked for a cookie session.
    pub cookie: bool,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// The WebAuthn assertion state, when the user has passkeys.
    pub webauthn_state: Option<String>,
}

/// A WebAuthn ceremony in flight (registration or passwordless sign-in), found by the digest of
/// its token.
pub trait PasskeyCeremony {
    /// Row id.
    fn id(&self) -> Uuid;
    /// What it is for.
    fn purpose(&self) -> CeremonyPurpose;
    /// Registration: who registers.
    fn user_id(&self) -> Option<Uuid>;
    /// Registration: the new passkey's name.
    fn label(&self) -> Option<&str>;
    /// webauthn-rs state, JSON.
    fn state(&self) -> &str;
    /// Expiry.
    fn expires_at(&self) -> DateTime<Utc>;
    /// When it completed.
    fn used_at(&self) -> Option<DateTime<Utc>>;
}

/// The columns ceremonies are found by and completed in.
pub trait PasskeyCeremonyColumns: Resource {
    /// Hex SHA-256 digest of the ceremony token, unique across tenants.
    const CEREMONY_DIGEST: Col<Self, String>;
    /// Expiry; housekeeping deletes expired ceremonies.
    const EXPIRES_AT: Col<Self, DateTime<Utc>>;
    /// When it completed; claimed once.
    const USED_AT: Col<Self, Option<DateTime<Utc>>>;
}

/// How a ceremony is stored when its options are handed out.
pub struct NewPasskeyCeremony {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// Row id.
    pub id: Uuid,
    /// Hex SHA-256 digest of the ceremony token.
    pub ceremony_digest: String,
    /// What it is for.
    pub purpose: CeremonyPurpose,
    /// Registration: who registers.
    pub user_id: Option<Uuid>,
    /// Registration: the new passkey's name.
    pub label: Option<String>,
    /// webauthn-rs state, JSON.
    pub state: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// A recorded security event of a user ([`crate::security_events`]).
pub trait SecurityEvent {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The user it concerns.
    fn user_id(&self) -> Uuid;
    /// Stable event name ([`crate::security_events::EventType`]).
    fn r#type(&self) -> &str;
    /// When it happened.
    fn occurred_at(&self) -> DateTime<Utc>;
    /// Client IP of the request that caused it.
    fn ip(&self) -> Option<&str>;
    /// `User-Agent` of that request.
    fn user_agent(&self) -> Option<&str>;
    /// The known device the request came from.
    fn device_id(&self) -> Option<Uuid>;
    /// Details of this event type.
    fn data(&self) -> &serde_json::Value;
}

/// How protocol code records a security event, in the write that caused it.
pub struct NewSecurityEvent {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// Row id.
    pub id: Uuid,
    /// The user it concerns.
    pub user_id: Uuid,
    /// Stable event name.
    pub r#type: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Client IP of the request that caused it.
    pub ip: Option<String>,
    /// `User-Agent` of that request, at most 512 characters.
    pub user_agent: Option<String>,
    /// The known device the request came from.
    pub device_id: Option<Uuid>,
    /// Details of this event type (an object).
    pub data: serde_json::Value,
}

/// A single-use link sent by email ([`crate::account::links`]), found by its digest.
pub trait EmailToken {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The user it acts for.
    fn user_id(&self) -> Uuid;
    /// What it does: `verify_email` or `reset_password`.
    fn purpose(&self) -> &str;
    /// The address it was sent to.
    fn email(&self) -> &str;
    /// When it stops working.
    fn expires_at(&self) -> DateTime<Utc>;
    /// When it was used.
    fn used_at(&self) -> Option<DateTime<Utc>>;
}

/// The columns emailed links are found by and claimed in.
pub trait EmailTokenColumns: Resource {
    /// Hex SHA-256 digest of the token.
    const TOKEN_DIGEST: Col<Self, String>;
    /// The user it acts for.
    const USER_ID: Col<Self, Uuid>;
    /// When it was used; claimed once.
    const USED_AT: Col<Self, Option<DateTime<Utc>>>;
    /// Expiry.
    const EXPIRES_AT: Col<Self, DateTime<Utc>>;
}

/// How the account API issues an emailed link; only its digest is stored.
pub struct NewEmailToken {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// The user it acts for.
    pub user_id: Uuid,
    /// `verify_email` or `reset_password`.
    pub purpose: String,
    /// Hex SHA-256 digest of the token.
    pub token_digest: String,
    /// The address it is sent to.
    pub email: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A device a user has signed in from ([`crate::devices`]).
pub trait Device {
    /// Row id.
    fn id(&self) -> Uuid;
    /// The user.
    fn user_id(&self) -> Uuid;
    /// `User-Agent` of the last sign-in.
    fn user_agent(&self) -> Option<&str>;
    /// Client IP of the last sign-in.
    fn ip(&self) -> Option<&str>;
    /// First sign-in from it.
    fn created_at(&self) -> DateTime<Utc>;
    /// Last sign-in from it.
    fn last_seen_at(&self) -> DateTime<Utc>;
}

/// The columns devices are found by and updated in.
pub trait DeviceColumns: Resource {
    /// The user.
    const USER_ID: Col<Self, Uuid>;
    /// Hex SHA-256 digest of the device cookie.
    const DEVICE_DIGEST: Col<Self, String>;
    /// `User-Agent` of the last sign-in.
    const USER_AGENT: Col<Self, Option<String>>;
    /// Client IP of the last sign-in.
    const IP: Col<Self, Option<String>>;
    /// Last sign-in from it.
    const LAST_SEEN_AT: Col<Self, DateTime<Utc>>;
}

/// How sign-in records a device seen for the first time.
pub struct NewDevice {
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// Row id.
    pub id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// Hex SHA-256 digest of the device cookie.
    pub device_digest: String,
    /// `User-Agent` of the sign-in.
    pub user_agent: Option<String>,
    /// Client IP of the sign-in.
    pub ip: Option<String>,
}

/// Which entity plays each role; generated from the schema (`plays:`, or the entity's name).
pub trait Roles: 'static {
    /// Tenants, for their settings.
    type TenantSettings: Resource<Model: TenantSettings, ActiveModel: From<NewTenantSettings> + Send>
        + TenantSettingsColumns;
    /// Initial access tokens for dynamic registration.
    type InitialAccessToken: Resource<Model: InitialAccessToken> + InitialAccessTokenColumns;
    /// OAuth clients.
    type OauthClient: Resource<Model: OauthClient + Clone + Send + Sync + 'static, ActiveModel: From<NewOauthClient> + Send>
        + OauthClientColumns;
    /// Revoked tokens.
    type RevokedToken: Resource<Model: RevokedToken, ActiveModel: From<NewRevokedToken> + Send> + RevokedTokenColumns;
    /// User accounts.
    type Account: Resource<Model: Account + Clone + Send + Sync + 'static, ActiveModel: From<NewAccount> + Send>
        + AccountColumns;
    /// API keys.
    type ApiKey: Resource<Model: ApiKey> + ApiKeyColumns;
    /// Service keys.
    type ServiceKey: Resource<Model: ServiceKey> + ServiceKeyColumns;
    /// Services.
    type Service: Resource<Model: Service>;
    /// Groups.
    type Group: Resource<Model: Group> + GroupColumns;
    /// Group memberships.
    type GroupMember: Resource<Model: GroupMember> + GroupMemberColumns;
    /// Browser sessions.
    type AuthSession: Resource<Model: AuthSession, ActiveModel: From<NewAuthSession> + Send> + AuthSessionColumns;
    /// Authorization codes.
    type AuthCode: Resource<Model: AuthCode, ActiveModel: From<NewAuthCode> + Send> + AuthCodeColumns;
    /// Grants.
    type Grant: Resource<Model: Grant, ActiveModel: From<NewGrant> + Send> + GrantColumns;
    /// Refresh tokens.
    type RefreshToken: Resource<Model: RefreshToken, ActiveModel: From<NewRefreshToken> + Send> + RefreshTokenColumns;
    /// Remembered consent.
    type Consent: Resource<Model: Consent, ActiveModel: From<NewConsent> + Send> + ConsentColumns;
    /// Second factors.
    type MfaFactor: Resource<Model: MfaFactor, ActiveModel: From<NewMfaFactor> + Send> + MfaFactorColumns;
    /// Recovery codes.
    type RecoveryCode: Resource<Model: RecoveryCode, ActiveModel: From<NewRecoveryCode> + Send> + RecoveryCodeColumns;
    /// Sign-ins waiting for a second factor.
    type MfaChallenge: Resource<Model: MfaChallenge, ActiveModel: From<NewMfaChallenge> + Send> + MfaChallengeColumns;
    /// WebAuthn ceremonies in flight.
    type PasskeyCeremony: Resource<Model: PasskeyCeremony, ActiveModel: From<NewPasskeyCeremony> + Send>
        + PasskeyCeremonyColumns;
    /// Users' security events.
    type SecurityEvent: Resource<Model: SecurityEvent + Send, ActiveModel: From<NewSecurityEvent> + Send, Column: std::str::FromStr>;
    /// Emailed single-use links.
    type EmailToken: Resource<Model: EmailToken + Send, ActiveModel: From<NewEmailToken> + Send> + EmailTokenColumns;
    /// Users' known devices.
    type Device: Resource<Model: Device + Send, ActiveModel: From<NewDevice> + Send, Column: std::str::FromStr>
        + DeviceColumns;
}
