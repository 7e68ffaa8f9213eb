//! RFC 6749 §5.2 error responses.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use serde::Serialize;

/// An OAuth error, as the client receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The RFC 6749 §5.2 (or extension) error code.
    pub code: &'static str,
    /// Human-readable `error_description`.
    pub description: String,
    status: StatusCode,
    challenge: Option<&'static str>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl OAuthError {
    fn new(code: &'static str, status: StatusCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), status, challenge: None }
    }

    /// `invalid_request`: a parameter is missing, repeated, or malformed.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", StatusCode::BAD_REQUEST, description)
    }

    /// `invalid_client` (401 with a `Basic` challenge, RFC 6749 §5.2): authentication failed.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self {
            challenge: Some("Basic realm=\"keygate\", charset=\"UTF-8\""),
            ..Self::new("invalid_client", StatusCode::UNAUTHORIZED, description)
        }
    }

    /// `invalid_grant`: the code or refresh token is invalid, expired, revoked, already used, or
    /// was issued to another client or redirect URI.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", StatusCode::BAD_REQUEST, description)
    }

    /// `unauthorized_client`: the client may not use this grant.
    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new("unauthorized_client", StatusCode::BAD_REQUEST, description)
    }

    /// `unsupported_grant_type`.
    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new("unsupported_grant_type", StatusCode::BAD_REQUEST, description)
    }

    /// `invalid_scope`.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new("invalid_scope", StatusCode::BAD_REQUEST, description)
    }

    /// `invalid_target` (RFC 8707 §2): the `resource` parameter is not acceptable.
    pub fn invalid_target(description: impl Into<String>) -> Self {
        Self::new("invalid_target", StatusCode::BAD_REQUEST, description)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response: JSON body, `Cache-Control: no-store` (RFC 6749 §5.1), and for
    /// `invalid_client` a `WWW-Authenticate` challenge.
    pub fn response(&self) -> HttpResponse {
        let mut response = json_response(self.status, self.code, &self.description);
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static(challenge));
        }
        response
    }
}

/// An OAuth error returned with `?` from a handler: the endpoint family renders it (for OAuth
/// endpoints exactly as [`OAuthError::response`] does).
impl From<OAuthError> for crate::error::ApiError {
    fn from(error: OAuthError) -> Self {
        crate::error::ApiError::protocol(error.status, error.code, error.description, error.challenge)
    }
}

/// The RFC 6749 §5.2 error body `{"error", "error_description"}` with `Cache-Control: no-store`
/// and `Pragma: no-cache` (§5.1); the one place that shape is written.
pub fn json_response(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(Body { error: code, error_description: description })
}
