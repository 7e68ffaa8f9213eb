//! Short-lived caches of rows the protocol hot paths read on every request (OAuth clients at the
//! token endpoint, accounts at refresh), so those paths do not read the database each time.
//!
//! Writes through the API drop a role's cache at once, on this process and (PostgreSQL) on every
//! other replica (the write transaction reports the entity it wrote when it commits, and
//! [`crate::invalidation`] drops and publishes); [`TTL`] bounds the staleness if a notification
//! is lost.
//! Only rows that exist are cached, so a new row is seen immediately everywhere.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::crud::{self, Resource};
use crate::error::ApiError;
use crate::state::Runtime;
use crate::ttl_map::TtlMap;

/// How long a row read from the database is trusted.
pub const TTL: Duration = Duration::from_secs(5);

/// (tenant, id) → a row of one entity.
#[derive(Debug)]
pub struct RowCache(TtlMap<(Uuid, Uuid), Arc<dyn Any + Send + Sync>>);

impl Default for RowCache {
    fn default() -> Self {
        Self(TtlMap::new(TTL))
    }
}

impl RowCache {
    /// Forgets every row.
    pub fn clear(&self) {
        self.0.clear();
    }

    /// The row `id` of `tenant`, from this cache or the database; `None` if there is none.
    pub async fn find<E>(&self, rt: &Runtime, tenant: Uuid, id: Uuid) -> Result<Option<E::Model>, ApiError>
    where
        E: Resource,
        E::Model: Clone + Send + Sync + 'static,
    {
        let cached = self.0.get(&(tenant, id)).and_then(|model| model.downcast_ref::<E::Model>().cloned());
        if let Some(model) = cached {
            return Ok(Some(model));
        }
        let ticket = self.0.ticket();
        let Some(model) = crud::find_optional::<E>(rt.db(), Some(tenant), id).await? else { return Ok(None) };
        self.0.insert(ticket, (tenant, id), Arc::new(model.clone()));
        Ok(Some(model))
    }
}
