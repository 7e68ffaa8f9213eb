//! What an endpoint handler receives.
//!
//! Handlers are `pub async fn name(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError>` in
//! [`crate::endpoints`]; the generator reads their signatures, so `schema.yaml` can only name
//! handlers that exist. The generated route has already checked the caller class and resolved
//! the tenant.

use actix_web::HttpRequest;
use actix_web::web::Bytes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::Runtime;

/// The request an endpoint handles, with the service state and the resolved tenant.
pub struct EndpointCtx<'a> {
    rt: &'a Runtime,
    req: &'a HttpRequest,
    tenant: Option<Uuid>,
    body: Bytes,
}

impl<'a> EndpointCtx<'a> {
    /// Built by the generated route.
    pub fn new(rt: &'a Runtime, req: &'a HttpRequest, tenant: Option<Uuid>, body: Bytes) -> Self {
        Self { rt, req, tenant, body }
    }

    /// Service state.
    pub fn runtime(&self) -> &'a Runtime {
        self.rt
    }

    /// The HTTP request.
    pub fn request(&self) -> &'a HttpRequest {
        self.req
    }

    /// The raw body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The tenant's id; only tenant-scoped endpoints have one.
    pub fn tenant(&self) -> Result<Uuid, ApiError> {
        self.tenant.ok_or_else(|| ApiError::internal("endpoint handler needs a tenant-scoped route"))
    }

    /// The `{tenant}` path segment as the client wrote it.
    pub fn tenant_key(&self) -> Result<&'a str, ApiError> {
        crate::http::path_param(self.req, "tenant")
    }
}
