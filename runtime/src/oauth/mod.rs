//! OAuth 2.1 protocol logic behind the endpoint handlers: client authentication, grants,
//! token introspection. Errors use RFC 6749 §5.2's JSON format, not problem+json.

pub mod client_auth;
pub mod error;
pub mod form;
pub mod introspect;
pub mod metadata;
pub mod revoke;
pub mod token;

pub use error::OAuthError;

/// A tenant's issuer identifier: `{public_url}/{tenant}` (RFC 8414 §2, OIDC Discovery §4.3).
pub fn issuer(public_url: &str, tenant_key: &str) -> String {
    format!("{}/{tenant_key}", public_url.trim_end_matches('/'))
}
