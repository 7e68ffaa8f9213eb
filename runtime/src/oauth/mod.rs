//! OAuth 2.1 protocol logic behind the endpoint handlers: the authorization endpoint, client
//! authentication, grants, token minting, introspection and revocation. Refusals are
//! [`crate::error::ApiError`]s with their protocol's code ([`error`]), which the endpoint families
//! write in RFC 6749 §5.2's JSON format, not problem+json.

pub mod access_token;
pub mod authorize;
pub mod client_auth;
pub mod code;
pub mod error;
pub mod form;
pub mod grants;
pub mod introspect;
pub mod issue;
pub mod refresh;
pub mod registration;
pub mod registration_policy;
pub mod revoke;
pub mod scope;
pub mod token;

/// A tenant's issuer identifier: `{public_url}/{tenant}` (RFC 8414 §2, OIDC Discovery §4.3).
pub fn issuer(public_url: &str, tenant_key: &str) -> String {
    format!("{}/{tenant_key}", public_url.trim_end_matches('/'))
}
