//! The protocol errors of the OAuth endpoints, as [`ApiError`] constructors named by their
//! codes: RFC 6749 §5.2 (token endpoint, and introspection and revocation, RFC 7662 §2.3 and
//! RFC 7009 §2.2.1), RFC 8707 §2, RFC 6750 §3.1 (bearer tokens) and RFC 7591 §3.2.2 (client
//! registration). Each is a [`crate::error::Kind::Protocol`] error, returned with `?` from any
//! depth; the endpoint's family writes it ([`crate::family`]), so none of these builds a response.

use actix_web::http::StatusCode;

use crate::error::ApiError;

/// The `WWW-Authenticate` challenge of `invalid_client` (RFC 6749 §5.2).
const BASIC_CHALLENGE: &str = "Basic realm=\"keygate\", charset=\"UTF-8\"";

/// The `WWW-Authenticate` challenge of `invalid_token` (RFC 6750 §3) where the OAuth family
/// writes it (client registration); the bearer family writes its own, with the description.
const INVALID_TOKEN_CHALLENGE: &str = "Bearer realm=\"keygate\", error=\"invalid_token\"";

fn refused(code: &'static str, description: impl Into<String>) -> ApiError {
    ApiError::protocol(StatusCode::BAD_REQUEST, code, description, None)
}

impl ApiError {
    /// 400 `invalid_request` (RFC 6749 §5.2, RFC 6750 §3.1): a parameter is missing, repeated,
    /// or malformed.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        refused("invalid_request", description)
    }

    /// 401 `invalid_client` with a `Basic` challenge (RFC 6749 §5.2): client authentication
    /// failed.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::protocol(StatusCode::UNAUTHORIZED, "invalid_client", description, Some(BASIC_CHALLENGE))
    }

    /// 400 `invalid_grant` (RFC 6749 §5.2): the code or refresh token is invalid, expired,
    /// revoked, already used, or was issued to another client or redirect URI.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        refused("invalid_grant", description)
    }

    /// 400 `unauthorized_client` (RFC 6749 §5.2): the client may not use this grant, or (RFC
    /// 7009 §2.1) the token was issued to another client.
    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        refused("unauthorized_client", description)
    }

    /// 400 `unsupported_grant_type` (RFC 6749 §5.2).
    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        refused("unsupported_grant_type", description)
    }

    /// 400 `invalid_scope` (RFC 6749 §5.2).
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        refused("invalid_scope", description)
    }

    /// 400 `invalid_target` (RFC 8707 §2): the `resource` parameter is not acceptable.
    pub fn invalid_target(description: impl Into<String>) -> Self {
        refused("invalid_target", description)
    }

    /// 401 `invalid_token` (RFC 6750 §3.1): the bearer token is missing where one is required,
    /// or is invalid, expired or revoked.
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::protocol(StatusCode::UNAUTHORIZED, "invalid_token", description, Some(INVALID_TOKEN_CHALLENGE))
    }

    /// 403 `insufficient_scope` (RFC 6750 §3.1): the token was not granted what this needs.
    pub fn insufficient_scope(description: impl Into<String>) -> Self {
        Self::protocol(StatusCode::FORBIDDEN, "insufficient_scope", description, None)
    }

    /// 403 `access_denied`: the resource owner or the server refused (RFC 6749 §4.1.2.1; client
    /// registration turned off).
    pub fn access_denied(description: impl Into<String>) -> Self {
        Self::protocol(StatusCode::FORBIDDEN, "access_denied", description, None)
    }

    /// 400 `invalid_client_metadata` (RFC 7591 §3.2.2): a metadata value is invalid or not
    /// allowed.
    pub fn invalid_client_metadata(description: impl Into<String>) -> Self {
        refused("invalid_client_metadata", description)
    }

    /// 400 `invalid_redirect_uri` (RFC 7591 §3.2.2).
    pub fn invalid_redirect_uri(description: impl Into<String>) -> Self {
        refused("invalid_redirect_uri", description)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header;

    use super::*;
    use crate::error::Kind;

    #[test]
    fn constructors_carry_their_code_status_and_challenge() {
        let error = ApiError::invalid_client("no");
        assert_eq!((error.status(), error.kind()), (StatusCode::UNAUTHORIZED, Kind::Protocol("invalid_client")));
        assert_eq!(error.headers(), [(header::WWW_AUTHENTICATE, header::HeaderValue::from_static(BASIC_CHALLENGE))]);
        let error = ApiError::invalid_grant("used");
        assert_eq!(
            (error.status(), error.code(), error.detail()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"), "used")
        );
        assert!(error.headers().is_empty());
        assert_eq!(ApiError::insufficient_scope("x").status(), StatusCode::FORBIDDEN);
    }
}
