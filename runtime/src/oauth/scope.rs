//! Scope values (RFC 6749 §3.3): the one parser behind every endpoint and grant that reads a
//! `scope` — the authorization endpoint, the token endpoint's grants, dynamic registration and
//! tenant registration policies — and the one rule for granting them.
//!
//! A scope is a set: `openid openid` is `openid`. Granting follows RFC 6749 §3.3, which lets the
//! server issue a narrower scope than requested and say so in `scope`: requested values the
//! client (or, on refresh, the grant) does not hold are left out; if none of them is held, the
//! request fails with `invalid_scope`.

use std::fmt;

/// An ordered set of scope tokens: each at most once, in the order first given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a `scope` parameter: scope tokens separated by spaces (RFC 6749 §3.3). Runs of
    /// spaces and leading or trailing spaces are tolerated; repeats are dropped. A token with a
    /// character outside `%x21 / %x23-5B / %x5D-7E` is refused with a description of the problem
    /// (the caller answers `invalid_scope`).
    pub fn parse(value: &str) -> Result<Self, String> {
        Self::from_tokens(value.split(' ').filter(|token| !token.is_empty()))
    }

    /// Builds the set from separate tokens (a stored list), checking each like [`Scopes::parse`].
    pub fn from_tokens<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut set = Self::default();
        for token in tokens {
            if token.is_empty() || !token.bytes().all(is_scope_char) {
                return Err(format!("`{}` is not a valid scope value (RFC 6749 section 3.3)", token.escape_default()));
            }
            if !set.contains(token) {
                set.0.push(token.to_owned());
            }
        }
        Ok(set)
    }

    /// Whether `token` is in the set.
    pub fn contains(&self, token: &str) -> bool {
        self.0.iter().any(|held| held == token)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tokens, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The tokens, in order.
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

/// Space-separated, as `scope` parameters and claims carry it.
impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// What a request for `requested` is granted out of `held` (the client's scopes, or on refresh
/// the grant's), per RFC 6749 §3.3: the requested scopes that are held, in the order asked;
/// everything held when nothing is requested (an absent or blank `scope`). Refused, with a
/// description for `invalid_scope`, when `requested` does not parse or names nothing held.
pub fn grant<'a>(requested: Option<&str>, held: impl IntoIterator<Item = &'a str>) -> Result<Scopes, String> {
    let held: Vec<&str> = held.into_iter().collect();
    let requested = match requested.map(Scopes::parse).transpose()? {
        Some(requested) if !requested.is_empty() => requested,
        // Held values were checked when stored; a stray bad one is left out, not fatal.
        _ => return Scopes::from_tokens(held.into_iter().filter(|t| !t.is_empty() && t.bytes().all(is_scope_char))),
    };
    let granted = Scopes(requested.0.iter().filter(|token| held.contains(&token.as_str())).cloned().collect());
    if granted.is_empty() {
        return Err(format!("none of the requested scopes (`{requested}`) may be granted to this client"));
    }
    Ok(granted)
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_char(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_a_set_of_valid_tokens() {
        assert_eq!(Scopes::parse("openid openid profile").unwrap().to_string(), "openid profile");
        assert_eq!(Scopes::parse(" openid  email ").unwrap().to_string(), "openid email");
        assert!(Scopes::parse("").unwrap().is_empty());
        assert!(Scopes::parse("api:read urn:x-y!#[]").is_ok());
        for bad in ["open\"id", "a\\b", "tab\there", "é", "nul\0"] {
            assert!(Scopes::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Scopes::from_tokens(["openid", ""]).is_err());
    }

    #[test]
    fn requests_get_the_held_subset_or_invalid_scope() {
        let held = ["openid", "profile", "email"];
        assert_eq!(grant(None, held).unwrap().to_string(), "openid profile email");
        assert_eq!(grant(Some(" "), held).unwrap().to_string(), "openid profile email");
        assert_eq!(grant(Some("email openid email"), held).unwrap().to_string(), "email openid");
        assert_eq!(grant(Some("openid offline_access"), held).unwrap().to_string(), "openid");
        assert!(grant(Some("admin"), held).is_err());
        assert!(grant(Some("openid \"x\""), held).is_err());
        assert!(grant(None, []).unwrap().is_empty());
    }
}
