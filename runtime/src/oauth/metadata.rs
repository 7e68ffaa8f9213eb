//! Authorization server metadata (RFC 8414), listing exactly what this server implements: every
//! URL comes from the schema's endpoint table, so an undeclared endpoint is never advertised.

use serde_json::{Map, Value, json};

use super::issuer;
use crate::endpoint::EndpointCtx;
use crate::error::ApiError;
use crate::jose::Algorithm;

/// Client authentication methods the token, introspection and revocation endpoints accept.
const CLIENT_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The metadata document of the tenant `ctx` names.
pub fn document(ctx: &EndpointCtx<'_>) -> Result<Value, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant_key()?;
    let url = |name: &str| rt.endpoint_url(name, tenant);
    let mut doc = Map::new();
    // §2: `issuer` is the identifier whose §3 well-known URL served this document.
    doc.insert("issuer".into(), json!(issuer(&rt.config().public_url, tenant)));
    if let Some(jwks) = url("jwks") {
        doc.insert("jwks_uri".into(), json!(jwks));
    }
    if let Some(token) = url("token") {
        doc.insert("token_endpoint".into(), json!(token));
        doc.insert("token_endpoint_auth_methods_supported".into(), json!(CLIENT_AUTH_METHODS));
        doc.insert("grant_types_supported".into(), json!(["client_credentials"]));
    }
    // REQUIRED (§2); no grant served here uses the authorization endpoint yet, so none is listed.
    doc.insert("response_types_supported".into(), json!([]));
    if let Some(introspect) = url("introspect") {
        doc.insert("introspection_endpoint".into(), json!(introspect));
        doc.insert("introspection_endpoint_auth_methods_supported".into(), json!(CLIENT_AUTH_METHODS));
    }
    if let Some(revoke) = url("revoke") {
        doc.insert("revocation_endpoint".into(), json!(revoke));
        doc.insert("revocation_endpoint_auth_methods_supported".into(), json!(CLIENT_AUTH_METHODS));
    }
    doc.insert("token_endpoint_auth_signing_alg_values_supported".into(), json!([]));
    doc.insert("access_token_signing_alg_values_supported".into(), json!(Algorithm::ALL.map(|a| a.as_str())));
    Ok(Value::Object(doc))
}
