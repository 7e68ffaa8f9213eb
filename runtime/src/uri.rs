//! URIs the server stores or acts on, parsed per RFC 3986 and checked by the rules of the
//! protocol that uses them: redirect URIs ([`redirect_uri`], [`redirect_uri_matches`]),
//! browser origins ([`origin`]), resource indicators and other absolute URIs ([`absolute_uri`],
//! [`uri`]).
//!
//! Parsing is [`fluent_uri`], a strict RFC 3986 parser, rather than the `url` crate: `url`
//! implements the WHATWG URL Standard, which repairs its input (it trims spaces, reads `\` as
//! `/`, decodes percent-encoded hosts, reads `127.1` as `127.0.0.1`) and so accepts strings
//! that are not URIs and gives them a meaning their registrant may not have intended. The OAuth
//! and OpenID specifications define these values as RFC 3986 URIs and compare them as strings
//! (RFC 3986 §6.2.1), so a value is accepted only when it is already an unambiguous URI.

use std::net::{Ipv4Addr, Ipv6Addr};

use fluent_uri::component::{Authority, Host};
use fluent_uri::{Uri, UriRef};

pub use crate::vocab::ApplicationType;

/// Why a value is not acceptable. Messages read after the value: "`x` has a fragment".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// Not RFC 3986 syntax (spaces, backslashes, non-ASCII, a bad percent-escape...).
    #[error("is not a URI (RFC 3986): {0}")]
    Syntax(String),
    /// A relative reference: no scheme (RFC 3986 §4.2).
    #[error("is not an absolute URI: it has no scheme (RFC 3986 §4.3)")]
    Relative,
    /// A fragment (`#...`), which RFC 6749 §3.1.2 and RFC 8707 §2 forbid.
    #[error("has a fragment (`#...`), which is not allowed")]
    Fragment,
    /// Userinfo (`user@host`), which hides the real host from a reader.
    #[error("has userinfo (`...@`) before its host, which is not allowed")]
    Userinfo,
    /// An `http`/`https` URI or an origin without a host.
    #[error("has no host")]
    NoHost,
    /// A host written with percent-escapes, which parsers decode differently.
    #[error("has a percent-encoded host; write the host plainly")]
    EncodedHost,
    /// A port above 65535 (RFC 6454 §4 needs a port number).
    #[error("has a port outside 0-65535")]
    Port,
    /// Plain `http` to a host other than a loopback one (OAuth 2.1 §2.3.1, RFC 8252 §8.3).
    #[error("uses plain http for a host that is not loopback (127.0.0.1, [::1] or localhost); use https")]
    InsecureHttp,
    /// A private-use scheme on a web client (RFC 8252 §7.1: native apps only).
    #[error("uses the private-use scheme `{0}`, which only native clients (application_type `native`) may use")]
    PrivateUseScheme(String),
    /// A private-use scheme that is not a reverse domain name (RFC 8252 §7.1, §8.4).
    #[error(
        "uses the scheme `{0}`; a native client's own scheme must be a reverse domain name such as `com.example.app`"
    )]
    NotReverseDomain(String),
    /// Not `scheme://host[:port]` (RFC 6454 §6.1): a path, query, fragment or `*`.
    #[error("is not an origin: write `scheme://host[:port]` with nothing after it (RFC 6454 §6.1)")]
    NotOrigin,
    /// An origin whose scheme is not `http` or `https`.
    #[error("is not an http or https origin")]
    OriginScheme,
}

/// A URI (RFC 3986 §3): a scheme and what follows, a fragment allowed. What a field declared
/// `format: uri` holds.
///
/// # Errors
/// [`UriError::Syntax`] or [`UriError::Relative`].
pub fn uri(value: &str) -> Result<Uri<&str>, UriError> {
    Uri::parse(value).map_err(|error| match UriRef::parse(value) {
        Ok(_) => UriError::Relative,
        Err(_) => UriError::Syntax(error.to_string()),
    })
}

/// An absolute URI (RFC 3986 §4.3): a [`uri`] without a fragment. A URN such as
/// `urn:example:api` is one. What RFC 8707 §2 requires of `resource`.
///
/// # Errors
/// Those of [`uri`], and [`UriError::Fragment`].
pub fn absolute_uri(value: &str) -> Result<Uri<&str>, UriError> {
    let parsed = uri(value)?;
    if parsed.has_fragment() {
        return Err(UriError::Fragment);
    }
    Ok(parsed)
}

/// A redirect URI a client of `application_type` may register (also post-logout redirect URIs):
/// an [`absolute_uri`] (RFC 6749 §3.1.2) without userinfo, and
/// - `https` with a host; or
/// - `http` only to a loopback host, `127.0.0.1`, `[::1]` or `localhost` (OAuth 2.1 §2.3.1,
///   RFC 8252 §7.3, §8.3), for native apps and for web apps in development; or
/// - for native clients only, a private-use scheme in reverse-domain form such as
///   `com.example.app:/cb` (RFC 8252 §7.1, §8.4).
///
/// Schemes compare case-insensitively (RFC 3986 §3.1), so `HTTP://evil.example` is plain http.
///
/// # Errors
/// Those of [`absolute_uri`]; [`UriError::Userinfo`], [`UriError::NoHost`],
/// [`UriError::EncodedHost`], [`UriError::Port`], [`UriError::InsecureHttp`],
/// [`UriError::PrivateUseScheme`], [`UriError::NotReverseDomain`].
pub fn redirect_uri(value: &str, application_type: ApplicationType) -> Result<Uri<&str>, UriError> {
    let parsed = absolute_uri(value)?;
    if parsed.authority().is_some_and(|authority| authority.has_userinfo()) {
        return Err(UriError::Userinfo);
    }
    let scheme = parsed.scheme().as_str().to_ascii_lowercase();
    match scheme.as_str() {
        "https" | "http" => {
            let host = host(&parsed)?;
            if scheme == "http" && !is_loopback(&host) {
                return Err(UriError::InsecureHttp);
            }
        }
        _ if application_type == ApplicationType::Web => return Err(UriError::PrivateUseScheme(scheme)),
        _ if !is_reverse_domain(&scheme) => return Err(UriError::NotReverseDomain(scheme)),
        _ => {}
    }
    Ok(parsed)
}

/// Whether `requested` names one of the `registered` redirect URIs of a client of
/// `application_type`. OAuth 2.1 §2.3.1 / RFC 6749 §3.1.2.3: simple string comparison (RFC 3986
/// §6.2.1). RFC 8252 §7.3: for native clients, a loopback IP literal (`127.0.0.1`, `[::1]`; not
/// `localhost`, §8.3) matches on any port, everything else compared exactly. `requested` must
/// itself be a valid [`redirect_uri`], so a value stored before validation existed never matches.
pub fn redirect_uri_matches(requested: &str, registered: &[String], application_type: ApplicationType) -> bool {
    let Ok(parsed) = redirect_uri(requested, application_type) else { return false };
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    if application_type != ApplicationType::Native {
        return false;
    }
    let Some(key) = loopback_ip_without_port(&parsed) else { return false };
    registered.iter().any(|r| {
        redirect_uri(r, application_type).ok().and_then(|r| loopback_ip_without_port(&r)).is_some_and(|r| r == key)
    })
}

/// A browser origin as RFC 6454 §6.1 serializes it, `scheme://host[:port]`, normalized the way a
/// browser sends it in `Origin`: scheme and host in lowercase, IPv6 in RFC 5952 form, the
/// scheme's default port (80, 443) dropped. `HTTPS://App.Example:443` → `https://app.example`.
///
/// # Errors
/// Those of [`uri`]; [`UriError::NotOrigin`] for a path (even `/`), query or fragment;
/// [`UriError::OriginScheme`], [`UriError::Userinfo`], [`UriError::NoHost`],
/// [`UriError::EncodedHost`], [`UriError::Port`].
pub fn origin(value: &str) -> Result<String, UriError> {
    let parsed = uri(value)?;
    if parsed.authority().is_none() || !parsed.path().is_empty() || parsed.has_query() || parsed.has_fragment() {
        return Err(UriError::NotOrigin);
    }
    serialized_origin(&parsed)
}

/// A list of [`origin`]s as they are stored (a client's `allowed_cors_origins`): each
/// normalized, repeats dropped, in the order first given.
///
/// # Errors
/// The first value that is not an origin, with [`origin`]'s reason.
pub fn origins(values: &[String]) -> Result<Vec<String>, (&str, UriError)> {
    let mut normalized = Vec::with_capacity(values.len());
    for value in values {
        let origin = origin(value).map_err(|error| (value.as_str(), error))?;
        if !normalized.contains(&origin) {
            normalized.push(origin);
        }
    }
    Ok(normalized)
}

/// The origin (RFC 6454 §4) of an `http` or `https` URI, serialized and normalized as by
/// [`origin`]: `https://App.Example:443/cb?x=1` → `https://app.example`. For a redirect URI,
/// the origin of the page the browser is sent to.
///
/// # Errors
/// Those of [`uri`]; [`UriError::OriginScheme`] for any other scheme (a private-use
/// `com.example.app:/cb`, a URN); [`UriError::Userinfo`], [`UriError::NoHost`],
/// [`UriError::EncodedHost`], [`UriError::Port`].
pub fn origin_of(value: &str) -> Result<String, UriError> {
    serialized_origin(&uri(value)?)
}

/// RFC 6454 §6.1: `scheme://host[:port]` of an `http` or `https` URI, lowercase, without the
/// scheme's default port; whatever follows the authority is ignored.
fn serialized_origin(parsed: &Uri<&str>) -> Result<String, UriError> {
    let scheme = parsed.scheme().as_str().to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(UriError::OriginScheme),
    };
    let authority = parsed.authority().ok_or(UriError::NoHost)?;
    if authority.has_userinfo() {
        return Err(UriError::Userinfo);
    }
    let host = host(parsed)?;
    Ok(match port(&authority)? {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// A host of a URI, parsed.
#[derive(Debug, PartialEq, Eq)]
enum ParsedHost {
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    /// A registered name, lowercased.
    Name(String),
}

impl std::fmt::Display for ParsedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParsedHost::Ipv4(ip) => write!(f, "{ip}"),
            ParsedHost::Ipv6(ip) => write!(f, "[{ip}]"),
            ParsedHost::Name(name) => f.write_str(name),
        }
    }
}

/// The host of `uri` (RFC 3986 §3.2.2), which must be there, be non-empty and not be
/// percent-encoded (RFC 3986 §3.2.2 allows escapes in a reg-name, but parsers then disagree on
/// which host is meant).
fn host(uri: &Uri<&str>) -> Result<ParsedHost, UriError> {
    let authority = uri.authority().ok_or(UriError::NoHost)?;
    port(&authority)?;
    match authority.host_parsed() {
        Host::Ipv4(ip) => Ok(ParsedHost::Ipv4(ip)),
        Host::Ipv6(ip) => Ok(ParsedHost::Ipv6(ip)),
        Host::RegName(name) if name.is_empty() => Err(UriError::NoHost),
        Host::RegName(name) if name.as_str().contains('%') => Err(UriError::EncodedHost),
        Host::RegName(name) => Ok(ParsedHost::Name(name.as_str().to_ascii_lowercase())),
        // `[v1.x]`: no client has a reason to use one.
        _ => Err(UriError::NoHost),
    }
}

/// The port, if one is written; an empty port (`host:`) is none (RFC 3986 §3.2.3).
fn port(authority: &Authority<'_>) -> Result<Option<u16>, UriError> {
    authority.port_to_u16().map_err(|_| UriError::Port)
}

/// OAuth 2.1 §2.3.1 and RFC 8252 §7.3, §8.3: the loopback hosts plain http may name.
fn is_loopback(host: &ParsedHost) -> bool {
    match host {
        ParsedHost::Ipv4(ip) => *ip == Ipv4Addr::LOCALHOST,
        ParsedHost::Ipv6(ip) => *ip == Ipv6Addr::LOCALHOST,
        ParsedHost::Name(name) => name == "localhost",
    }
}

/// RFC 8252 §7.1: "a URI scheme based on a domain name under their control, expressed in
/// reverse order": at least two non-empty dot-separated labels.
fn is_reverse_domain(scheme: &str) -> bool {
    scheme.contains('.') && scheme.split('.').all(|label| !label.is_empty())
}

/// For an `http` redirect URI to a loopback IP literal (RFC 8252 §7.3), everything but its port:
/// `(host, path, query)`; `None` for any other URI.
fn loopback_ip_without_port<'u>(uri: &Uri<&'u str>) -> Option<(ParsedHost, &'u str, Option<&'u str>)> {
    if !uri.scheme().as_str().eq_ignore_ascii_case("http") {
        return None;
    }
    let host = host(uri).ok()?;
    if !matches!(host, ParsedHost::Ipv4(_) | ParsedHost::Ipv6(_)) || !is_loopback(&host) {
        return None;
    }
    Some((host, uri.path().as_str(), uri.query().map(|q| q.as_str())))
}

#[cfg(test)]
mod tests {
    use super::ApplicationType::{Native, Web};
    use super::*;

    #[test]
    fn redirect_uris_follow_the_client_type() {
        for ok in [
            "https://app.example/cb",
            "https://app.example:8443/cb?x=1",
            "HTTPS://app.example/cb",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:8000/cb",
            "http://[::1]:8000/cb",
            "http://[0:0:0:0:0:0:0:1]/cb",
            "http://localhost:3000/cb",
            "http://LOCALHOST/cb",
        ] {
            assert_eq!(redirect_uri(ok, Web).map(|u| u.as_str()), Ok(ok), "web {ok}");
            assert!(redirect_uri(ok, Native).is_ok(), "native {ok}");
        }
        assert!(redirect_uri("com.example.app:/cb", Native).is_ok());
        assert!(redirect_uri("com.example.app://callback", Native).is_ok());
        assert_eq!(redirect_uri("com.example.app:/cb", Web), Err(UriError::PrivateUseScheme("com.example.app".into())));
        assert_eq!(redirect_uri("myapp:/cb", Native), Err(UriError::NotReverseDomain("myapp".into())));
        assert_eq!(redirect_uri("com..app:/cb", Native), Err(UriError::NotReverseDomain("com..app".into())));
    }

    #[test]
    fn hostile_redirect_uris_are_refused() {
        let refused = [
            // Userinfo: the host is evil.example, whatever the start looks like.
            ("http://localhost:80@evil.example/cb", UriError::Userinfo),
            ("https://app.example@evil.example/cb", UriError::Userinfo),
            ("http://127.0.0.1:80@evil.example/cb", UriError::Userinfo),
            ("com.example.app://user@host/cb", UriError::Userinfo),
            // Look-alike loopback names and encodings.
            ("http://127.0.0.1.evil.example/cb", UriError::InsecureHttp),
            ("http://localhost.evil.example/cb", UriError::InsecureHttp),
            ("http://127.1/cb", UriError::InsecureHttp),
            ("http://[::ffff:127.0.0.1]/cb", UriError::InsecureHttp),
            ("http://%6c%6fcalhost/cb", UriError::EncodedHost),
            ("https://evil%2eexample/cb", UriError::EncodedHost),
            ("HTTP://evil.example/cb", UriError::InsecureHttp),
            ("http://app.example/cb", UriError::InsecureHttp),
            // Fragments, even empty ones.
            ("https://app.example/cb#x", UriError::Fragment),
            ("https://app.example/cb#", UriError::Fragment),
            // No host.
            ("https:///cb", UriError::NoHost),
            ("https:/cb", UriError::NoHost),
            ("http://127.0.0.1:65536/cb", UriError::Port),
            // Not web schemes.
            ("javascript:alert(1)", UriError::PrivateUseScheme("javascript".into())),
            ("JavaScript:alert(1)", UriError::PrivateUseScheme("javascript".into())),
            ("data:text/html,x", UriError::PrivateUseScheme("data".into())),
            // Relative references.
            ("/cb", UriError::Relative),
            ("//evil.example/cb", UriError::Relative),
        ];
        for (value, error) in refused {
            assert_eq!(redirect_uri(value, Web).err(), Some(error), "{value}");
        }
        assert_eq!(redirect_uri("javascript:alert(1)", Native), Err(UriError::NotReverseDomain("javascript".into())));
        // Not RFC 3986 at all: whitespace, backslashes, non-ASCII, bad escapes, nothing.
        assert_eq!(redirect_uri("", Web).err(), Some(UriError::Relative));
        for value in [
            " https://app.example/cb",
            "https://app.example/cb ",
            "https://app.example/c b",
            "https://app.example\\@evil.example/cb",
            "https:\\\\evil.example\\cb",
            "https://app.example/cb\n",
            "https://bücher.example/cb",
            "https://app.example/%zz",
            "not a uri",
        ] {
            assert!(matches!(redirect_uri(value, Web), Err(UriError::Syntax(_))), "{value:?}");
        }
    }

    #[test]
    fn loopback_ports_vary_only_for_native_clients_on_ip_literals() {
        let registered = vec!["http://127.0.0.1/cb".to_owned(), "http://[::1]:80/cb?x=1".to_owned()];
        assert!(redirect_uri_matches("http://127.0.0.1/cb", &registered, Web));
        assert!(!redirect_uri_matches("http://127.0.0.1:5000/cb", &registered, Web));
        assert!(redirect_uri_matches("http://127.0.0.1:5000/cb", &registered, Native));
        assert!(redirect_uri_matches("http://[::1]:5000/cb?x=1", &registered, Native));
        assert!(!redirect_uri_matches("http://[::1]:5000/cb", &registered, Native));
        assert!(!redirect_uri_matches("http://127.0.0.1:5000/other", &registered, Native));
        assert!(!redirect_uri_matches("http://127.0.0.1:5000/cb#x", &registered, Native));
        assert!(!redirect_uri_matches("http://127.0.0.1:80@evil.example/cb", &registered, Native));
        assert!(!redirect_uri_matches("http://127.0.0.1.evil.example/cb", &registered, Native));
        assert!(!redirect_uri_matches("https://127.0.0.1:5000/cb", &registered, Native));
        // localhost is not a loopback literal (RFC 8252 §8.3): exact match only.
        let localhost = vec!["http://localhost/cb".to_owned()];
        assert!(!redirect_uri_matches("http://localhost:5000/cb", &localhost, Native));
        // A stored value that is not a valid redirect URI never matches, even exactly.
        let legacy = vec!["http://localhost:80@evil.example/cb".to_owned()];
        assert!(!redirect_uri_matches("http://localhost:80@evil.example/cb", &legacy, Web));
    }

    #[test]
    fn origins_are_serialized_and_normalized() {
        for (value, normalized) in [
            ("http://127.0.0.1:4300", "http://127.0.0.1:4300"),
            ("https://spa.example", "https://spa.example"),
            ("HTTPS://SPA.Example", "https://spa.example"),
            ("https://spa.example:443", "https://spa.example"),
            ("http://spa.example:80", "http://spa.example"),
            ("http://spa.example:443", "http://spa.example:443"),
            ("https://spa.example:08443", "https://spa.example:8443"),
            ("https://spa.example:", "https://spa.example"),
            ("http://[0:0::1]:4300", "http://[::1]:4300"),
        ] {
            assert_eq!(origin(value).as_deref(), Ok(normalized), "{value}");
        }
        for (value, error) in [
            ("http://127.0.0.1:4300/", UriError::NotOrigin),
            ("https://spa.example/app", UriError::NotOrigin),
            ("https://spa.example?x", UriError::NotOrigin),
            ("https://spa.example#x", UriError::NotOrigin),
            ("urn:example:spa", UriError::NotOrigin),
            ("https://user@spa.example", UriError::Userinfo),
            ("ftp://spa.example", UriError::OriginScheme),
            ("https://", UriError::NoHost),
            ("https://spa%2eexample", UriError::EncodedHost),
            ("https://spa.example:70000", UriError::Port),
            ("*", UriError::Relative),
            ("spa.example", UriError::Relative),
        ] {
            assert_eq!(origin(value), Err(error), "{value}");
        }
        assert!(matches!(origin("not an origin"), Err(UriError::Syntax(_))));
        assert!(matches!(origin("null"), Err(UriError::Relative)));
        assert!(matches!(origin(""), Err(UriError::Relative)));
    }

    #[test]
    fn origin_lists_are_normalized_sets_refused_at_the_first_bad_value() {
        let list = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>();
        let given = list(&["HTTPS://SPA.example:443", "http://127.0.0.1:4300", "https://spa.example"]);
        assert_eq!(origins(&given), Ok(list(&["https://spa.example", "http://127.0.0.1:4300"])));
        assert_eq!(origins(&[]), Ok(vec![]));
        let bad = list(&["https://spa.example", "https://spa.example/", "ftp://x.example"]);
        assert_eq!(origins(&bad), Err(("https://spa.example/", UriError::NotOrigin)));
    }

    #[test]
    fn the_origin_of_a_redirect_uri_is_its_scheme_host_and_port() {
        for (value, expected) in [
            ("https://App.Example/cb?x=1", "https://app.example"),
            ("https://app.example:443/cb", "https://app.example"),
            ("https://app.example:8443/a/b", "https://app.example:8443"),
            ("http://127.0.0.1:4300/callback", "http://127.0.0.1:4300"),
            ("http://localhost/cb", "http://localhost"),
            ("HTTP://[0:0::1]:80/cb", "http://[::1]"),
            ("https://app.example", "https://app.example"),
        ] {
            assert_eq!(origin_of(value).as_deref(), Ok(expected), "{value}");
        }
        for (value, error) in [
            ("com.example.app:/cb", UriError::OriginScheme),
            ("com.example.app://callback", UriError::OriginScheme),
            ("urn:example:app", UriError::OriginScheme),
            ("https:/cb", UriError::NoHost),
            ("https://user@app.example/cb", UriError::Userinfo),
        ] {
            assert_eq!(origin_of(value), Err(error), "{value}");
        }
    }

    #[test]
    fn absolute_uris_include_urns_and_exclude_fragments() {
        for ok in ["urn:example:api", "https://api.example", "https://api.example/v1?x=1", "mailto:a@example.com"] {
            assert!(absolute_uri(ok).is_ok(), "{ok}");
        }
        assert_eq!(absolute_uri("https://api.example/#x").err(), Some(UriError::Fragment));
        assert_eq!(absolute_uri("urn:example:api#x").err(), Some(UriError::Fragment));
        assert_eq!(absolute_uri("api").err(), Some(UriError::Relative));
        assert_eq!(absolute_uri("/api").err(), Some(UriError::Relative));
        assert!(matches!(absolute_uri("https://api.example/a b"), Err(UriError::Syntax(_))));
        // `format: uri` allows a fragment.
        assert!(uri("https://example.com/doc#part").is_ok());
    }
}
