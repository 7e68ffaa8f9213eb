//! Resolving the `{tenant}` of a URL to the tenant's id, with a short-lived cache: every
//! tenant-scoped request needs it, and slugs almost never change.
//!
//! The generated update and delete handlers of the tenant entity clear the cache, so this process
//! never serves a renamed or deleted slug; other replicas notice within [`TTL`]. Writes that race
//! a deletion on another replica are still refused by the `tenant_id` foreign key.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use sea_orm::{ConnectionTrait, ModelTrait, Value};
use uuid::Uuid;

use crate::crud::{Resource, find_by};
use crate::error::ApiError;
use crate::state::Runtime;

/// How long a resolved slug is trusted.
pub const TTL: Duration = Duration::from_secs(5);

/// Tenant key → id.
#[derive(Debug, Default)]
pub struct TenantCache(RwLock<HashMap<String, (Instant, Uuid)>>);

impl TenantCache {
    fn get(&self, key: &str) -> Option<Uuid> {
        let map = self.0.read().ok()?;
        let (at, id) = map.get(key)?;
        (at.elapsed() < TTL).then_some(*id)
    }

    fn insert(&self, key: &str, id: Uuid) {
        if let Ok(mut map) = self.0.write() {
            map.insert(key.to_owned(), (Instant::now(), id));
        }
    }

    /// Forgets every tenant (after one was changed or deleted).
    pub fn clear(&self) {
        if let Ok(mut map) = self.0.write() {
            map.clear();
        }
    }
}

/// The id of the tenant named by the request's `{tenant}` segment; an unknown tenant is a 404.
pub async fn resolve<E: Resource>(
    rt: &Runtime,
    db: &impl ConnectionTrait,
    req: &HttpRequest,
    key_column: E::Column,
) -> Result<Uuid, ApiError> {
    let key = crate::http::path_param(req, "tenant")?;
    if let Some(id) = rt.tenants().get(key) {
        return Ok(id);
    }
    let tenant = find_by::<E>(db, key_column, key).await?;
    let id = match tenant.get(E::pk()) {
        Value::Uuid(Some(id)) => id,
        _ => return Err(ApiError::internal("the tenant entity's primary key is not a UUID")),
    };
    rt.tenants().insert(key, id);
    Ok(id)
}
