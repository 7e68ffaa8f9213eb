//! Short-lived caches of rows the protocol hot paths read on every request (OAuth clients at the
//! token endpoint, accounts at refresh), so those paths do not read the database each time.
//!
//! Writes through the API drop a role's cache at once, on this process and (PostgreSQL) on every
//! other replica (the write transaction reports the entity it wrote when it commits, and
//! [`crate::invalidation`] drops and publishes); [`TTL`] bounds the staleness if a notification
//! is lost.
//! Only rows that exist are cached, so a new row is seen immediately everywhere.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::crud::{self, Resource};
use crate::error::ApiError;
use crate::state::Runtime;

/// How long a row read from the database is trusted.
pub const TTL: Duration = Duration::from_secs(5);

type Entry = (Instant, Arc<dyn Any + Send + Sync>);

/// (tenant, id) → a row of one entity.
#[derive(Default)]
pub struct RowCache(RwLock<HashMap<(Uuid, Uuid), Entry>>);

impl std::fmt::Debug for RowCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowCache").finish_non_exhaustive()
    }
}

impl RowCache {
    /// Forgets every row.
    pub fn clear(&self) {
        if let Ok(mut map) = self.0.write() {
            map.clear();
        }
    }

    /// The row `id` of `tenant`, from this cache or the database; `None` if there is none.
    pub async fn find<E>(&self, rt: &Runtime, tenant: Uuid, id: Uuid) -> Result<Option<E::Model>, ApiError>
    where
        E: Resource,
        E::Model: Clone + Send + Sync + 'static,
    {
        let cached = self.0.read().ok().and_then(|map| {
            let (at, model) = map.get(&(tenant, id))?;
            (at.elapsed() < TTL).then(|| model.downcast_ref::<E::Model>().cloned()).flatten()
        });
        if let Some(model) = cached {
            return Ok(Some(model));
        }
        let Some(model) = crud::find_optional::<E>(rt.db(), Some(tenant), id).await? else { return Ok(None) };
        if let Ok(mut map) = self.0.write() {
            map.insert((tenant, id), (Instant::now(), Arc::new(model.clone())));
        }
        Ok(Some(model))
    }
}
