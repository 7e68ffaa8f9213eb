//! OpenID Connect Discovery 1.0 (§3) and RFC 8414 metadata: one document, listing exactly what
//! this server implements. Every URL comes from the schema's endpoint table, so an endpoint that
//! is not declared is never advertised; and what a relying party would register for follows the
//! tenant's registration settings, so nothing is advertised that its policy forbids.

use std::sync::Arc;

use actix_web::web::Bytes;
use serde_json::{Map, Value, json};

use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::jose::Algorithm;
use crate::oauth::issuer;
use crate::oauth::registration_policy::DEFAULT_SCOPES;
use crate::roles::Roles;
use crate::tenancy::{self, Settings};
use crate::vocab::{ClientAuthMethod, GrantType, RegistrationMode};

/// The document as JSON bytes. It depends only on the tenant's URL name, its settings and the
/// server's configuration, so each tenant's is kept in memory with the settings it was built
/// from, and rebuilt when they change (tenant writes clear the settings cache on every replica).
pub async fn rendered<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<Bytes, ApiError> {
    let tenant = ctx.tenant_key()?;
    let settings = tenancy::settings::<R>(ctx.runtime(), ctx.tenant()?).await?;
    let documents = ctx.runtime().documents();
    let cached = documents.read().ok().and_then(|map| {
        map.get(tenant).filter(|(built_from, _)| **built_from == *settings).map(|(_, document)| document.clone())
    });
    if let Some(document) = cached {
        return Ok(document);
    }
    let document = Bytes::from(serde_json::to_vec(&document(ctx, &settings)?).map_err(ApiError::internal)?);
    if let Ok(mut map) = documents.write() {
        map.insert(tenant.to_owned(), (Arc::clone(&settings), document.clone()));
    }
    Ok(document)
}

/// The metadata document of the tenant `ctx` names, whose settings are `settings`.
pub fn document(ctx: &EndpointCtx<'_>, settings: &Settings) -> Result<Value, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant_key()?;
    let url = |name: &str| rt.endpoint_url(name, tenant);
    // What clients may sign with (`private_key_jwt`)...
    let algorithms = json!(Algorithm::VALUES);
    // ...and what this server signs with: each has a key in the JWKS (crate::keys).
    let signing = json!(crate::keys::SIGNING_ALGORITHMS.map(|a| a.as_str()));
    // With registration open to anyone (or to holders of an initial access token), advertise
    // only what its policy lets a client register for.
    let policy = (settings.registration != RegistrationMode::Closed).then_some(&settings.registration_policy);
    let auth_methods: Vec<ClientAuthMethod> =
        ClientAuthMethod::ALL.into_iter().filter(|m| policy.is_none_or(|p| p.allows_auth_method(*m))).collect();
    // Public clients may not introspect.
    let confidential_auth_methods: Vec<ClientAuthMethod> =
        auth_methods.iter().copied().filter(|m| !m.is_public()).collect();
    let scopes: Vec<&str> = policy.map_or(DEFAULT_SCOPES.to_vec(), |p| p.scopes.iter().collect());
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
        put("token_endpoint_auth_methods_supported", json!(auth_methods));
        // RFC 8414 §2: required when `private_key_jwt` is listed.
        put("token_endpoint_auth_signing_alg_values_supported", algorithms.clone());
        let grants: Vec<GrantType> = GrantType::ALL
            .into_iter()
            .filter(|g| authorize.is_some() || *g == GrantType::ClientCredentials)
            .filter(|g| policy.is_none_or(|p| p.allows_grant_type(*g)))
            .collect();
        put("grant_types_supported", json!(grants));
    }
    if let Some(jwks) = url("jwks") {
        put("jwks_uri", json!(jwks));
    }
    if let Some(userinfo) = url("userinfo") {
        put("userinfo_endpoint", json!(userinfo));
    }
    if authorize.is_some() {
        put("scopes_supported", json!(scopes));
        put("subject_types_supported", json!(["public"]));
        put("id_token_signing_alg_values_supported", signing.clone());
        // OIDC Discovery §3: the `acr` values ID tokens carry (OIDC Core §2).
        put("acr_values_supported", json!(crate::mfa::amr::ACR_VALUES_SUPPORTED));
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
                "amr",
                "acr",
                "name",
                "preferred_username",
                "updated_at",
                "email",
                "email_verified"
            ]),
        );
    }
    if let Some(register) = url("register").filter(|_| policy.is_some()) {
        put("registration_endpoint", json!(register));
    }
    if let Some(end_session) = url("end_session") {
        put("end_session_endpoint", json!(end_session));
    }
    if let Some(introspect) = url("introspect") {
        put("introspection_endpoint", json!(introspect));
        put("introspection_endpoint_auth_methods_supported", json!(confidential_auth_methods));
        put("introspection_endpoint_auth_signing_alg_values_supported", algorithms.clone());
    }
    if let Some(revoke) = url("revoke") {
        put("revocation_endpoint", json!(revoke));
        put("revocation_endpoint_auth_methods_supported", json!(auth_methods));
        put("revocation_endpoint_auth_signing_alg_values_supported", algorithms.clone());
    }
    put("access_token_signing_alg_values_supported", signing);
    Ok(Value::Object(doc))
}
