//! A tenant's dynamic registration policy: which grant types, token endpoint authentication
//! methods and scopes RFC 7591 registration may ask for. It is three nullable tenant fields
//! (`registration_grant_types`, `registration_auth_methods`, `registration_scopes`); null means
//! the default, under which a standards-following relying party gets a working confidential
//! client for every grant the server implements, holding the standard OpenID Connect scopes.
//!
//! Registration refuses metadata outside the policy (RFC 7591 §3.2.2 `invalid_client_metadata`)
//! rather than registering something narrower (§3.2.1 allows both): client libraries use what
//! they asked for without comparing it with the registration they get back, so a narrowed client
//! would fail later, far from the cause. Discovery advertises only what the policy allows.

use super::scope::Scopes;
use super::{GRANT_TYPES, TOKEN_AUTH_METHODS};
use crate::string_list::StringList;

/// Scopes a registered client may hold when the tenant sets none (OIDC Core §5.4).
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// What dynamic registration may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationPolicy {
    /// Grant types a registered client may use (a subset of [`GRANT_TYPES`]).
    pub grant_types: Vec<String>,
    /// `token_endpoint_auth_method` values it may use (a subset of [`TOKEN_AUTH_METHODS`]).
    pub auth_methods: Vec<String>,
    /// Scopes it may hold; also what a client that registers no `scope` gets.
    pub scopes: Scopes,
}

impl Default for RegistrationPolicy {
    fn default() -> Self {
        Self {
            grant_types: GRANT_TYPES.map(str::to_owned).to_vec(),
            auth_methods: TOKEN_AUTH_METHODS.map(str::to_owned).to_vec(),
            scopes: Scopes::from_tokens(DEFAULT_SCOPES).unwrap_or_default(),
        }
    }
}

impl RegistrationPolicy {
    /// The policy stored in a tenant's fields; a null field takes the default. Values were
    /// checked when stored ([`check_grant_types`] and the others); any that no longer pass are
    /// left out rather than widening the policy.
    pub fn from_fields(
        grant_types: Option<&StringList>,
        auth_methods: Option<&StringList>,
        scopes: Option<&StringList>,
    ) -> Self {
        let default = Self::default();
        let known = |values: &StringList, known: &[&str]| -> Vec<String> {
            values.0.iter().filter(|value| known.contains(&value.as_str())).cloned().collect()
        };
        Self {
            grant_types: grant_types.map_or(default.grant_types, |values| known(values, &GRANT_TYPES)),
            auth_methods: auth_methods.map_or(default.auth_methods, |values| known(values, &TOKEN_AUTH_METHODS)),
            scopes: match scopes {
                Some(values) => Scopes::from_tokens(values.0.iter().map(String::as_str)).unwrap_or_default(),
                None => default.scopes,
            },
        }
    }

    /// Whether registration may ask for grant type `grant_type`.
    pub fn allows_grant_type(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|allowed| allowed == grant_type)
    }

    /// Whether registration may ask for `token_endpoint_auth_method` `method`.
    pub fn allows_auth_method(&self, method: &str) -> bool {
        self.auth_methods.iter().any(|allowed| allowed == method)
    }
}

/// Checks a `registration_grant_types` value: grant types this server implements, at least one
/// (a tenant that allows none sets `registration: closed`). Returns the list without repeats.
pub fn check_grant_types(values: &StringList) -> Result<StringList, String> {
    check_known(values, &GRANT_TYPES, "grant type")
}

/// Checks a `registration_auth_methods` value like [`check_grant_types`].
pub fn check_auth_methods(values: &StringList) -> Result<StringList, String> {
    check_known(values, &TOKEN_AUTH_METHODS, "token_endpoint_auth_method")
}

/// Checks a `registration_scopes` value: RFC 6749 §3.3 scope tokens (possibly none). Returns
/// the list without repeats.
pub fn check_scopes(values: &StringList) -> Result<StringList, String> {
    Ok(StringList(Scopes::from_tokens(values.0.iter().map(String::as_str))?.into_vec()))
}

fn check_known(values: &StringList, known: &[&str], what: &str) -> Result<StringList, String> {
    let mut checked: Vec<String> = Vec::with_capacity(values.0.len());
    for value in &values.0 {
        if !known.contains(&value.as_str()) {
            return Err(format!("`{value}` is not a {what} this server supports (one of: {})", known.join(", ")));
        }
        if !checked.contains(value) {
            checked.push(value.clone());
        }
    }
    if checked.is_empty() {
        return Err("must name at least one value, or be null for the default; to turn dynamic registration off, set `registration` to `closed`".into());
    }
    Ok(StringList(checked))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(values: &[&str]) -> StringList {
        StringList(values.iter().map(|v| (*v).to_owned()).collect())
    }

    #[test]
    fn policy_values_are_checked_and_deduplicated() {
        assert_eq!(check_grant_types(&list(&["refresh_token", "refresh_token"])).unwrap(), list(&["refresh_token"]));
        assert!(check_grant_types(&list(&["password"])).is_err());
        assert!(check_grant_types(&list(&[])).is_err());
        assert!(check_auth_methods(&list(&["client_secret_jwt"])).is_err());
        assert_eq!(check_scopes(&list(&["openid", "api:read", "openid"])).unwrap(), list(&["openid", "api:read"]));
        assert!(check_scopes(&list(&["two words"])).is_err());
        assert_eq!(check_scopes(&list(&[])).unwrap(), list(&[]));
    }

    #[test]
    fn null_fields_take_the_defaults() {
        let policy = RegistrationPolicy::from_fields(None, Some(&list(&["private_key_jwt"])), None);
        assert!(policy.allows_grant_type("client_credentials"));
        assert!(policy.allows_auth_method("private_key_jwt"));
        assert!(!policy.allows_auth_method("client_secret_basic"));
        assert_eq!(policy.scopes.to_string(), "openid profile email");
    }
}
