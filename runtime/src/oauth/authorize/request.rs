//! Parsing and validating an authorization request (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1, OIDC
//! Core §3.1.2.1), in the order §4.1.2.1 prescribes: the client and its redirect URI first,
//! whose failures are shown to the user and never redirected (plain 400s the page family shows),
//! then everything else, whose failures go back to the client ([`ApiError::redirected`]).

use actix_web::http::StatusCode;
use uuid::Uuid;

use crate::error::{ApiError, ErrorRedirect};
use crate::oauth::scope::{self, Scopes};
use crate::roles::OauthClient;
use crate::uri::redirect_uri_matches;
use crate::vocab::GrantType;

/// A request that passed validation.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: Uuid,
    /// Where the response goes (matched against the registration, or its only registered URI).
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri` (the token request must then repeat it).
    pub redirect_uri_sent: bool,
    /// Granted scopes: the requested ones the client holds (RFC 6749 §3.3).
    pub scopes: Vec<String>,
    /// Opaque client state, echoed back.
    pub state: Option<String>,
    /// OIDC nonce, copied into the ID token.
    pub nonce: Option<String>,
    /// PKCE S256 challenge (RFC 7636 §4.2).
    pub code_challenge: Option<String>,
    /// `prompt` values (OIDC Core §3.1.2.1).
    pub prompt: Prompt,
    /// Maximum authentication age in seconds.
    pub max_age: Option<i64>,
    /// Prefill for the username field.
    pub login_hint: Option<String>,
    /// Requested `acr` values, most preferred first (OIDC Core §3.1.2.1 `acr_values`).
    pub acr_values: Vec<String>,
    /// The issuer answering it (RFC 9207 `iss` in every response).
    pub issuer: String,
}

impl AuthorizationRequest {
    /// An error for the client, told at its redirect URI with `state` and `iss` (RFC 6749
    /// §4.1.2.1, OIDC Core §3.1.2.6, RFC 9207).
    pub fn refuse(&self, code: &'static str, description: impl Into<String>) -> ApiError {
        redirected(code, description, &self.redirect_uri, self.state.clone(), &self.issuer)
    }
}

/// An authorization error redirected to `uri`, which the caller verified. Its status (400) only
/// matters to a family other than the page family.
fn redirected(
    code: &'static str,
    description: impl Into<String>,
    uri: &str,
    state: Option<String>,
    issuer: &str,
) -> ApiError {
    let to = ErrorRedirect { uri: uri.to_owned(), state, issuer: issuer.to_owned() };
    ApiError::protocol(StatusCode::BAD_REQUEST, code, description, None).redirected(to)
}

/// The `prompt` parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: never show a page; fail with `login_required`/`consent_required` instead.
    pub none: bool,
    /// `login` (or `select_account`): ask for the password even with a session.
    pub login: bool,
    /// `consent`: ask for consent even if it was given before.
    pub consent: bool,
}

/// Request parameters, each at most once (RFC 6749 §3.1).
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a query string or form body.
    pub fn parse(encoded: &str) -> Result<Self, String> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(encoded).map_err(|_| "the request is not form-encoded".to_owned())?;
        Ok(Self(pairs))
    }

    fn repeated(&self, key: &str) -> bool {
        self.0.iter().filter(|(k, _)| k == key).count() > 1
    }

    /// A parameter; empty values count as absent (RFC 6749 §3.1).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// The parameters, encoded again.
    pub fn encode(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.0 {
            out.append_pair(key, value);
        }
        out.finish()
    }

    /// The parameters once the user has signed in: `prompt=login` and `max_age` are met, so
    /// they are dropped and the continued request does not ask for the password again.
    pub fn after_login(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.0 {
            match key.as_str() {
                "max_age" => {}
                "prompt" => {
                    let rest: Vec<&str> =
                        value.split(' ').filter(|p| !matches!(*p, "" | "login" | "select_account")).collect();
                    if !rest.is_empty() {
                        out.append_pair(key, &rest.join(" "));
                    }
                }
                _ => {
                    out.append_pair(key, value);
                }
            }
        }
        out.finish()
    }
}

/// The `client_id` of a request, if it names one well-formed.
pub fn client_id(params: &Params) -> Result<Uuid, ApiError> {
    if params.repeated("client_id") {
        return Err(ApiError::bad_request("The request repeats `client_id`."));
    }
    params
        .get("client_id")
        .ok_or_else(|| ApiError::bad_request("The request does not say which application is asking (`client_id`)."))?
        .parse()
        .map_err(|_| ApiError::bad_request("The application that sent you here is not registered."))
}

/// Validates the rest of a request for `client` (looked up by [`client_id`]), answered by
/// `issuer`.
pub fn validate(
    params: &Params,
    client_id: Uuid,
    client: &impl OauthClient,
    issuer: String,
) -> Result<AuthorizationRequest, ApiError> {
    if !client.is_active() {
        return Err(ApiError::bad_request("The application that sent you here is disabled."));
    }
    if params.repeated("redirect_uri") {
        return Err(ApiError::bad_request("The request repeats `redirect_uri`."));
    }
    let redirect_uri = effective_redirect_uri(params, client)?;
    let state = params.get("state").map(str::to_owned);
    let fail =
        |error: &'static str, description: String| redirected(error, description, redirect_uri, state.clone(), &issuer);
    // From here on, errors are redirected. RFC 6749 §3.1: no parameter may repeat.
    if let Some((key, _)) = params.0.iter().find(|(key, _)| params.repeated(key)) {
        return Err(fail("invalid_request", format!("parameter `{key}` is repeated")));
    }
    // No parameter has a use for control characters (`state` is even limited to printable
    // ASCII, RFC 6749 Appendix A.5), and `nonce` is stored with the code: refuse them here.
    if let Some((key, _)) = params.0.iter().find(|(_, value)| crate::check::has_control(value)) {
        return Err(fail("invalid_request", format!("parameter `{key}` contains control characters")));
    }
    match params.get("response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(fail(
                "unsupported_response_type",
                format!("response_type `{other}` is not supported; use `code`"),
            ));
        }
        None => return Err(fail("invalid_request", "missing `response_type`".into())),
    }
    if let Some(mode) = params.get("response_mode")
        && mode != "query"
    {
        return Err(fail("invalid_request", format!("response_mode `{mode}` is not supported; use `query`")));
    }
    // OIDC Core §6: request objects are not supported, and say so with their own error codes.
    if params.get("request").is_some() {
        return Err(fail("request_not_supported", "request objects are not supported".into()));
    }
    if params.get("request_uri").is_some() {
        return Err(fail("request_uri_not_supported", "`request_uri` is not supported".into()));
    }
    if !GrantType::AuthorizationCode.is_in(&client.grant_types().0) {
        return Err(fail("unauthorized_client", "this client may not use the authorization code grant".into()));
    }
    // RFC 7636 §4.3, OAuth 2.1 §4.1.1: S256 only; required for public clients and by default.
    let public = client.token_endpoint_auth_method().is_public();
    let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method")) {
        (Some(_), Some(method)) if method != "S256" => {
            return Err(fail(
                "invalid_request",
                format!("code_challenge_method `{method}` is not supported; use S256"),
            ));
        }
        (Some(_), None) => {
            // RFC 7636 §4.3: an absent method means `plain`, which is refused.
            return Err(fail(
                "invalid_request",
                "code_challenge_method must be S256 (`plain` is not supported)".into(),
            ));
        }
        (Some(challenge), Some(_)) if !is_s256_challenge(challenge) => {
            return Err(fail("invalid_request", "code_challenge must be 43 base64url characters (S256)".into()));
        }
        (Some(challenge), Some(_)) => Some(challenge.to_owned()),
        (None, Some(_)) => return Err(fail("invalid_request", "code_challenge_method without code_challenge".into())),
        (None, None) if public || client.require_pkce() => {
            return Err(fail("invalid_request", "PKCE is required: send code_challenge with method S256".into()));
        }
        (None, None) => None,
    };
    let scopes = scope::grant(params.get("scope"), client.scopes().0.iter().map(String::as_str))
        .map_err(|problem| fail("invalid_scope", problem))?;
    let mut prompt = Prompt::default();
    for value in params.get("prompt").unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
        match value {
            "none" => prompt.none = true,
            "login" | "select_account" => prompt.login = true,
            "consent" => prompt.consent = true,
            other => return Err(fail("invalid_request", format!("prompt `{other}` is not supported"))),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        // OIDC Core §3.1.2.1: `none` with any other value is an error.
        return Err(fail("invalid_request", "prompt `none` cannot be combined with other values".into()));
    }
    let max_age = match params.get("max_age") {
        Some(value) => match value.parse::<i64>() {
            Ok(seconds) if seconds >= 0 => Some(seconds),
            _ => return Err(fail("invalid_request", "max_age must be a non-negative number of seconds".into())),
        },
        None => None,
    };
    let nonce = params.get("nonce").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > 512) {
        return Err(fail("invalid_request", "nonce is longer than 512 characters".into()));
    }
    Ok(AuthorizationRequest {
        client_id,
        redirect_uri: redirect_uri.to_owned(),
        redirect_uri_sent: params.get("redirect_uri").is_some(),
        scopes: scopes.into_vec(),
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint: params.get("login_hint").map(str::to_owned),
        acr_values: params
            .get("acr_values")
            .unwrap_or("")
            .split(' ')
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect(),
        issuer,
    })
}

/// The redirect URI the response goes to: the request's, if the client registered it; else the
/// client's only registered URI, which OAuth 2.1 §4.1.1 (RFC 6749 §3.1.2.3) lets a request omit
/// — except an OpenID request (one whose scope names `openid`), which must name it (OIDC Core
/// §3.1.2.1). Failures are shown to the user, never redirected (RFC 6749 §4.1.2.1).
fn effective_redirect_uri<'a>(params: &'a Params, client: &'a impl OauthClient) -> Result<&'a str, ApiError> {
    if let Some(uri) = params.get("redirect_uri") {
        if !redirect_uri_matches(uri, &client.redirect_uris().0, client.application_type()) {
            return Err(ApiError::bad_request(
                "The application asked to return to an address it has not registered, so you were not sent back.",
            ));
        }
        return Ok(uri);
    }
    // Without `scope` the request gets the client's scopes, so those decide whether it is OpenID.
    let openid = match params.get("scope") {
        Some(requested) => Scopes::parse(requested).is_ok_and(|scopes| scopes.contains("openid")),
        None => client.scopes().0.iter().any(|s| s == "openid"),
    };
    match client.redirect_uris().0.as_slice() {
        [only] if !openid => Ok(only),
        [_] => Err(ApiError::bad_request(
            "The request does not say where to return to (`redirect_uri`), which OpenID Connect requires.",
        )),
        _ => Err(ApiError::bad_request("The request does not say where to return to (`redirect_uri`).")),
    }
}

/// RFC 7636 §4.2: BASE64URL(SHA-256(verifier)) is exactly 43 characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_challenges_have_the_exact_shape() {
        assert!(is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!is_s256_challenge("short"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    }
}
