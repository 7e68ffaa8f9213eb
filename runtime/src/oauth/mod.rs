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

/// Grant types the token endpoint implements (RFC 6749 §4.1, §4.4, §6).
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

/// How clients may authenticate at the token endpoint (RFC 7591 §2): a secret in the
/// `Authorization` header or the form, a JWT assertion (RFC 7523), or not at all (public clients).
pub const TOKEN_AUTH_METHODS: [&str; 4] = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];

/// A tenant's issuer identifier: `{public_url}/{tenant}` (RFC 8414 §2, OIDC Discovery §4.3).
pub fn issuer(public_url: &str, tenant_key: &str) -> String {
    format!("{}/{tenant_key}", public_url.trim_end_matches('/'))
}
