//! Dynamic client registration (RFC 7591) and management (RFC 7592). Whether anyone may register
//! is the tenant's `registration` setting: with an initial access token (the default), open, or
//! closed; what they may ask for is its registration policy ([`RegistrationPolicy`]), and metadata
//! outside it is refused with `invalid_client_metadata` naming what the tenant allows. Each
//! registered client gets a registration access token (stored as a digest) that reads, replaces
//! and deletes its registration at `registration_client_uri`.
//!
//! Beyond RFC 7591 §2 and OpenID Connect Registration §2, a client may register
//! `allowed_cors_origins` (Ory Hydra's name for it), the browser origins that may call the token,
//! UserInfo and revocation endpoints; a public web client that registers none gets its redirect
//! URIs' origins (see `cors_origins`).

use actix_web::HttpResponse;
use actix_web::http::{Method, header};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::authorization::Authorization;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::jose::Algorithm;
use crate::oauth::client_auth::check_jwks;
use crate::oauth::registration_policy::RegistrationPolicy;
use crate::oauth::scope::Scopes;
use crate::roles::{
    InitialAccessToken, InitialAccessTokenColumns, NewOauthClient, OauthClient, OauthClientColumns, Roles,
};
use crate::secret;
use crate::string_list::StringList;
use crate::tenancy;
use crate::vocab::{ApplicationType, ClientAuthMethod, GrantType, RegistrationMode};

/// Client metadata this server registers (RFC 7591 §2, OIDC Registration §2).
#[derive(Debug, Clone)]
struct Metadata {
    name: String,
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    scopes: Vec<String>,
    token_endpoint_auth_method: ClientAuthMethod,
    application_type: ApplicationType,
    id_token_signed_response_alg: Option<Algorithm>,
    jwks: Option<Value>,
    post_logout_redirect_uris: Vec<String>,
    allowed_cors_origins: Vec<String>,
}

/// A value the tenant's registration policy does not allow (RFC 7591 §3.2.1: refused, not
/// replaced, so the client learns it now rather than at first use): `invalid_client_metadata`.
fn not_allowed(what: &str, value: &str, allowed: &str) -> ApiError {
    let allowed = if allowed.is_empty() { "nothing" } else { allowed };
    ApiError::invalid_client_metadata(format!(
        "{what} `{value}` is not allowed by this tenant's registration policy, which allows: {allowed}"
    ))
}

/// Handles `POST /register` (RFC 7591 §3.1). Refusals are RFC 7591 §3.2.2 errors; with
/// registration closed, `access_denied`; without a live initial access token where the tenant
/// asks for one, RFC 6750 §3.1 `invalid_token`.
pub async fn register<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let settings = tenancy::settings::<R>(rt, tenant).await?;
    match settings.registration {
        RegistrationMode::Closed => {
            return Err(ApiError::access_denied("dynamic client registration is turned off for this tenant"));
        }
        RegistrationMode::Token => {
            let Some(token) = bearer(ctx) else {
                return Err(ApiError::invalid_token("an initial access token is required to register"));
            };
            let digest = secret::digest(&token);
            let found = crud::find_where(rt.db(), tenant, R::InitialAccessToken::TOKEN_DIGEST, digest).await?;
            let live = found.is_some_and(|t| t.expires_at().is_none_or(|at| at > crate::now()));
            if !live {
                return Err(ApiError::invalid_token("the initial access token is invalid or expired"));
            }
        }
        RegistrationMode::Open => {}
    }
    let metadata = parse(ctx.body(), &settings.registration_policy)?;
    let id = Uuid::new_v4();
    let secret = metadata.token_endpoint_auth_method.has_secret().then(|| secret::random_token("kgs_", 32));
    let registration_token = secret::random_token("kgr_", 32);
    let row = NewOauthClient {
        tenant_id: tenant,
        id,
        name: metadata.name.clone(),
        client_secret_hash: secret.as_deref().map(secret::digest).unwrap_or_default(),
        redirect_uris: StringList(metadata.redirect_uris.clone()),
        grant_types: StringList(metadata.grant_types.clone()),
        scopes: StringList(metadata.scopes.clone()),
        token_endpoint_auth_method: metadata.token_endpoint_auth_method,
        application_type: metadata.application_type,
        id_token_signed_response_alg: metadata.id_token_signed_response_alg,
        jwks: metadata.jwks.clone(),
        post_logout_redirect_uris: StringList(metadata.post_logout_redirect_uris.clone()),
        allowed_cors_origins: StringList(metadata.allowed_cors_origins.clone()),
        registration_access_token_hash: Some(secret::digest(&registration_token)),
        first_party: false,
    };
    let tx = rt.begin_write().await?;
    // Recorded as a client write: a new client's origins change the tenant's CORS answers,
    // cached per tenant (crate::cors).
    tx.insert_new::<R::OauthClient>(row).await?;
    tx.commit().await?;
    let mut body = describe(ctx, id, &metadata)?;
    body.insert("client_id_issued_at".into(), json!(crate::now().timestamp()));
    if let Some(secret) = secret {
        body.insert("client_secret".into(), json!(secret));
        // §3.2.1: 0 means the secret does not expire.
        body.insert("client_secret_expires_at".into(), json!(0));
    }
    body.insert("registration_access_token".into(), json!(registration_token));
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(body))
}

/// Handles `GET`, `PUT` and `DELETE /register/{id}` (RFC 7592 §2).
pub async fn manage<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    // §2: an unknown client and a wrong token are the same 401, so ids cannot be probed.
    let refused = || Err(ApiError::invalid_token("the registration access token is invalid"));
    let Some(token) = bearer(ctx) else { return refused() };
    let Ok(id) = crate::http::path_param(ctx.request(), "id")?.parse::<Uuid>() else { return refused() };
    // A database failure is that failure (503), not a refused token.
    let Some(client) = crud::find_optional::<R::OauthClient>(rt.db(), Some(tenant), id).await? else {
        return refused();
    };
    let authorized = client.registration_access_token_hash().is_some_and(|hash| secret::digest_matches(&token, hash));
    if !authorized {
        return refused();
    }
    let method = ctx.request().method().clone();
    if method == Method::DELETE {
        let tx = rt.begin_write().await?;
        crud::delete_id::<R::OauthClient>(&*tx, id).await?;
        tx.wrote::<R::OauthClient>();
        tx.commit().await?;
        return Ok(HttpResponse::NoContent().insert_header((header::CACHE_CONTROL, "no-store")).finish());
    }
    let metadata = if method == Method::PUT {
        let settings = tenancy::settings::<R>(rt, tenant).await?;
        let metadata = parse(ctx.body(), &settings.registration_policy)?;
        // §2.2: the body names the client it replaces.
        let named: Option<Value> = serde_json::from_slice::<Value>(ctx.body()).ok().map(|v| v["client_id"].clone());
        if named != Some(json!(id.to_string())) {
            return Err(ApiError::invalid_client_metadata("`client_id` must be the id of the client being updated"));
        }
        if metadata.token_endpoint_auth_method != client.token_endpoint_auth_method() {
            return Err(ApiError::invalid_client_metadata(
                "token_endpoint_auth_method cannot change; register a new client",
            ));
        }
        let tx = rt.begin_write().await?;
        let values = [
            <R::OauthClient as OauthClientColumns>::NAME.set(metadata.name.clone()),
            R::OauthClient::REDIRECT_URIS.set(StringList(metadata.redirect_uris.clone())),
            R::OauthClient::GRANT_TYPES.set(StringList(metadata.grant_types.clone())),
            R::OauthClient::SCOPES.set(StringList(metadata.scopes.clone())),
            R::OauthClient::APPLICATION_TYPE.set(metadata.application_type),
            R::OauthClient::ID_TOKEN_SIGNED_RESPONSE_ALG.set(metadata.id_token_signed_response_alg),
            R::OauthClient::JWKS.set(metadata.jwks.clone()),
            R::OauthClient::POST_LOGOUT_REDIRECT_URIS.set(StringList(metadata.post_logout_redirect_uris.clone())),
            R::OauthClient::ALLOWED_CORS_ORIGINS.set(StringList(metadata.allowed_cors_origins.clone())),
            R::OauthClient::UPDATED_AT.set(crate::now()),
        ];
        crud::set::<R::OauthClient>(&*tx, tenant, id, values).await?;
        tx.wrote::<R::OauthClient>();
        tx.commit().await?;
        metadata
    } else {
        Metadata {
            name: client.name().to_owned(),
            redirect_uris: client.redirect_uris().0.clone(),
            grant_types: client.grant_types().0.clone(),
            scopes: client.scopes().0.clone(),
            token_endpoint_auth_method: client.token_endpoint_auth_method(),
            application_type: client.application_type(),
            id_token_signed_response_alg: client.id_token_signed_response_alg(),
            jwks: client.jwks().cloned(),
            post_logout_redirect_uris: client.post_logout_redirect_uris().0.clone(),
            allowed_cors_origins: client.allowed_cors_origins().0.clone(),
        }
    };
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(describe(ctx, id, &metadata)?))
}

/// The registered metadata as RFC 7591 §3.2.1 returns it.
fn describe(ctx: &EndpointCtx<'_>, id: Uuid, metadata: &Metadata) -> Result<Map<String, Value>, ApiError> {
    let rt = ctx.runtime();
    let base = rt.endpoint_url("register", ctx.tenant_key()?).unwrap_or_default();
    let mut body = Map::new();
    body.insert("client_id".into(), json!(id.to_string()));
    body.insert("client_name".into(), json!(metadata.name));
    body.insert("redirect_uris".into(), json!(metadata.redirect_uris));
    body.insert("grant_types".into(), json!(metadata.grant_types));
    let response_types: Vec<&str> =
        if GrantType::AuthorizationCode.is_in(&metadata.grant_types) { vec!["code"] } else { vec![] };
    body.insert("response_types".into(), json!(response_types));
    body.insert("scope".into(), json!(metadata.scopes.join(" ")));
    body.insert("token_endpoint_auth_method".into(), json!(metadata.token_endpoint_auth_method));
    body.insert("application_type".into(), json!(metadata.application_type));
    if let Some(alg) = &metadata.id_token_signed_response_alg {
        body.insert("id_token_signed_response_alg".into(), json!(alg));
    }
    if let Some(jwks) = &metadata.jwks {
        body.insert("jwks".into(), jwks.clone());
    }
    body.insert("post_logout_redirect_uris".into(), json!(metadata.post_logout_redirect_uris));
    body.insert("allowed_cors_origins".into(), json!(metadata.allowed_cors_origins));
    body.insert("registration_client_uri".into(), json!(format!("{base}/{id}")));
    Ok(body)
}

/// The bearer token of the request (RFC 6750 §2.1). Another scheme or a malformed header
/// presents no token, which the caller refuses as `invalid_token`.
fn bearer(ctx: &EndpointCtx<'_>) -> Option<String> {
    match Authorization::of(ctx.request()) {
        Ok(Some(Authorization::Bearer(token))) => Some(token),
        _ => None,
    }
}

/// Reads and checks registration metadata (RFC 7591 §2, §3.2.2) against the tenant's `policy`.
fn parse(body: &[u8], policy: &RegistrationPolicy) -> Result<Metadata, ApiError> {
    let request: Value =
        serde_json::from_slice(body).map_err(|_| ApiError::invalid_client_metadata("the body is not JSON"))?;
    let Some(request) = request.as_object() else {
        return Err(ApiError::invalid_client_metadata("the body is not a JSON object"));
    };
    let strings = |key: &str| -> Result<Option<Vec<String>>, ApiError> {
        match request.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::invalid_client_metadata(format!("`{key}` must be strings")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(ApiError::invalid_client_metadata(format!("`{key}` must be an array of strings"))),
        }
    };
    let string = |key: &str| -> Result<Option<String>, ApiError> {
        match request.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid_client_metadata(format!("`{key}` must be a string"))),
        }
    };
    if request.contains_key("jwks_uri") {
        return Err(ApiError::invalid_client_metadata("`jwks_uri` is not supported; register the keys in `jwks`"));
    }
    let grant_types = grant_types(strings("grant_types")?, policy)?;
    let uses_code_grant = GrantType::AuthorizationCode.is_in(&grant_types);
    // §2: `code` when omitted; a client without the code grant has no response type to default to.
    let default_response_types = if uses_code_grant { vec!["code".into()] } else { vec![] };
    let response_types = strings("response_types")?.unwrap_or(default_response_types);
    if response_types.iter().any(|r| r != "code") {
        return Err(ApiError::invalid_client_metadata("only the `code` response type is supported"));
    }
    // §2.1: response and grant types must agree.
    if response_types.is_empty() == uses_code_grant {
        return Err(ApiError::invalid_client_metadata("response_types `code` goes with grant type authorization_code"));
    }
    let application_type = match string("application_type")? {
        None => ApplicationType::Web,
        Some(value) => ApplicationType::from_wire(&value)
            .ok_or_else(|| ApiError::invalid_client_metadata("application_type must be `web` or `native`"))?,
    };
    let redirect_uris = strings("redirect_uris")?.unwrap_or_default();
    if uses_code_grant && redirect_uris.is_empty() {
        return Err(ApiError::invalid_redirect_uri("redirect_uris are required for the authorization code grant"));
    }
    // OIDC Registration §2, RFC 8252 §7: what each application type may redirect to.
    for uri in &redirect_uris {
        crate::uri::redirect_uri(uri, application_type)
            .map_err(|error| ApiError::invalid_redirect_uri(format!("`{uri}` {error}")))?;
    }
    let post_logout_redirect_uris = strings("post_logout_redirect_uris")?.unwrap_or_default();
    for uri in &post_logout_redirect_uris {
        crate::uri::redirect_uri(uri, application_type).map_err(|error| {
            ApiError::invalid_client_metadata(format!("post_logout_redirect_uris: `{uri}` {error}"))
        })?;
    }
    let method = auth_method(string("token_endpoint_auth_method")?, &grant_types, policy)?;
    let allowed_cors_origins =
        cors_origins(strings("allowed_cors_origins")?, method, application_type, &redirect_uris)?;
    let jwks = match request.get("jwks") {
        None | Some(Value::Null) => None,
        Some(jwks) => {
            check_jwks(jwks).map_err(|problem| ApiError::invalid_client_metadata(format!("jwks {problem}")))?;
            Some(jwks.clone())
        }
    };
    if method == ClientAuthMethod::PrivateKeyJwt && jwks.is_none() {
        return Err(ApiError::invalid_client_metadata("private_key_jwt needs `jwks`"));
    }
    let id_token_signed_response_alg = match string("id_token_signed_response_alg")? {
        None => None,
        Some(alg) => Some(Algorithm::from_wire(&alg).ok_or_else(|| {
            ApiError::invalid_client_metadata(format!("id_token_signed_response_alg `{alg}` is not supported"))
        })?),
    };
    let scopes = scopes(string("scope")?, policy)?;
    let name = string("client_name")?.unwrap_or_else(|| "Unnamed application".into());
    if name.chars().count() > 200 {
        return Err(ApiError::invalid_client_metadata("client_name is longer than 200 characters"));
    }
    Ok(Metadata {
        name,
        redirect_uris,
        grant_types,
        scopes,
        token_endpoint_auth_method: method,
        application_type,
        id_token_signed_response_alg,
        jwks,
        post_logout_redirect_uris,
        allowed_cors_origins,
    })
}

/// `allowed_cors_origins`: the browser origins that may call the token, UserInfo and
/// revocation endpoints (`https://app.example`), each an origin by the admin API's rule
/// ([`crate::uri::origins`]: RFC 6454 §6.1 `scheme://host[:port]`), stored normalized (lowercase,
/// default port dropped) without repeats; anything else is `invalid_client_metadata` naming the
/// value. An explicit `[]` registers none.
///
/// Left out (or null), it defaults for a public web client (`token_endpoint_auth_method`
/// `none`, `application_type` `web`) to the distinct origins (RFC 6454 §4) of its `http` and
/// `https` redirect URIs, in their order: a standards-following single-page app does not know
/// this extension, yet it redeems its code from the page at its redirect URI. Confidential
/// clients call the token endpoint from their servers, and a native client's redirect URIs are
/// received by the app itself (RFC 8252 §7: private-use schemes, loopback on any port), so
/// neither gets a default.
fn cors_origins(
    requested: Option<Vec<String>>,
    method: ClientAuthMethod,
    application_type: ApplicationType,
    redirect_uris: &[String],
) -> Result<Vec<String>, ApiError> {
    if let Some(requested) = requested {
        return crate::uri::origins(&requested).map_err(|(value, error)| {
            ApiError::invalid_client_metadata(format!("allowed_cors_origins: `{value}` {error}"))
        });
    }
    if !method.is_public() || application_type != ApplicationType::Web {
        return Ok(Vec::new());
    }
    let mut origins: Vec<String> = Vec::new();
    for origin in redirect_uris.iter().filter_map(|uri| crate::uri::origin_of(uri).ok()) {
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

/// §2 `grant_types` (`authorization_code` when omitted), as a set: each one the server
/// implements and the tenant's policy allows.
fn grant_types(requested: Option<Vec<String>>, policy: &RegistrationPolicy) -> Result<Vec<String>, ApiError> {
    let mut grant_types: Vec<String> = Vec::new();
    let requested = requested.unwrap_or_else(|| vec![GrantType::AuthorizationCode.to_string()]);
    for name in requested {
        let Some(grant) = GrantType::from_wire(&name) else {
            return Err(ApiError::invalid_client_metadata(format!(
                "grant type `{name}` is not supported; supported: {}",
                GrantType::VALUES.join(", ")
            )));
        };
        if !policy.allows_grant_type(grant) {
            return Err(not_allowed("grant type", &name, &listed(&policy.grant_types)));
        }
        if !grant_types.contains(&name) {
            grant_types.push(name);
        }
    }
    Ok(grant_types)
}

/// "a, b": the wire values of `values`, for messages.
fn listed<T: std::fmt::Display>(values: &[T]) -> String {
    values.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// §2 `token_endpoint_auth_method`: `client_secret_basic` when omitted, or the policy's first
/// method if it allows no `client_secret_basic`; one the server implements and the policy allows.
fn auth_method(
    requested: Option<String>,
    grant_types: &[String],
    policy: &RegistrationPolicy,
) -> Result<ClientAuthMethod, ApiError> {
    let method = match requested {
        Some(name) => ClientAuthMethod::from_wire(&name).ok_or_else(|| {
            ApiError::invalid_client_metadata(format!(
                "token_endpoint_auth_method `{name}` is not supported; supported: {}",
                ClientAuthMethod::VALUES.join(", ")
            ))
        })?,
        None if policy.allows_auth_method(ClientAuthMethod::ClientSecretBasic) => ClientAuthMethod::ClientSecretBasic,
        None => policy.auth_methods.first().copied().unwrap_or(ClientAuthMethod::ClientSecretBasic),
    };
    if !policy.allows_auth_method(method) {
        return Err(not_allowed("token_endpoint_auth_method", method.as_str(), &listed(&policy.auth_methods)));
    }
    if method.is_public() && GrantType::ClientCredentials.is_in(grant_types) {
        // RFC 6749 §4.4: only confidential clients may use client_credentials.
        return Err(ApiError::invalid_client_metadata(
            "a public client (`none`) cannot use the client_credentials grant",
        ));
    }
    Ok(method)
}

/// §2 `scope`, as a set of scopes the policy allows. Without one (OIDC Dynamic Client
/// Registration has no such field) the client holds every scope the policy allows.
fn scopes(requested: Option<String>, policy: &RegistrationPolicy) -> Result<Vec<String>, ApiError> {
    let Some(requested) = requested else { return Ok(policy.scopes.clone().into_vec()) };
    let scopes =
        Scopes::parse(&requested).map_err(|problem| ApiError::invalid_client_metadata(format!("scope: {problem}")))?;
    if let Some(refused) = scopes.iter().find(|s| !policy.scopes.contains(s)) {
        return Err(not_allowed("scope", refused, &policy.scopes.to_string()));
    }
    Ok(scopes.into_vec())
}
