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
    /// Hex SHA-256 digest of the client secret (secrets are server-generated, 256 bits).
    fn client_secret_hash(&self) -> &str;
    /// Grant types the client may use (RFC 7591 §2 `grant_types`).
    fn grant_types(&self) -> &StringList;
    /// Scopes the client may be granted; also the default when a request names none.
    fn scopes(&self) -> &StringList;
    /// Whether the client may authenticate at all.
    fn is_active(&self) -> bool;
    /// JWS algorithm of its access tokens (`RS256`, `ES256`, `EdDSA`); `None` for the default.
    fn access_token_signed_response_alg(&self) -> Option<&str>;
}

/// A revoked token, remembered by digest (RFC 7009).
pub trait RevokedToken {
    /// Hex SHA-256 digest of the revoked token.
    fn token_digest(&self) -> &str;
}

/// How revocation creates a revoked-token row; the generator fills the entity's other fields
/// from their defaults.
pub trait NewRevokedToken {
    /// A row remembering `token_digest` until `expires_at` (after which the token is dead anyway).
    fn new_revoked_token(tenant_id: Uuid, token_digest: String, expires_at: Option<DateTime<Utc>>) -> Self;
}

/// Which entity plays each role; generated from `roles:` in the schema.
pub trait Roles: 'static {
    /// OAuth clients.
    type OauthClient: Resource<Model: OauthClient>;
    /// Revoked tokens.
    type RevokedToken: Resource<Model: RevokedToken, ActiveModel: NewRevokedToken + Send, Column: FromStr>;
}
