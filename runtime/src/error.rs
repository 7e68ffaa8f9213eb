//! The one error type of the HTTP layer.
//!
//! Every handler and every helper under it returns `Result<_, ApiError>`, so any refusal travels
//! with `?` from any depth to the generated route. An error knows its status, its [`Kind`]
//! (refused input, a protocol refusal with its RFC error code, missing credentials, an outage, a
//! bug) and the headers it needs; it does not know its format. The endpoint's family
//! ([`crate::family::ErrorFamily`]) writes it, in one place per family: RFC 9457
//! `application/problem+json` (written here, for the admin and account APIs and every
//! extractor), RFC 6749 §5.2 JSON, RFC 6750 §3 challenges, an authorization-error redirect or an
//! HTML page. The client sees `detail`; the cause chain of a 5xx goes to the log, never to the
//! client. Lower layers keep their own small error types (`DbErr`, `KeyStoreError`,
//! `PasswordError`, `HookError`, JOSE and URI errors) and convert with `From` or `map_err`.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::{DbErr, RuntimeErr};
use serde::Serialize;

use crate::family::ErrorFamily;

/// A field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON name of the field.
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
}

/// What an error says about the request; each endpoint family decides from it (and the status)
/// how to write the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request is refused as sent (a 4xx of the HTTP layer: malformed, an invalid field, not
    /// found, a conflict, not allowed, too many attempts).
    Refused,
    /// A protocol refusal carrying the protocol's own error code: RFC 6749 §4.1.2.1 and §5.2,
    /// RFC 6750 §3.1, RFC 7591 §3.2.2, OIDC Core §3.1.2.6.
    Protocol(&'static str),
    /// The request carries no credentials at all (401). RFC 6750 §3.1 answers it with a bare
    /// challenge and no error code.
    NoCredentials,
    /// Infrastructure is unavailable (503 with `Retry-After`): the database cannot be reached,
    /// is busy past its timeout, has no storage left or is shutting down; the shared sign-in
    /// throttle (Redis) is down; this server is shutting down. Never a verdict on the request.
    Unavailable,
    /// A bug or an unexpected failure (500): the cause is logged, the client sees a generic
    /// message.
    Internal,
}

/// Where an authorization error goes instead of an error page (RFC 6749 §4.1.2.1): the client's
/// verified redirect URI, with the request's `state` and the RFC 9207 `iss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    /// The verified redirect URI.
    pub uri: String,
    /// The client's `state`, echoed back.
    pub state: Option<String>,
    /// The issuer (RFC 9207 `iss`).
    pub issuer: String,
}

/// An error on its way to becoming an HTTP response. Boxed, so `Result<T, ApiError>` stays one
/// pointer wide on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    kind: Kind,
    /// The problem+json `type` suffix and `title`.
    slug: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// For an authorization error the client may be told at its redirect URI.
    redirect: Option<ErrorRedirect>,
    /// The family that writes this error whatever the endpoint's ([`ApiError::in_family`]).
    family: Option<ErrorFamily>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    fn new(status: StatusCode, slug: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        let kind = match status {
            StatusCode::SERVICE_UNAVAILABLE => Kind::Unavailable,
            s if s.is_server_error() => Kind::Internal,
            _ => Kind::Refused,
        };
        Self(Box::new(Inner {
            status,
            kind,
            slug,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
            redirect: None,
            family: None,
            source: None,
        }))
    }

    /// Adds the `WWW-Authenticate` header `challenge` (RFC 9110 §11.6.1).
    fn challenge(mut self, challenge: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(challenge) {
            self.0.headers.push((header::WWW_AUTHENTICATE, value));
        }
        self
    }

    /// A protocol error: `status`, the protocol's error `code` and its description, and the
    /// `WWW-Authenticate` challenge the protocol asks for, if any. The typed constructors named
    /// by the codes (`ApiError::invalid_grant`, …) are in [`crate::oauth::error`].
    pub fn protocol(
        status: StatusCode,
        code: &'static str,
        description: impl Into<String>,
        challenge: Option<&str>,
    ) -> Self {
        let mut error = Self::new(status, "protocol", "Refused", description);
        error.0.kind = Kind::Protocol(code);
        match challenge {
            Some(challenge) => error.challenge(challenge),
            None => error,
        }
    }

    /// This protocol error told to the client at its redirect URI (RFC 6749 §4.1.2.1) by the
    /// page family, instead of on an error page. Only for a redirect URI already verified.
    pub fn redirected(mut self, to: ErrorRedirect) -> Self {
        self.0.redirect = Some(to);
        self
    }

    /// If this is a protocol error, written in `family`'s format whatever the family of the
    /// endpoint returning it (the account API's refresh answers a refused refresh token as the
    /// token endpoint does, RFC 6749 §5.2). Any other error is left to the endpoint's family.
    pub fn in_family(mut self, family: ErrorFamily) -> Self {
        if matches!(self.0.kind, Kind::Protocol(_)) {
            self.0.family = Some(family);
        }
        self
    }

    /// 401 for a request that carries no credentials: `challenge` (RFC 9110 §11.6.1) says what
    /// to send. RFC 6750 §3.1 families answer it with the bare challenge.
    pub fn credentials_required(detail: impl Into<String>, challenge: &str) -> Self {
        let mut error = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized", detail);
        error.0.kind = Kind::NoCredentials;
        error.challenge(challenge)
    }

    /// 400: the request cannot be read (malformed JSON or query string, unknown query parameters).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "Malformed request", detail)
    }

    /// 422: one field has a value the server will not accept.
    pub fn invalid_field(field: impl Into<String>, detail: impl Into<String>) -> Self {
        let field = field.into();
        let detail = detail.into();
        Self::invalid_fields(vec![FieldError { field, detail }])
    }

    /// 422: several fields at once.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("`{}`: {}", one.field, one.detail),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut error = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "Invalid field value", detail);
        error.0.errors = errors;
        error
    }

    /// 404: no such row (or tenant) for this caller.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", format!("no such {what}"))
    }

    /// 409: the write conflicts with an existing row.
    pub fn conflict(field: Option<&str>, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let mut error = Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail.clone());
        if let Some(field) = field {
            error.0.errors.push(FieldError { field: field.to_owned(), detail });
        }
        error
    }

    /// 401 for credentials that were presented and refused, with a `WWW-Authenticate: Bearer`
    /// challenge (RFC 6750 §3).
    pub fn unauthorized(detail: impl Into<String>, challenge: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized", detail).challenge(challenge)
    }

    /// 401 for valid credentials whose authentication is too old for the change asked
    /// (`urn:keygate:problem:reauthentication-required`), with `challenge`: RFC 9470 §3's
    /// `insufficient_user_authentication` and the `max_age` the change needs.
    pub fn reauthentication_required(detail: impl Into<String>, challenge: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "reauthentication-required", "Re-authentication required", detail)
            .challenge(challenge)
    }

    /// 405 with the `Allow` header RFC 9110 §15.5.6 requires (`allowed`: `GET, POST`).
    pub fn method_not_allowed(allowed: &str) -> Self {
        let mut error = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!("this route accepts {allowed}"),
        );
        if let Ok(value) = HeaderValue::from_str(allowed) {
            error.0.headers.push((header::ALLOW, value));
        }
        error
    }

    /// 413.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            format!("the body is larger than {limit} bytes"),
        )
    }

    /// 415.
    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            format!("send the body as `{expected}`"),
        )
    }

    /// 503 with `Retry-After` ([`Kind::Unavailable`]): a dependency is briefly unavailable.
    pub fn unavailable(detail: impl Into<String>, retry_after_secs: u32) -> Self {
        let mut error = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable", detail);
        error.0.headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after_secs)));
        error
    }

    /// 429 with `Retry-After` (RFC 6585 §4): too many attempts; try again after that many seconds.
    pub fn too_many_requests(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", "Too many requests", detail);
        error.0.headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after_secs)));
        error
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    /// 500 ([`Kind::Internal`]): a bug; the cause is logged, the client sees a generic message.
    /// An outage is [`ApiError::unavailable`] instead.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed to handle this request",
        );
        error.0.source = Some(source.into());
        error
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The detail sent to the client.
    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    /// Field errors sent to the client.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.0.errors
    }

    /// What the error says about the request.
    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    /// The protocol error code, if protocol code set one ([`ApiError::protocol`]).
    pub fn code(&self) -> Option<&'static str> {
        match self.0.kind {
            Kind::Protocol(code) => Some(code),
            _ => None,
        }
    }

    /// Where an authorization error goes instead of an error page ([`ApiError::redirected`]).
    pub fn redirect(&self) -> Option<&ErrorRedirect> {
        self.0.redirect.as_ref()
    }

    /// The family that writes this error whatever the endpoint's ([`ApiError::in_family`]).
    pub fn family(&self) -> Option<ErrorFamily> {
        self.0.family
    }

    /// Headers the response carries (`Allow`, `Retry-After`, `WWW-Authenticate`).
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.0.headers
    }

    /// Logs a server-side failure with its cause; every family calls this before rendering.
    pub fn log(&self) {
        if self.0.status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.0.status.as_u16(), self.0.title, self.0.detail)?;
        if let Some(source) = &self.0.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let body = Problem {
            kind: format!("urn:keygate:problem:{}", self.0.slug),
            title: self.0.title,
            status: self.0.status.as_u16(),
            detail: &self.0.detail,
            errors: &self.0.errors,
        };
        let mut response = HttpResponse::build(self.0.status);
        response.content_type("application/problem+json");
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        for (name, value) in &self.0.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(serde_json::to_string(&body).unwrap_or_default())
    }
}

/// Database errors without entity context: an outage (see `outage`) is a 503 the client may
/// retry, anything else is a 500. Writes go through `crud::write_error`, which also recognises
/// conflicts.
impl From<DbErr> for ApiError {
    fn from(error: DbErr) -> Self {
        outage(&error).unwrap_or_else(|| ApiError::internal(error))
    }
}

/// The 503 for a database error that says the database is unavailable rather than that the
/// request or the code is wrong: it cannot be reached, it is busy past the timeout, its storage
/// is full or failing, or it is shutting down. The cause is logged (every 5xx is).
pub(crate) fn outage(error: &DbErr) -> Option<ApiError> {
    let unavailable = |detail: &str| {
        let mut api = ApiError::unavailable(detail, 1);
        api.0.source = Some(error.to_string().into());
        Some(api)
    };
    if matches!(error, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
        return unavailable("the database cannot be reached; retry shortly");
    }
    if is_busy(error) {
        return unavailable("the database is busy; retry shortly");
    }
    let database_code = match error {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            sea_orm::sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
            sea_orm::sqlx::Error::Io(_) | sea_orm::sqlx::Error::PoolTimedOut | sea_orm::sqlx::Error::PoolClosed => {
                return unavailable("the database cannot be reached; retry shortly");
            }
            _ => None,
        },
        _ => None,
    };
    match database_code.as_deref() {
        // SQLite primary result codes (the extended code's low byte): SQLITE_IOERR,
        // SQLITE_FULL, SQLITE_CANTOPEN.
        Some(code) if code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 10 | 13 | 14)) => {
            unavailable("the database cannot store data right now (storage full or failing); retry later")
        }
        // PostgreSQL SQLSTATE classes 08 (connection), 53 (insufficient resources: disk full,
        // out of memory, too many connections) and 57P (operator intervention: shutdown).
        Some(code) if code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") => {
            unavailable("the database is unavailable; retry shortly")
        }
        _ => None,
    }
}

/// Whether the error is SQLite lock contention that outlasted the busy timeout.
pub(crate) fn is_busy(error: &DbErr) -> bool {
    let message = error.to_string();
    message.contains("database is locked") || message.contains("SQLITE_BUSY")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_constructor() {
        assert_eq!(ApiError::bad_request("x").kind(), Kind::Refused);
        assert_eq!(ApiError::unavailable("down", 1).kind(), Kind::Unavailable);
        assert_eq!(ApiError::internal("bug").kind(), Kind::Internal);
        assert_eq!(ApiError::credentials_required("x", "Bearer").kind(), Kind::NoCredentials);
        let protocol = ApiError::protocol(StatusCode::BAD_REQUEST, "invalid_grant", "used", None);
        assert_eq!((protocol.kind(), protocol.code()), (Kind::Protocol("invalid_grant"), Some("invalid_grant")));
    }

    #[test]
    fn an_unreachable_database_is_an_outage_not_a_bug() {
        let down: ApiError = DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout).into();
        assert_eq!((down.status(), down.kind()), (StatusCode::SERVICE_UNAVAILABLE, Kind::Unavailable));
        assert!(down.headers().iter().any(|(name, _)| name == header::RETRY_AFTER));
        let bug: ApiError = DbErr::Custom("no such column".into()).into();
        assert_eq!(bug.kind(), Kind::Internal);
    }

    #[test]
    fn only_protocol_errors_change_family() {
        let protocol = ApiError::protocol(StatusCode::BAD_REQUEST, "invalid_grant", "used", None);
        assert_eq!(protocol.in_family(ErrorFamily::OAuth).family(), Some(ErrorFamily::OAuth));
        assert_eq!(ApiError::unavailable("down", 1).in_family(ErrorFamily::OAuth).family(), None);
    }

    /// Protocol errors travel as `Err(ApiError)` with `?`; a result nested in a result (an
    /// error in the success value) must not come back into the runtime.
    #[test]
    fn no_error_hides_in_a_success_value() {
        let forbidden = [["Ok(", "Err("].concat(), ["Result<", "Result<"].concat()];
        let mut offenders = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        let mut files = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("runtime/src is readable") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files += 1;
                    let text = std::fs::read_to_string(&path).expect("a source file");
                    for (number, line) in text.lines().enumerate() {
                        if forbidden.iter().any(|pattern| line.contains(pattern.as_str())) {
                            offenders.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
                        }
                    }
                }
            }
        }
        assert!(files > 50, "walked runtime/src ({files} files)");
        assert!(offenders.is_empty(), "return the error with `?` instead:\n{}", offenders.join("\n"));
    }
}
