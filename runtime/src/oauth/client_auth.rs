//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3.1 `client_secret_basic` and `client_secret_post`, RFC 7523 `private_key_jwt`,
//! and public clients identified by `client_id` alone).
//!
//! The generated route of every `auth: client` endpoint calls [`authenticate`] before its
//! handler and hands the handler the [`Client`]; a handler cannot be reached without one.

use base64::Engine;
use uuid::Uuid;

use super::form::Form;
use crate::authorization::Authorization;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::jose::{CLOCK_SKEW, Jwks, TimeClaims, verify_client_jwt};
use crate::roles::{NewRevokedToken, OauthClient, RevokedTokenColumns, Roles};
use crate::secret;
use crate::vocab::ClientAuthMethod;

/// A client that proved who it is, or a public client that named itself.
pub struct AuthenticatedClient<M> {
    /// Its `client_id`.
    pub id: Uuid,
    /// The stored client.
    pub model: M,
    /// A public client (RFC 7591 `none`) identified by `client_id` alone, which proved nothing;
    /// endpoints that serve confidential clients only (introspection) refuse it.
    pub public: bool,
}

/// The client calling an endpoint of the schema's roles `R`.
pub type Client<R> = AuthenticatedClient<Model<R>>;

/// RFC 7523 §2.2: the only client assertion type.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the request says who the client is.
enum Credentials {
    /// `client_secret_basic` or `client_secret_post`.
    Secret { client_id: String, secret: String },
    /// `private_key_jwt` (RFC 7523 §2.2).
    Assertion { client_id: Option<String>, assertion: String },
    /// A public client's bare `client_id`.
    Public { client_id: String },
}

type Model<R> = <<R as Roles>::OauthClient as sea_orm::EntityTrait>::Model;

/// Authenticates the client calling an `auth: client` endpoint, from its form-encoded request:
/// an unreadable form is `invalid_request`, and every failure to authenticate is
/// `invalid_client` with the same message, so responses do not reveal which client ids exist;
/// the digest is computed either way. A database failure is that error (503 when the database
/// is unavailable), never a verdict on the client.
pub async fn authenticate<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<Client<R>, ApiError> {
    let form = Form::parse(ctx)?;
    let failed = || ApiError::invalid_client("client authentication failed");
    let tenant = ctx.tenant()?;
    let find = |id: Option<Uuid>| async move {
        match id {
            Some(id) => ctx.runtime().clients().find::<R::OauthClient>(ctx.runtime(), tenant, id).await,
            None => Ok(None),
        }
    };
    let (id, model, authenticated, public) = match credentials(ctx, &form)? {
        Credentials::Secret { client_id, secret } => {
            let id: Option<Uuid> = client_id.parse().ok();
            let model = find(id).await?;
            let stored = model.as_ref().map(|m| m.client_secret_hash().to_owned()).unwrap_or_else(|| "0".repeat(64));
            let matches = secret::digest_matches(&secret, &stored);
            (id, model, matches, false)
        }
        Credentials::Assertion { client_id, assertion } => {
            let id = assertion_subject(&assertion, client_id.as_deref())?;
            let model = find(Some(id)).await?;
            let verified = match &model {
                Some(model) => verify_assertion::<R>(ctx, id, model, &assertion).await?,
                None => false,
            };
            (Some(id), model, verified, false)
        }
        // RFC 7591 §2 `none`: a public client proves nothing; it is only identified, and the
        // grants it may use (a PKCE-bound code, its refresh token) carry the proof instead.
        Credentials::Public { client_id } => {
            let id: Option<Uuid> = client_id.parse().ok();
            let model = find(id).await?;
            let public = model.as_ref().is_some_and(|m| m.token_endpoint_auth_method().is_public());
            (id, model, public, true)
        }
    };
    match (id, model) {
        (Some(id), Some(model)) if authenticated && model.is_active() => Ok(AuthenticatedClient { id, model, public }),
        _ => Err(failed()),
    }
}

/// The client an assertion is about (its `sub`, read before verification to find the keys),
/// which must equal a `client_id` sent beside it.
fn assertion_subject(assertion: &str, client_id: Option<&str>) -> Result<Uuid, ApiError> {
    let failed = || ApiError::invalid_client("client authentication failed");
    let payload = assertion.split('.').nth(1).ok_or_else(failed)?;
    let claims: serde_json::Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(failed)?;
    let subject = claims["sub"].as_str().ok_or_else(failed)?;
    if client_id.is_some_and(|id| id != subject) {
        return Err(ApiError::invalid_request("`client_id` does not match the client assertion"));
    }
    subject.parse().map_err(|_| failed())
}

/// RFC 7523 §3 and OIDC Core §9: signed by a key the client registered; `iss` and `sub` are
/// the client; `aud` names this server (its issuer or the endpoint called); `exp`, `nbf` and
/// `iat` hold within [`CLOCK_SKEW`] (RFC 7519 §4.1.4–§4.1.6); with a `jti` never seen before
/// (used assertions are remembered, by digest, until they expire).
async fn verify_assertion<R: Roles>(
    ctx: &EndpointCtx<'_>,
    client_id: Uuid,
    model: &Model<R>,
    assertion: &str,
) -> Result<bool, ApiError> {
    if model.token_endpoint_auth_method() != ClientAuthMethod::PrivateKeyJwt {
        return Ok(false);
    }
    let Some(keys) = model.jwks().and_then(|jwks| serde_json::from_value::<Jwks>(jwks.clone()).ok()) else {
        return Ok(false);
    };
    let Ok(claims) = verify_client_jwt(assertion, &keys.keys) else { return Ok(false) };
    let rt = ctx.runtime();
    let issuer = super::issuer(&rt.config().public_url, ctx.tenant_key()?);
    let called = format!("{}{}", rt.config().public_url.trim_end_matches('/'), ctx.request().path());
    let token_endpoint = rt.endpoint_url("token", ctx.tenant_key()?).unwrap_or_default();
    let audience_ok = |aud: &serde_json::Value| {
        aud.as_str().is_some_and(|aud| aud == issuer || aud == called || aud == token_endpoint)
    };
    let aud_ok = match &claims["aud"] {
        serde_json::Value::Array(values) => values.iter().any(audience_ok),
        single => audience_ok(single),
    };
    let me = client_id.to_string();
    let now = crate::now().timestamp();
    // RFC 7523 §3: `exp` is required; `nbf` and `iat`, when present, are honoured too.
    let times = TimeClaims::of(&claims).and_then(|times| Ok((times.require_exp()?, times.check(now, CLOCK_SKEW)?)));
    let Ok((exp, ())) = times else { return Ok(false) };
    let Some(jti) = claims["jti"].as_str() else { return Ok(false) };
    // A bounded lifetime bounds how long used `jti`s must be remembered.
    let bounded = exp <= now + MAX_ASSERTION_LIFETIME;
    if claims["iss"] != me.as_str() || claims["sub"] != me.as_str() || !aud_ok || !bounded {
        return Ok(false);
    }
    let digest = secret::digest(&format!("client-assertion:{me}:{jti}"));
    let tenant = ctx.tenant()?;
    let tx = rt.begin_write().await?;
    if crud::find_where(&*tx, tenant, R::RevokedToken::TOKEN_DIGEST, digest.clone()).await?.is_some() {
        return Ok(false);
    }
    let used = NewRevokedToken {
        tenant_id: tenant,
        token_digest: digest,
        // Accepted until `exp` plus the allowance, so remembered as long.
        expires_at: chrono::DateTime::from_timestamp(exp + CLOCK_SKEW, 0),
    };
    match crud::insert_new::<R::RevokedToken>(&*tx, used).await {
        Ok(()) => {}
        // The same assertion, presented concurrently: only one of them wins.
        Err(error) if error.status() == actix_web::http::StatusCode::CONFLICT => return Ok(false),
        Err(error) => return Err(error),
    }
    tx.commit().await?;
    Ok(true)
}

/// Client assertions may be valid for at most this many seconds.
const MAX_ASSERTION_LIFETIME: i64 = 3600;

/// Whether `jwks` is a usable JWK Set of public keys (the `check_client_keys` hook).
pub fn check_jwks(jwks: &serde_json::Value) -> Result<(), String> {
    let keys = jwks["keys"].as_array().ok_or("must be a JWK Set: {\"keys\": [...]}")?;
    if keys.is_empty() {
        return Err("must contain at least one key".into());
    }
    for key in keys {
        if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|member| key.get(member).is_some()) {
            return Err("must contain public keys only; a private key member was found".into());
        }
        serde_json::from_value::<crate::jose::Jwk>(key.clone()).map_err(|e| format!("is not a JWK: {e}"))?;
    }
    Ok(())
}

/// What the request presents: exactly one of Basic, a posted secret, or an assertion (RFC 6749
/// §2.3.1: "MUST NOT use more than one authentication method in each request").
fn credentials(ctx: &EndpointCtx<'_>, form: &Form) -> Result<Credentials, ApiError> {
    let header = Authorization::of(ctx.request()).map_err(|e| ApiError::invalid_client(e.to_string()))?;
    let posted_secret = form.get("client_secret");
    let assertion = form.get("client_assertion");
    let methods = [header.is_some(), posted_secret.is_some(), assertion.is_some()].iter().filter(|m| **m).count();
    if methods > 1 {
        return Err(ApiError::invalid_request("use one client authentication method, not two"));
    }
    if let Some(assertion) = assertion {
        if form.get("client_assertion_type") != Some(JWT_BEARER) {
            return Err(ApiError::invalid_client(format!("client_assertion_type must be {JWT_BEARER}")));
        }
        return Ok(Credentials::Assertion {
            client_id: form.get("client_id").map(str::to_owned),
            assertion: assertion.to_owned(),
        });
    }
    if let Some(header) = header {
        let Authorization::Basic { id, secret } = header else {
            return Err(ApiError::invalid_client("only Basic client authentication is accepted in the header"));
        };
        if form.get("client_id").is_some_and(|form_id| form_id != id) {
            return Err(ApiError::invalid_request("`client_id` does not match the authenticated client"));
        }
        return Ok(Credentials::Secret { client_id: id, secret });
    }
    match (form.get("client_id"), posted_secret) {
        (Some(id), Some(secret)) => Ok(Credentials::Secret { client_id: id.to_owned(), secret: secret.to_owned() }),
        (Some(id), None) => Ok(Credentials::Public { client_id: id.to_owned() }),
        (None, _) => Err(ApiError::invalid_client("client authentication is required")),
    }
}
