//! Roles: what protocol code reads from schema entities, as traits the generated code implements.
//!
//! keygate-codegen reads this file. A role is a `pub trait` of `fn FIELD(&self) -> T` methods;
//! `roles:` in the schema binds an entity to it, the generator checks the entity has those fields
//! with those types, and emits the accessors. [`Roles`] ties every role to its entity, so
//! protocol handlers are generic over it instead of depending on generated code.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::crud::Resource;
use crate::types::StringList;

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
    /// JWS algorithm of its access tokens (`RS256`, `ES256`, `EdDSA`); `None` for the default.
    fn access_token_signed_response_alg(&self) -> Option<&str>;
    /// JWS algorithm of its ID tokens; `None` for RS256.
    fn id_token_signed_response_alg(&self) -> Option<&str>;
    /// RFC 7591 §2 `token_endpoint_auth_method`; `none` for public clients.
    fn token_endpoint_auth_method(&self) -> &str;
    /// The client's public keys (a JWK Set), for `private_key_jwt`.
    fn jwks(&self) -> Option<&serde_json::Value>;
    /// `web` or `native` (RFC 8252 §7.3 loopback redirects are for native clients).
    fn application_type(&self) -> &str;
    /// Whether authorization requests must carry a PKCE challenge.
    fn require_pkce(&self) -> bool;
    /// Where RP-initiated logout may send the browser afterwards.
    fn post_logout_redirect_uris(&self) -> &StringList;
    /// Browser origins (`https://app.example`) that may call the token, UserInfo and
    /// revocation endpoints (CORS).
    fn allowed_cors_origins(&self) -> &StringList;
    /// Digest of the RFC 7592 registration access token, for dynamically registered clients.
    fn registration_access_token_hash(&self) -> Option<&str>;
}

/// How dynamic registration (RFC 7591) creates a client.
pub trait NewOauthClient {
    /// A client with the given metadata; the rest from defaults.
    #[allow(clippy::too_many_arguments)]
    fn new_oauth_client(
        tenant_id: Uuid,
        id: Uuid,
        name: String,
        client_secret_hash: String,
        redirect_uris: StringList,
        grant_types: StringList,
        scopes: StringList,
        token_endpoint_auth_method: String,
        application_type: String,
        id_token_signed_response_alg: Option<String>,
        jwks: Option<serde_json::Value>,
        post_logout_redirect_uris: StringList,
        registration_access_token_hash: Option<String>,
        first_party: bool,
    ) -> Self;
}

/// Per-tenant settings, read from the tenant entity.
pub trait TenantSettings {
    /// The tenant's URL name (its issuer is `{public_url}/{slug}`).
    fn slug(&self) -> &str;
    /// Access-token algorithm for clients that do not choose one.
    fn default_signing_alg(&self) -> &str;
    /// Seconds access and ID tokens live; `None` for the server default.
    fn access_token_lifetime(&self) -> Option<i64>;
    /// Seconds refresh tokens live; `None` for the server default.
    fn refresh_token_lifetime(&self) -> Option<i64>;
    /// Dynamic registration policy: `token`, `open` or `closed`.
    fn registration(&self) -> &str;
    /// Grant types dynamic registration may ask for; `None` for the default (all).
    fn registration_grant_types(&self) -> Option<&StringList>;
    /// Token endpoint auth methods dynamic registration may ask for; `None` for the default (all).
    fn registration_auth_methods(&self) -> Option<&StringList>;
    /// Scopes a dynamically registered client may hold; `None` for `openid profile email`.
    fn registration_scopes(&self) -> Option<&StringList>;
}

/// How the server creates the `default` tenant on first start.
pub trait NewTenantSettings {
    /// A tenant with server-default settings.
    fn new_tenant_settings(id: Uuid, slug: String, name: String) -> Self;
}

/// A token that allows dynamic client registration, found by its digest.
pub trait InitialAccessToken {
    /// When it stops working, if ever.
    fn expires_at(&self) -> Option<DateTime<Utc>>;
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

/// How the account API registers a user.
pub trait NewAccount {
    /// An active account; `password_hash` is a bcrypt hash, the names already normalized.
    fn new_account(
        tenant_id: Uuid,
        id: Uuid,
        username: String,
        email: String,
        password_hash: String,
        name: Option<String>,
    ) -> Self;
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

/// A user's membership of a group.
pub trait GroupMember {
    /// The group.
    fn group_id(&self) -> Uuid;
}

/// A signed-in browser session, found by the digest of its cookie.
pub trait AuthSession {
    /// The session id (the ID token's `sid`).
    fn id(&self) -> Uuid;
    /// The signed-in user.
    fn user_id(&self) -> Uuid;
    /// When the user last entered their password.
    fn auth_time(&self) -> DateTime<Utc>;
    /// When the session ends.
    fn expires_at(&self) -> DateTime<Utc>;
}

/// How the login page starts a session.
pub trait NewAuthSession {
    /// A session for `user_id`, whose cookie value digests to `session_digest`.
    fn new_auth_session(
        tenant_id: Uuid,
        id: Uuid,
        user_id: Uuid,
        username: String,
        session_digest: String,
        auth_time: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Self;
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
    /// The browser session it came from.
    fn session_id(&self) -> Option<Uuid>;
    /// Expiry (60 seconds after issue).
    fn expires_at(&self) -> DateTime<Utc>;
    /// When it was redeemed.
    fn used_at(&self) -> Option<DateTime<Utc>>;
    /// The grant its redemption created.
    fn grant_id(&self) -> Option<Uuid>;
}

/// How the authorization endpoint issues a code.
pub trait NewAuthCode {
    /// A code row; only the digest of the code is stored.
    #[allow(clippy::too_many_arguments)]
    fn new_auth_code(
        tenant_id: Uuid,
        code_digest: String,
        user_id: Uuid,
        client_id: Uuid,
        redirect_uri: String,
        redirect_uri_sent: bool,
        code_challenge: Option<String>,
        nonce: Option<String>,
        scope: String,
        auth_time: DateTime<Utc>,
        session_id: Option<Uuid>,
        expires_at: DateTime<Utc>,
    ) -> Self;
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
    /// The browser session it came from.
    fn session_id(&self) -> Option<Uuid>;
    /// When it was revoked, if it was.
    fn revoked_at(&self) -> Option<DateTime<Utc>>;
}

/// How redeeming a code creates a grant.
pub trait NewGrant {
    /// A live grant.
    fn new_grant(
        tenant_id: Uuid,
        id: Uuid,
        user_id: Uuid,
        client_id: Uuid,
        scope: String,
        auth_time: DateTime<Utc>,
        session_id: Option<Uuid>,
    ) -> Self;
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
    /// The browser session the grant came from.
    fn session_id(&self) -> Option<Uuid>;
    /// Expiry.
    fn expires_at(&self) -> DateTime<Utc>;
    /// When it was rotated (or its grant revoked); presenting it again is reuse.
    fn used_at(&self) -> Option<DateTime<Utc>>;
}

/// How the token endpoint stores a refresh token.
pub trait NewRefreshToken {
    /// A fresh, unused token of a grant, with the grant's terms.
    #[allow(clippy::too_many_arguments)]
    fn new_refresh_token(
        tenant_id: Uuid,
        grant_id: Uuid,
        user_id: Uuid,
        client_id: Uuid,
        scope: String,
        auth_time: DateTime<Utc>,
        session_id: Option<Uuid>,
        token_digest: String,
        expires_at: DateTime<Utc>,
    ) -> Self;
}

/// Scopes a user agreed to share with a client.
pub trait Consent {
    /// Row id.
    fn id(&self) -> Uuid;
    /// Consented scopes.
    fn scopes(&self) -> &StringList;
}

/// How the consent page remembers a decision.
pub trait NewConsent {
    /// Consent of `user_id` to `client_id` for `scopes`.
    fn new_consent(tenant_id: Uuid, user_id: Uuid, client_id: Uuid, scopes: StringList) -> Self;
}

/// A revoked token, remembered by digest (RFC 7009).
pub trait RevokedToken {
    /// Hex SHA-256 digest of the revoked token.
    fn token_digest(&self) -> &str;
    /// When the token would have expired anyway; the record can go then.
    fn expires_at(&self) -> Option<DateTime<Utc>>;
}

/// How revocation creates a revoked-token row; the generator fills the entity's other fields
/// from their defaults.
pub trait NewRevokedToken {
    /// A row remembering `token_digest` until `expires_at` (after which the token is dead anyway).
    fn new_revoked_token(tenant_id: Uuid, token_digest: String, expires_at: Option<DateTime<Utc>>) -> Self;
}

/// Which entity plays each role; generated from `roles:` in the schema.
pub trait Roles: 'static {
    /// Tenants, for their settings.
    type TenantSettings: Resource<Model: TenantSettings, ActiveModel: NewTenantSettings + Send, Column: FromStr>;
    /// Initial access tokens for dynamic registration.
    type InitialAccessToken: Resource<Model: InitialAccessToken, Column: FromStr>;
    /// OAuth clients.
    type OauthClient: Resource<
            Model: OauthClient + Clone + Send + Sync + 'static,
            ActiveModel: NewOauthClient + Send,
            Column: FromStr,
        >;
    /// Revoked tokens.
    type RevokedToken: Resource<Model: RevokedToken, ActiveModel: NewRevokedToken + Send, Column: FromStr>;
    /// User accounts.
    type Account: Resource<Model: Account + Clone + Send + Sync + 'static, ActiveModel: NewAccount + Send, Column: FromStr>
        + crate::check::FieldChecks;
    /// API keys.
    type ApiKey: Resource<Model: ApiKey, Column: FromStr>;
    /// Service keys.
    type ServiceKey: Resource<Model: ServiceKey, Column: FromStr>;
    /// Services.
    type Service: Resource<Model: Service>;
    /// Groups.
    type Group: Resource<Model: Group, Column: FromStr>;
    /// Group memberships.
    type GroupMember: Resource<Model: GroupMember, Column: FromStr>;
    /// Browser sessions.
    type AuthSession: Resource<Model: AuthSession, ActiveModel: NewAuthSession + Send, Column: FromStr>;
    /// Authorization codes.
    type AuthCode: Resource<Model: AuthCode, ActiveModel: NewAuthCode + Send, Column: FromStr>;
    /// Grants.
    type Grant: Resource<Model: Grant, ActiveModel: NewGrant + Send, Column: FromStr>;
    /// Refresh tokens.
    type RefreshToken: Resource<Model: RefreshToken, ActiveModel: NewRefreshToken + Send, Column: FromStr>;
    /// Remembered consent.
    type Consent: Resource<Model: Consent, ActiveModel: NewConsent + Send, Column: FromStr>;
}
