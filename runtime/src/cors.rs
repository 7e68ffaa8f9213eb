//! Cross-origin access for browser apps (the Fetch standard's CORS protocol), as each endpoint's
//! `cors:` in the schema declares: `any` answers every origin with `*` (public documents such as
//! discovery and the JWKS); `registered` answers only origins a client of the tenant registered
//! in `allowed_cors_origins` (token, UserInfo, revocation for single-page apps). Credentials
//! (cookies) are never allowed cross-origin.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::crud;
use crate::error::ApiError;
use crate::roles::{OauthClient, Roles};
use crate::state::Runtime;
use crate::ttl_map::TtlMap;
use crate::uri;

/// How long a tenant's registered origins are trusted. Client writes clear them at once on every
/// replica ([`crate::invalidation`]); this bounds the staleness if a notification is lost.
pub const TTL: Duration = Duration::from_secs(5);

/// Request headers a cross-origin caller may send.
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, DPoP";
/// How long browsers may cache a preflight answer.
const MAX_AGE: &str = "600";

/// Tenant → origins its active clients registered.
#[derive(Debug)]
pub struct OriginCache(TtlMap<Uuid, Arc<Vec<String>>>);

impl Default for OriginCache {
    fn default() -> Self {
        Self(TtlMap::new(TTL))
    }
}

impl OriginCache {
    /// Forgets every tenant's origins (after a client changed).
    pub fn clear(&self) {
        self.0.clear();
    }
}

/// Adds `Access-Control-Allow-Origin: *` to the response (errors included, already written in
/// the endpoint's family format).
pub fn any(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// Allows the request's `Origin` if a client of `tenant` registered it.
pub async fn registered<R: Roles>(
    rt: &Runtime,
    req: &HttpRequest,
    tenant: Uuid,
    mut response: HttpResponse,
) -> Result<HttpResponse, ApiError> {
    // The answer depends on the Origin: caches must key on it.
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed::<R>(rt, req, tenant).await? {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    Ok(response)
}

/// A preflight answer for any origin.
pub fn preflight_any(req: &HttpRequest, methods: &'static str) -> HttpResponse {
    match req.headers().get(header::ORIGIN) {
        Some(_) => preflight_ok(HeaderValue::from_static("*"), methods),
        None => HttpResponse::NoContent().insert_header((header::ALLOW, with_options(methods))).finish(),
    }
}

/// A preflight answer for registered origins; any other origin gets a 403 without CORS headers,
/// so the browser blocks the request.
pub async fn preflight_registered<R: Roles>(
    rt: &Runtime,
    req: &HttpRequest,
    tenant: Uuid,
    methods: &'static str,
) -> Result<HttpResponse, ApiError> {
    if req.headers().get(header::ORIGIN).is_none() {
        return Ok(HttpResponse::NoContent().insert_header((header::ALLOW, with_options(methods))).finish());
    }
    Ok(match allowed::<R>(rt, req, tenant).await? {
        Some(origin) => {
            let mut response = preflight_ok(origin, methods);
            response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
            response
        }
        None => HttpResponse::Forbidden().insert_header((header::VARY, "Origin")).finish(),
    })
}

fn preflight_ok(origin: HeaderValue, methods: &'static str) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, methods))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, MAX_AGE))
        .finish()
}

fn with_options(methods: &str) -> String {
    format!("{methods}, OPTIONS")
}

/// The request's `Origin`, if a client of `tenant` registered it. Both sides are compared in
/// RFC 6454 §6.1 serialization, normalized by [`uri::origin`] (the admin API stores origins that
/// way; rows written before it did are normalized here); an origin that is not one (`null`)
/// matches nothing.
async fn allowed<R: Roles>(rt: &Runtime, req: &HttpRequest, tenant: Uuid) -> Result<Option<HeaderValue>, ApiError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else { return Ok(None) };
    let Some(requested) = origin.to_str().ok().and_then(|text| uri::origin(text).ok()) else { return Ok(None) };
    let cache = &rt.origins().0;
    let origins = match cache.get(&tenant) {
        Some(origins) => origins,
        None => {
            let ticket = cache.ticket();
            let clients = crud::scoped_find::<R::OauthClient>(Some(tenant)).all(rt.db()).await?;
            let mut origins: Vec<String> = clients
                .iter()
                .filter(|c| c.is_active())
                .flat_map(|c| c.allowed_cors_origins().0.iter().filter_map(|o| uri::origin(o).ok()))
                .collect();
            origins.sort();
            origins.dedup();
            let origins = Arc::new(origins);
            cache.insert(ticket, tenant, origins.clone());
            origins
        }
    };
    Ok(origins.contains(&requested).then(|| origin.clone()))
}
