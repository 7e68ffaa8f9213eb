//! OpenID Connect Discovery 1.0 (§3) and RFC 8414 metadata: one document, listing exactly what
//! this server implements. Every URL comes from the schema's endpoint table, so an endpoint that
//! is not declared is never advertised.

use actix_web::web::Bytes;
use serde_json::{Map, Value, json};

use crate::endpoint::EndpointCtx;
use crate::error::ApiError;
use crate::jose::Algorithm;
use crate::oauth::issuer;

/// How clients may authenticate at the token endpoint.
const TOKEN_AUTH_METHODS: [&str; 4] = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
/// How clients may authenticate at introspection (public clients may not introspect).
const CONFIDENTIAL_AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "private_key_jwt"];

/// The document as JSON bytes. It depends only on the tenant's URL name and the server's
/// configuration, so each tenant's is built once and served from memory.
pub fn rendered(ctx: &EndpointCtx<'_>) -> Result<Bytes, ApiError> {
    let tenant = ctx.tenant_key()?;
    let documents = ctx.runtime().documents();
    if let Some(document) = documents.read().ok().and_then(|map| map.get(tenant).cloned()) {
        return Ok(document);
    }
    let document = Bytes::from(serde_json::to_vec(&document(ctx)?).map_err(ApiError::internal)?);
    if let Ok(mut map) = documents.write() {
        map.insert(tenant.to_owned(), document.clone());
    }
    Ok(document)
}

/// The metadata document of the tenant `ctx` names.
pub fn document(ctx: &EndpointCtx<'_>) -> Result<Value, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant_key()?;
    let url = |name: &str| rt.endpoint_url(name, tenant);
    // What clients may sign with (`private_key_jwt`)...
    let algorithms = json!(Algorithm::ALL.map(|a| a.as_str()));
    // ...and what this server signs with: each has a key in the JWKS (crate::keys).
    let signing = json!(crate::keys::SIGNING_ALGORITHMS.map(|a| a.as_str()));
    let mut doc = Map::new();
    let mut put = |key: &str, value: Value| {
        doc.insert(key.to_owned(), value);
    };
    // RFC 8414 §2 / Discovery §3: the issuer whose well-known URL served this document.
    put("issuer", json!(issuer(&rt.config().public_url, tenant)));
    let authorize = url("authorize");
    if let Some(authorize) = &authorize {
        put("authorization_endpoint", json!(authorize));
        put("response_types_supported", json!(["code"]));
        put("response_modes_supported", json!(["query"]));
        put("code_challenge_methods_supported", json!(["S256"]));
        // RFC 9207 §3: responses carry `iss`.
        put("authorization_response_iss_parameter_supported", json!(true));
        put("prompt_values_supported", json!(["none", "login", "consent", "select_account"]));
        put("request_parameter_supported", json!(false));
        put("request_uri_parameter_supported", json!(false));
        put("claims_parameter_supported", json!(false));
    } else {
        // REQUIRED (RFC 8414 §2) even when there is no authorization endpoint.
        put("response_types_supported", json!([]));
    }
    if let Some(token) = url("token") {
        put("token_endpoint", json!(token));
        put("token_endpoint_auth_methods_supported", json!(TOKEN_AUTH_METHODS));
        // RFC 8414 §2: required when `private_key_jwt` is listed.
        put("token_endpoint_auth_signing_alg_values_supported", algorithms.clone());
        let mut grants = vec!["client_credentials"];
        if authorize.is_some() {
            grants.extend(["authorization_code", "refresh_token"]);
        }
        put("grant_types_supported", json!(grants));
    }
    if let Some(jwks) = url("jwks") {
        put("jwks_uri", json!(jwks));
    }
    if let Some(userinfo) = url("userinfo") {
        put("userinfo_endpoint", json!(userinfo));
    }
    if authorize.is_some() {
        put("scopes_supported", json!(["openid", "profile", "email"]));
        put("subject_types_supported", json!(["public"]));
        put("id_token_signing_alg_values_supported", signing.clone());
        put(
            "claims_supported",
            json!([
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "azp",
                "at_hash",
                "sid",
                "name",
                "preferred_username",
                "updated_at",
                "email",
                "email_verified"
            ]),
        );
    }
    if let Some(register) = url("register") {
        put("registration_endpoint", json!(register));
    }
    if let Some(end_session) = url("end_session") {
        put("end_session_endpoint", json!(end_session));
    }
    if let Some(introspect) = url("introspect") {
        put("introspection_endpoint", json!(introspect));
        put("introspection_endpoint_auth_methods_supported", json!(CONFIDENTIAL_AUTH_METHODS));
        put("introspection_endpoint_auth_signing_alg_values_supported", algorithms.clone());
    }
    if let Some(revoke) = url("revoke") {
        put("revocation_endpoint", json!(revoke));
        put("revocation_endpoint_auth_methods_supported", json!(TOKEN_AUTH_METHODS));
        put("revocation_endpoint_auth_signing_alg_values_supported", algorithms.clone());
    }
    put("access_token_signing_alg_values_supported", signing);
    Ok(Value::Object(doc))
}
