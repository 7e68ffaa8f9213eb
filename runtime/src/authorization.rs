//! The `Authorization` request header (RFC 9110 §11.6.2), parsed in one place for every endpoint
//! that reads it: the token, introspection and revocation endpoints (`Basic`), UserInfo, the admin
//! and account APIs and client registration (`Bearer`).
//!
//! Grammar (RFC 9110 §11.4, §11.1): `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`.
//! Scheme names are case-insensitive, so `BASIC`, `basic` and `Basic` are the same scheme; any
//! number of spaces may separate the scheme from its credentials, and optional whitespace around
//! the field value is not part of it (RFC 9110 §5.5).

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

/// What an `Authorization` header presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// `Basic` (RFC 7617) as OAuth clients use it (RFC 6749 §2.3.1): the user-id and password
    /// are each form-urlencoded before being joined, so both are decoded here.
    Basic {
        /// The user-id (for OAuth, the `client_id`).
        id: String,
        /// The password (for OAuth, the `client_secret`).
        secret: String,
    },
    /// `Bearer` (RFC 6750 §2.1): the token, a token68 (`b64token`).
    Bearer(String),
    /// Another scheme, by its name as sent; its credentials are not read.
    Other(String),
}

/// Why an `Authorization` header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// Not visible ASCII, no scheme, or credentials that do not fit the scheme's grammar.
    #[error("the Authorization header is malformed: {0}")]
    Malformed(&'static str),
}

/// `Basic` credentials are standard base64 (RFC 7617 §2, RFC 4648 §4); padding is accepted
/// whether or not the client sent it.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl Authorization {
    /// The request's `Authorization` header, parsed; `Ok(None)` when it has none.
    pub fn of(req: &HttpRequest) -> Result<Option<Self>, AuthorizationError> {
        let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
        let value = value.to_str().map_err(|_| AuthorizationError::Malformed("it is not visible ASCII"))?;
        Self::parse(value).map(Some)
    }

    /// Parses a header value (RFC 9110 §11.4 `credentials`).
    pub fn parse(value: &str) -> Result<Self, AuthorizationError> {
        let value = value.trim_matches([' ', '\t']);
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if !is_token(scheme) {
            return Err(AuthorizationError::Malformed("it does not start with an authentication scheme"));
        }
        let credentials = rest.trim_start_matches(' ');
        if scheme.eq_ignore_ascii_case("Basic") {
            basic(token68(credentials)?)
        } else if scheme.eq_ignore_ascii_case("Bearer") {
            Ok(Self::Bearer(token68(credentials)?.to_owned()))
        } else {
            Ok(Self::Other(scheme.to_owned()))
        }
    }

    /// The bearer token, if this is one.
    pub fn bearer(&self) -> Option<&str> {
        match self {
            Self::Bearer(token) => Some(token),
            _ => None,
        }
    }
}

/// RFC 7617 §2: `base64(user-id ":" password)`, UTF-8 (the charset Keygate announces); then
/// RFC 6749 §2.3.1: each part is `application/x-www-form-urlencoded`.
fn basic(encoded: &str) -> Result<Authorization, AuthorizationError> {
    let malformed = AuthorizationError::Malformed("Basic credentials are not base64 of `id:secret`");
    let decoded = BASE64.decode(encoded).map_err(|_| malformed)?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed)?;
    // The user-id cannot contain a colon (RFC 7617 §2); the password may.
    let (id, secret) = decoded.split_once(':').ok_or(malformed)?;
    Ok(Authorization::Basic { id: form_unescape(id), secret: form_unescape(secret) })
}

/// Decodes one `application/x-www-form-urlencoded` value (`+` is a space, `%XX` a byte).
fn form_unescape(value: &str) -> String {
    // Nothing to decode (the usual client id and secret): the value as it is.
    if !value.contains(['%', '+', '&']) {
        return value.to_owned();
    }
    form_urlencoded::parse(format!("v={value}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// RFC 9110 §11.2 `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn token68(credentials: &str) -> Result<&str, AuthorizationError> {
    let body = credentials.trim_end_matches('=');
    let fits = !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'));
    if fits { Ok(credentials) } else { Err(AuthorizationError::Malformed("the credentials are not a token68")) }
}

/// RFC 9110 §5.6.2 `token = 1*tchar`.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_')
                || matches!(b, b'`' | b'|' | b'~')
        })
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose;

    use super::*;

    /// `Basic` credentials as an OAuth client encodes them (RFC 6749 §2.3.1).
    fn basic_credentials(id: &str, secret: &str) -> String {
        let escape = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!("Basic {}", general_purpose::STANDARD.encode(format!("{}:{}", escape(id), escape(secret))))
    }

    #[test]
    fn scheme_names_are_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            assert_eq!(Authorization::parse(&format!("{scheme} abc.def")), Ok(Authorization::Bearer("abc.def".into())));
        }
        let basic = basic_credentials("client", "s3cret");
        for scheme in ["Basic", "basic", "BASIC"] {
            let value = basic.replacen("Basic", scheme, 1);
            assert_eq!(
                Authorization::parse(&value),
                Ok(Authorization::Basic { id: "client".into(), secret: "s3cret".into() }),
                "{value}"
            );
        }
        assert_eq!(Authorization::parse("DPoP abc"), Ok(Authorization::Other("DPoP".into())));
        assert_eq!(Authorization::parse("Digest username=\"a\""), Ok(Authorization::Other("Digest".into())));
    }

    #[test]
    fn spaces_around_and_between_are_tolerated() {
        assert_eq!(Authorization::parse("  Bearer    tok==  "), Ok(Authorization::Bearer("tok==".into())));
        assert_eq!(Authorization::parse("\tBearer tok\t"), Ok(Authorization::Bearer("tok".into())));
    }

    #[test]
    fn basic_parts_are_form_urlencoded_and_padding_is_optional() {
        // RFC 6749 §2.3.1: "a b:c" as id and "p%:+" as secret.
        let value = basic_credentials("a b:c", "p%:+");
        assert_eq!(
            Authorization::parse(&value),
            Ok(Authorization::Basic { id: "a b:c".into(), secret: "p%:+".into() })
        );
        let unpadded = value.trim_end_matches('=');
        assert_eq!(Authorization::parse(unpadded), Authorization::parse(&value));
        let colon_in_secret = format!("Basic {}", general_purpose::STANDARD.encode("id:se:cret"));
        assert_eq!(
            Authorization::parse(&colon_in_secret),
            Ok(Authorization::Basic { id: "id".into(), secret: "se:cret".into() })
        );
    }

    #[test]
    fn malformed_credentials_are_refused() {
        for value in [
            "",
            "   ",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a,b",
            "Bearer =abc",
            "Bearer a=b=c",
            "Bearer tök",
            "Basic",
            "Basic !!!",
            "Basic bm8tY29sb24=",
            "(Bearer) x",
            ", Bearer x",
        ] {
            assert!(Authorization::parse(value).is_err(), "{value:?}");
        }
        // "no-colon" base64 above has no `:`; invalid UTF-8 is refused too.
        let latin1 = format!("Basic {}", general_purpose::STANDARD.encode(b"id:caf\xe9"));
        assert!(Authorization::parse(&latin1).is_err());
    }
}
