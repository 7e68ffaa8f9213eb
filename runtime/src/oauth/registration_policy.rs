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
use crate::string_list::StringList;
use crate::vocab::{ClientAuthMethod, GrantType};

/// Scopes a registered client may hold when the tenant sets none (OIDC Core §5.4).
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// What dynamic registration may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationPolicy {
    /// Grant types a registered client may use.
    pub grant_types: Vec<GrantType>,
    /// `token_endpoint_auth_method` values it may use.
    pub auth_methods: Vec<ClientAuthMethod>,
    /// Scopes it may hold; also what a client that registers no `scope` gets.
    pub scopes: Scopes,
}

impl Default for RegistrationPolicy {
    fn default() -> Self {
        Self {
            grant_types: GrantType::ALL.to_vec(),
            auth_methods: ClientAuthMethod::ALL.to_vec(),
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
        fn known<T>(values: &StringList, from_wire: fn(&str) -> Option<T>) -> Vec<T> {
            values.0.iter().filter_map(|value| from_wire(value)).collect()
        }
        let default = Self::default();
        Self {
            grant_types: grant_types.map_or(default.grant_types, |values| known(values, GrantType::from_wire)),
            auth_methods: auth_methods
                .map_or(default.auth_methods, |values| known(values, ClientAuthMethod::from_wire)),
            scopes: match scopes {
                Some(values) => Scopes::from_tokens(values.0.iter().map(String::as_str)).unwrap_or_default(),
                None => default.scopes,
            },
        }
    }

    /// Whether registration may ask for grant type `grant_type`.
    pub fn allows_grant_type(&self, grant_type: GrantType) -> bool {
        self.grant_types.contains(&grant_type)
    }

    /// Whether registration may ask for `token_endpoint_auth_method` `method`.
    pub fn allows_auth_method(&self, method: ClientAuthMethod) -> bool {
        self.auth_methods.contains(&method)
    }
}

/// Checks a `registration_grant_types` value: grant types this server implements, at least one
/// (a tenant that allows none sets `registration: closed`). Returns the list without repeats.
pub fn check_grant_types(values: &StringList) -> Result<StringList, String> {
    check_known(values, GrantType::VALUES, "grant type")
}

/// Checks a `registration_auth_methods` value like [`check_grant_types`].
pub fn check_auth_methods(values: &StringList) -> Result<StringList, String> {
    check_known(values, ClientAuthMethod::VALUES, "token_endpoint_auth_method")
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
        assert!(policy.allows_grant_type(GrantType::ClientCredentials));
        assert!(policy.allows_auth_method(ClientAuthMethod::PrivateKeyJwt));
        assert!(!policy.allows_auth_method(ClientAuthMethod::ClientSecretBasic));
        assert_eq!(policy.scopes.to_string(), "openid profile email");
    }
}
