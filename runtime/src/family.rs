//! Endpoint families: the error format each kind of endpoint speaks, and the one place each
//! family turns an [`ApiError`] into a response.
//!
//! An endpoint declares its family in the schema (`errors:`); the generated route hands every
//! refusal to it, including the ones made before the handler runs (unknown tenant, body too
//! large, wrong media type, malformed encoding, wrong method) and the unknown routes beside it.
//! Statuses keep their HTTP meaning (RFC 9110: 404, 405 with `Allow`, 413, 503 with
//! `Retry-After`); only the OAuth families turn a wrong media type or a field error into the
//! 400 `invalid_request` their RFCs define.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::error::ApiError;

/// How an endpoint reports errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFamily {
    /// RFC 6749 §5.2 JSON, `{"error", "error_description"}` with `Cache-Control: no-store`: the
    /// token, introspection (RFC 7662 §2.3) and revocation (RFC 7009 §2.2.1) endpoints, and
    /// registration (RFC 7591 §3.2.2 and RFC 7592 use the same shape).
    OAuth,
    /// RFC 6750 §3: a `WWW-Authenticate: Bearer` challenge carrying the error code, and the same
    /// JSON body: bearer-protected resources (UserInfo, OIDC Core §5.3.3).
    Bearer,
    /// RFC 9457 `application/problem+json`: the admin and account APIs, documents.
    Problem,
    /// An HTML error page: what a person's browser is sent to (authorization, sign-in, consent,
    /// logout).
    Page,
}

impl ErrorFamily {
    /// The response, or the error written in this family's format.
    pub fn respond(self, req: &HttpRequest, result: Result<HttpResponse, ApiError>) -> HttpResponse {
        match result {
            Ok(response) => response,
            Err(error) => self.render(req, &error),
        }
    }

    /// `error` in this family's format, with its `Allow`, `Retry-After` and challenge headers.
    /// A 5xx is logged with its cause.
    pub fn render(self, req: &HttpRequest, error: &ApiError) -> HttpResponse {
        let mut response = match self {
            ErrorFamily::Problem => return error.error_response(),
            ErrorFamily::OAuth => {
                let (status, code) = oauth_code(error);
                crate::oauth::error::json_response(status, code, error.detail())
            }
            ErrorFamily::Bearer => {
                let (status, code) = bearer_code(error);
                bearer_challenge(status, Some((code, error.detail())))
            }
            ErrorFamily::Page => page(req, error),
        };
        error.log();
        for (name, value) in error.headers() {
            // A browser answers a challenge with a password dialog; pages never carry one.
            if self == ErrorFamily::Page && name == header::WWW_AUTHENTICATE {
                continue;
            }
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }
}

/// The RFC 6749 §5.2 code and status of an error without one of its own: 401 is
/// `invalid_client`, 403 `unauthorized_client`, 503 `temporarily_unavailable` and other 5xx
/// `server_error` (the codes of §4.1.2.1), every other refusal `invalid_request`. A wrong media
/// type or field is 400 (§5.2: "unless specified otherwise"; §3.2 requires form encoding).
fn oauth_code(error: &ApiError) -> (StatusCode, &'static str) {
    let status = error.status();
    if let Some(code) = error.code() {
        return (status, code);
    }
    match status {
        StatusCode::SERVICE_UNAVAILABLE => (status, "temporarily_unavailable"),
        s if s.is_server_error() => (status, "server_error"),
        StatusCode::UNAUTHORIZED => (status, "invalid_client"),
        StatusCode::FORBIDDEN => (status, "unauthorized_client"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY => {
            (StatusCode::BAD_REQUEST, "invalid_request")
        }
        _ => (status, "invalid_request"),
    }
}

/// The RFC 6750 §3.1 code and status: 401 `invalid_token`, 403 `insufficient_scope`, other
/// refusals `invalid_request` (400 for a wrong media type or field).
fn bearer_code(error: &ApiError) -> (StatusCode, &'static str) {
    let status = error.status();
    match (error.code(), status) {
        (Some(code), _) => (status, code),
        (None, StatusCode::UNAUTHORIZED) => (status, "invalid_token"),
        (None, StatusCode::FORBIDDEN) => (status, "insufficient_scope"),
        _ => oauth_code(error),
    }
}

/// An RFC 6750 §3 response: `WWW-Authenticate: Bearer realm="keygate"` with the error code and
/// description (a 5xx has no challenge: it is no verdict on the token), and the same as JSON.
/// Without an error (§3.1: a request that sent no credentials) the challenge is bare.
pub fn bearer_challenge(status: StatusCode, error: Option<(&str, &str)>) -> HttpResponse {
    let mut challenge = "Bearer realm=\"keygate\"".to_owned();
    let Some((code, description)) = error else {
        return HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::WWW_AUTHENTICATE, challenge))
            .finish();
    };
    let mut response = crate::oauth::error::json_response(status, code, description);
    if status.is_client_error() {
        // RFC 6750 §3: the attributes are quoted-strings (RFC 9110 §5.6.4).
        let quoted: String =
            description.chars().filter(|c| !c.is_control()).map(|c| if c == '"' { '\'' } else { c }).collect();
        challenge.push_str(&format!(", error=\"{code}\", error_description=\"{}\"", quoted.replace('\\', "/")));
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

/// The HTML error page of the tenant the path names.
fn page(req: &HttpRequest, error: &ApiError) -> HttpResponse {
    let tenant = req.match_info().get("tenant").unwrap_or("Keygate");
    let title =
        if error.status().is_server_error() { "Something went wrong" } else { "This request cannot be completed" };
    crate::browser::pages::error(tenant, error.status(), title, error.detail())
        .unwrap_or_else(|failed| failed.error_response())
}

/// The family of the nearest declared route directory to `path`, for a route nobody declared.
///
/// `families` holds directory prefixes of declared routes (`/{tenant}/oauth2/`) with the family
/// answering there; `{…}` matches any one segment. The longest prefix the path lies strictly
/// under wins, literal segments before parameters; no match is [`ErrorFamily::Problem`].
pub fn for_unknown_path(path: &str, families: &[(&str, ErrorFamily)]) -> ErrorFamily {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut best: Option<((usize, usize), ErrorFamily)> = None;
    for (prefix, family) in families {
        let wanted: Vec<&str> = prefix.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        if segments.len() <= wanted.len() {
            continue;
        }
        let matches = wanted.iter().zip(&segments).all(|(w, s)| w == s || (w.starts_with('{') && w.ends_with('}')));
        let score = (wanted.len(), wanted.iter().filter(|w| !w.starts_with('{')).count());
        if matches && best.is_none_or(|(best_score, _)| score > best_score) {
            best = Some((score, *family));
        }
    }
    best.map(|(_, family)| family).unwrap_or(ErrorFamily::Problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAMILIES: &[(&str, ErrorFamily)] = &[
        ("/{tenant}/", ErrorFamily::Page),
        ("/{tenant}/oauth2/", ErrorFamily::OAuth),
        ("/{tenant}/auth/", ErrorFamily::Problem),
        ("/admin/", ErrorFamily::Problem),
    ];

    #[test]
    fn unknown_paths_take_the_family_of_their_nearest_directory() {
        assert_eq!(for_unknown_path("/acme/oauth2/nope", FAMILIES), ErrorFamily::OAuth);
        assert_eq!(for_unknown_path("/acme/oauth2/a/b", FAMILIES), ErrorFamily::OAuth);
        assert_eq!(for_unknown_path("/acme/auth/nope", FAMILIES), ErrorFamily::Problem);
        assert_eq!(for_unknown_path("/acme/nope", FAMILIES), ErrorFamily::Page);
        // Literal segments beat a parameter of the same depth.
        assert_eq!(for_unknown_path("/admin/nope", FAMILIES), ErrorFamily::Problem);
        // Not under any directory: the tenant itself, the root.
        assert_eq!(for_unknown_path("/acme", FAMILIES), ErrorFamily::Problem);
        assert_eq!(for_unknown_path("/", FAMILIES), ErrorFamily::Problem);
    }

    #[test]
    fn oauth_codes_follow_rfc_6749() {
        let (status, code) = oauth_code(&ApiError::unsupported_media_type("application/x-www-form-urlencoded"));
        assert_eq!((status, code), (StatusCode::BAD_REQUEST, "invalid_request"));
        let (status, code) = oauth_code(&ApiError::payload_too_large(10));
        assert_eq!((status, code), (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request"));
        let (status, code) = oauth_code(&ApiError::unavailable("down", 5));
        assert_eq!((status, code), (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable"));
        let (status, code) = bearer_code(&ApiError::unauthorized("no", "Bearer"));
        assert_eq!((status, code), (StatusCode::UNAUTHORIZED, "invalid_token"));
    }
}
