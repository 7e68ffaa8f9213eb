//! A short-lived cache of OAuth clients, so the token endpoint's hot path (authenticate, then
//! sign) does not read the database on every request.
//!
//! Writes through the admin API on this process drop the cache at once (the generated handlers
//! call [`crate::Runtime::role_changed`]); other replicas see a change within [`TTL`]. Only
//! clients that exist are cached, so a new client works immediately everywhere.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::crud;
use crate::error::ApiError;
use crate::roles::Roles;
use crate::state::Runtime;

/// How long a client read from the database is trusted.
pub const TTL: Duration = Duration::from_secs(5);

type Entry = (Instant, Arc<dyn Any + Send + Sync>);

/// (tenant, client id) → the client's row.
#[derive(Default)]
pub struct ClientCache(RwLock<HashMap<(Uuid, Uuid), Entry>>);

impl std::fmt::Debug for ClientCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCache").finish_non_exhaustive()
    }
}

impl ClientCache {
    /// Forgets every client.
    pub fn clear(&self) {
        if let Ok(mut map) = self.0.write() {
            map.clear();
        }
    }
}

type Model<R> = <<R as Roles>::OauthClient as EntityTrait>::Model;

/// The client `id` of `tenant`, from the cache or the database; `None` if there is none.
pub async fn find<R: Roles>(rt: &Runtime, tenant: Uuid, id: Uuid) -> Result<Option<Model<R>>, ApiError>
where
    Model<R>: Clone + Send + Sync + 'static,
{
    let cached = rt.clients().0.read().ok().and_then(|map| {
        let (at, model) = map.get(&(tenant, id))?;
        (at.elapsed() < TTL).then(|| model.downcast_ref::<Model<R>>().cloned()).flatten()
    });
    if let Some(model) = cached {
        return Ok(Some(model));
    }
    let Ok(model) = crud::find::<R::OauthClient>(rt.db(), Some(tenant), id).await else { return Ok(None) };
    if let Ok(mut map) = rt.clients().0.write() {
        map.insert((tenant, id), (Instant::now(), Arc::new(model.clone())));
    }
    Ok(Some(model))
}
