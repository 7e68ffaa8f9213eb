//! Endpoint families: the error format each kind of endpoint speaks, and the one place each
//! family turns an [`ApiError`] into a response ([`ErrorFamily::render`]).
//!
//! An endpoint declares its family in the schema (`errors:`); the generated route hands every
//! refusal to it, including the ones made before the handler runs (unknown tenant, body too
//! large, wrong media type, malformed encoding, wrong method) and the unknown routes beside it.
//! Handlers never build an error response: a protocol refusal is an [`ApiError`] carrying its
//! RFC code ([`crate::error::Kind::Protocol`]), returned with `?`, and written here.
//! Statuses keep their HTTP meaning (RFC 9110: 404, 405 with `Allow`, 413, 503 with
//! `Retry-After`); only the OAuth families turn a wrong media type or a field error into the
//! 400 `invalid_request` their RFCs define.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::{ApiError, ErrorRedirect, Kind};

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
    /// logout); or, for an authorization error with a verified redirect URI, a redirect that
    /// tells the client (RFC 6749 §4.1.2.1).
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

    /// `error` in this family's format (or the family the error asks for,
    /// [`ApiError::in_family`]), with its `Allow`, `Retry-After` and challenge headers. A 5xx is
    /// logged with its cause.
    pub fn render(self, req: &HttpRequest, error: &ApiError) -> HttpResponse {
        self.render_for(req.match_info().get("tenant"), error)
    }

    /// [`Self::render`] for a request of `tenant` (the `{tenant}` segment of its route, which an
    /// error page names; `None` for a request no route took).
    pub fn render_for(self, tenant: Option<&str>, error: &ApiError) -> HttpResponse {
        let family = error.family().unwrap_or(self);
        let mut response = match family {
            ErrorFamily::Problem => return error.error_response(),
            ErrorFamily::OAuth => {
                let (status, code) = oauth_code(error);
                oauth_json(status, code, error.detail())
            }
            ErrorFamily::Bearer => bearer(error),
            ErrorFamily::Page => match (error.redirect(), error.code()) {
                (Some(to), Some(code)) => authorization_redirect(to, code, error.detail()),
                _ => page(tenant, error),
            },
        };
        error.log();
        for (name, value) in error.headers() {
            // A browser answers a challenge with a password dialog, so pages never carry one;
            // the bearer family writes its own (RFC 6750 §3).
            if name == header::WWW_AUTHENTICATE && matches!(family, ErrorFamily::Page | ErrorFamily::Bearer) {
                continue;
            }
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }
}

#[derive(Serialize)]
struct OAuthBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

/// The RFC 6749 §5.2 error body `{"error", "error_description"}` with `Cache-Control: no-store`
/// and `Pragma: no-cache` (§5.1); the one place that shape is written.
fn oauth_json(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(OAuthBody { error: code, error_description: description })
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
/// A request that sent no credentials ([`Kind::NoCredentials`], §3.1) gets the bare challenge.
fn bearer(error: &ApiError) -> HttpResponse {
    let mut challenge = "Bearer realm=\"keygate\"".to_owned();
    if error.kind() == Kind::NoCredentials {
        return HttpResponse::build(error.status())
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::WWW_AUTHENTICATE, challenge))
            .finish();
    }
    let (status, code) = bearer_code(error);
    let description = error.detail();
    let mut response = oauth_json(status, code, description);
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

/// An authorization error told to the client at its verified redirect URI (RFC 6749
/// §4.1.2.1): `error`, `error_description`, `state` and the RFC 9207 `iss` in the query.
fn authorization_redirect(to: &ErrorRedirect, code: &str, description: &str) -> HttpResponse {
    let mut params = vec![("error", code.to_owned()), ("error_description", description.to_owned())];
    if let Some(state) = &to.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", to.issuer.clone()));
    crate::oauth::authorize::redirect(&to.uri, &params, Vec::new())
}

/// The HTML error page of `tenant` (of Keygate without one).
fn page(tenant: Option<&str>, error: &ApiError) -> HttpResponse {
    let tenant = tenant.unwrap_or("Keygate");
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

    fn header(response: &HttpResponse, name: header::HeaderName) -> &str {
        response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    async fn body(response: HttpResponse) -> String {
        let bytes = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[actix_web::test]
    async fn oauth_family_writes_rfc_6749_json_with_the_challenge() {
        let req = actix_web::test::TestRequest::default().to_http_request();
        let response = ErrorFamily::OAuth.render(&req, &ApiError::invalid_client("client authentication failed"));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(header(&response, header::WWW_AUTHENTICATE), "Basic realm=\"keygate\", charset=\"UTF-8\"");
        assert_eq!(header(&response, header::CACHE_CONTROL), "no-store");
        assert_eq!(header(&response, header::PRAGMA), "no-cache");
        assert_eq!(
            body(response).await,
            r#"{"error":"invalid_client","error_description":"client authentication failed"}"#
        );
    }

    #[actix_web::test]
    async fn bearer_family_writes_its_own_challenge() {
        let req = actix_web::test::TestRequest::default().to_http_request();
        let bare = ErrorFamily::Bearer.render(&req, &ApiError::credentials_required("send a token", "Bearer x"));
        assert_eq!(
            (bare.status(), header(&bare, header::WWW_AUTHENTICATE)),
            (StatusCode::UNAUTHORIZED, "Bearer realm=\"keygate\"")
        );
        assert_eq!(body(bare).await, "");
        let refused = ErrorFamily::Bearer.render(&req, &ApiError::invalid_token("it \"expired\""));
        assert_eq!(
            header(&refused, header::WWW_AUTHENTICATE),
            "Bearer realm=\"keygate\", error=\"invalid_token\", error_description=\"it 'expired'\""
        );
        let down = ErrorFamily::Bearer.render(&req, &ApiError::unavailable("down", 1));
        assert_eq!(header(&down, header::WWW_AUTHENTICATE), "", "an outage is no verdict on the token");
        assert_eq!(header(&down, header::RETRY_AFTER), "1");
    }

    #[actix_web::test]
    async fn page_family_redirects_authorization_errors_it_may() {
        let req = actix_web::test::TestRequest::default().to_http_request();
        let to = ErrorRedirect {
            uri: "https://app.example/cb?x=1".into(),
            state: Some("s 1".into()),
            issuer: "https://id.example/acme".into(),
        };
        let error = ApiError::protocol(StatusCode::BAD_REQUEST, "login_required", "not signed in", None);
        let response = ErrorFamily::Page.render(&req, &error.redirected(to));
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            header(&response, header::LOCATION),
            "https://app.example/cb?x=1&error=login_required&error_description=not+signed+in&state=s+1\
             &iss=https%3A%2F%2Fid.example%2Facme"
        );
        let page = ErrorFamily::Page.render(&req, &ApiError::bad_request("The request repeats `client_id`."));
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        assert!(header(&page, header::CONTENT_TYPE).starts_with("text/html"));
    }

    #[actix_web::test]
    async fn a_protocol_error_may_keep_its_protocol_format_elsewhere() {
        let req = actix_web::test::TestRequest::default().to_http_request();
        let refused = ApiError::invalid_grant("the refresh token is invalid").in_family(ErrorFamily::OAuth);
        let response = ErrorFamily::Problem.render(&req, &refused);
        assert_eq!(header(&response, header::CONTENT_TYPE), "application/json");
        assert!(body(response).await.contains(r#""error":"invalid_grant""#));
        let down = ErrorFamily::Problem.render(&req, &ApiError::unavailable("down", 1).in_family(ErrorFamily::OAuth));
        assert_eq!(header(&down, header::CONTENT_TYPE), "application/problem+json");
    }
}
