//! Keeping every replica's caches true to the database: one invalidation bus over PostgreSQL
//! `LISTEN`/`NOTIFY`, the mechanism a deployment of several replicas already has.
//!
//! Each process caches rows the hot paths read ([`Caches`]). A write that changes cached data
//! drops the affected cache here at once and publishes a small [`Change`] with
//! `pg_notify('keygate_invalidate', payload)`. Which caches a write makes stale is decided here,
//! from the entity written ([`Change::of`]: the roles it plays, whether it is the tenants'):
//! a [`crate::WriteTx`] records every entity written through it and reports them when it
//! commits, so neither generated handlers nor protocol code name a cache. (Writes outside a
//! transaction, and key rotations, call [`crate::Runtime::role_changed`] and
//! [`crate::Runtime::keys_changed`] after they are done.) A background task per process
//! `LISTEN`s on that channel and applies the changes other processes published (its own carry
//! its process id and are skipped), so every replica drops the stale entries within the
//! notification's delivery time, well under a second.
//!
//! A notification can be missed only while the listening connection is down: on every
//! (re)connection the listener clears every cache, since it cannot know what it missed, and it
//! reconnects with exponential backoff. A notification can be lost only if its publisher fails
//! between the commit and the `pg_notify` (the database went away); then the caches' own TTLs
//! still bound how long a replica serves the old data. On SQLite (a single node) nothing is
//! published or listened to.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::web::Bytes;
use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use uuid::Uuid;

use crate::account::user_roles::MembershipCache;
use crate::cors::OriginCache;
use crate::jose::MasterKey;
use crate::keys::KeyStore;
use crate::row_cache::RowCache;
use crate::tenancy::{Settings, TenantCache};

/// The PostgreSQL notification channel the bus uses.
pub const CHANNEL: &str = "keygate_invalidate";

/// First wait before reconnecting a lost listener; doubled on each failure up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What changed in the database, as published on [`CHANNEL`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Rows of the entity playing this role (`oauth_client`, `account`, `group`, `group_member`,
    /// `tenant_settings`) were written.
    Role(String),
    /// Rows of the tenant entity were written (a tenant key may name another tenant, or none).
    Tenants {},
    /// The signing keys of this tenant changed (a rotation).
    Keys(Uuid),
}

impl Change {
    /// What a committed write to `E` may have made stale: each role it plays, and the tenants
    /// when its rows are the tenants.
    pub fn of<E: crate::crud::Resource>() -> impl Iterator<Item = Change> {
        let tenants = E::TENANCY.then_some(Change::Tenants {});
        E::ROLES.iter().map(|role| Change::Role((*role).to_owned())).chain(tenants)
    }
}

/// A notification's payload: the change, and the id of the process that made it (a process
/// skips its own).
#[derive(Debug, Serialize, Deserialize)]
struct Message {
    from: Uuid,
    #[serde(flatten)]
    change: Change,
}

/// Discovery documents by tenant key, with the tenant settings each was built from.
pub type Documents = RwLock<HashMap<String, (Arc<Settings>, Bytes)>>;

/// Every cache of database rows a process keeps.
pub struct Caches {
    pub(crate) keys: KeyStore,
    pub(crate) tenants: TenantCache,
    pub(crate) origins: OriginCache,
    pub(crate) clients: RowCache,
    pub(crate) accounts: RowCache,
    pub(crate) memberships: MembershipCache,
    pub(crate) documents: Documents,
}

impl Caches {
    /// Empty caches; private signing keys are sealed under `master`.
    pub(crate) fn new(master: MasterKey) -> Self {
        Self {
            keys: KeyStore::new(master),
            tenants: TenantCache::default(),
            origins: OriginCache::default(),
            clients: RowCache::default(),
            accounts: RowCache::default(),
            memberships: MembershipCache::default(),
            documents: RwLock::default(),
        }
    }

    /// Drops what `change` may have made stale; whether any cache holds data it affects (only
    /// then is it worth telling other processes).
    pub fn apply(&self, change: &Change) -> bool {
        match change {
            Change::Role(role) => match role.as_str() {
                "oauth_client" => {
                    self.clients.clear();
                    self.origins.clear();
                }
                "account" => {
                    self.accounts.clear();
                    self.memberships.clear();
                }
                "group" | "group_member" => self.memberships.clear(),
                "tenant_settings" => self.forget_tenants(),
                _ => return false,
            },
            Change::Tenants {} => self.forget_tenants(),
            Change::Keys(tenant) => self.keys.forget_tenant(*tenant),
        }
        true
    }

    /// Resolved tenant keys, tenant settings and the discovery documents built from them.
    fn forget_tenants(&self) {
        self.tenants.clear();
        if let Ok(mut documents) = self.documents.write() {
            documents.clear();
        }
    }

    /// Drops everything (when notifications may have been missed).
    pub fn clear(&self) {
        for role in ["oauth_client", "account", "group", "tenant_settings"] {
            self.apply(&Change::Role(role.to_owned()));
        }
        self.keys.clear_cache();
    }
}

/// Where this process's committed changes go: its own caches at once, then (on PostgreSQL) the
/// bus to the other replicas. Cheap to clone; every write transaction holds one.
#[derive(Clone)]
pub(crate) struct Invalidator {
    caches: Arc<Caches>,
    outbox: Option<mpsc::UnboundedSender<Change>>,
}

impl Invalidator {
    pub(crate) fn new(caches: Arc<Caches>, bus: Option<&Bus>) -> Self {
        Self { caches, outbox: bus.map(|bus| bus.outbox.clone()) }
    }

    /// Drops what `change` made stale here, and tells the other processes when any cache held
    /// data it affects. Call it once the write that made it has committed.
    pub(crate) fn changed(&self, change: Change) {
        if self.caches.apply(&change)
            && let Some(outbox) = &self.outbox
        {
            // Fails only once the publisher stopped, when the runtime is going away.
            let _ = outbox.send(change);
        }
    }
}

/// This process's end of the bus: publishes its changes and applies others'. Dropping it stops
/// both background tasks.
pub(crate) struct Bus {
    outbox: mpsc::UnboundedSender<Change>,
    tasks: [AbortHandle; 2],
}

impl Bus {
    /// Starts publishing and listening when `db` is PostgreSQL; `None` on SQLite (one node), or
    /// outside a Tokio runtime (nothing could run the tasks; the TTLs alone then apply).
    pub(crate) fn start(db: &DatabaseConnection, caches: &Arc<Caches>) -> Option<Self> {
        if db.get_database_backend() != DbBackend::Postgres {
            return None;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no async runtime: other replicas' changes are seen only when caches expire");
            return None;
        };
        let me = Uuid::new_v4();
        let (outbox, pending) = mpsc::unbounded_channel();
        let publisher = runtime.spawn(publish(db.clone(), me, pending)).abort_handle();
        // A connection of its own (with the pool's settings), so listening never holds one the
        // requests need.
        let options = db.get_postgres_connection_pool().connect_options().as_ref().clone();
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(options);
        let listener = runtime.spawn(listen(pool, me, caches.clone())).abort_handle();
        Some(Self { outbox, tasks: [publisher, listener] })
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Tells running servers about `change` made by a process without caches of its own (the CLI).
/// Does nothing on SQLite.
///
/// # Errors
/// The database's, if the notification could not be sent.
pub async fn announce(db: &impl ConnectionTrait, change: Change) -> Result<(), DbErr> {
    notify(db, Uuid::new_v4(), change).await
}

/// `SELECT pg_notify(CHANNEL, payload)` on PostgreSQL.
async fn notify(db: &impl ConnectionTrait, from: Uuid, change: Change) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let payload = serde_json::to_string(&Message { from, change }).map_err(|e| DbErr::Custom(e.to_string()))?;
    let sql = "SELECT pg_notify($1, $2)";
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [CHANNEL.into(), payload.into()])).await?;
    Ok(())
}

/// Sends each change this process makes, in order.
async fn publish(db: DatabaseConnection, me: Uuid, mut pending: mpsc::UnboundedReceiver<Change>) {
    while let Some(change) = pending.recv().await {
        if let Err(error) = notify(&db, me, change.clone()).await {
            tracing::warn!(%error, ?change, "could not tell other replicas; they see the change when their caches expire");
        }
    }
}

/// Applies the changes other processes publish, reconnecting with backoff whenever the
/// connection is lost, and clearing every cache on each (re)connection. Ends when the pool is
/// closed.
async fn listen(pool: PgPool, me: Uuid, caches: Arc<Caches>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        match subscribe(&pool).await {
            Ok(mut listener) => {
                caches.clear();
                backoff = MIN_BACKOFF;
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => receive(&caches, me, notification.payload()),
                        Ok(None) => {
                            tracing::warn!("cache invalidation connection lost and re-established; clearing caches");
                            caches.clear();
                        }
                        Err(sea_orm::sqlx::Error::PoolClosed) => return,
                        Err(error) => {
                            tracing::warn!(%error, "cache invalidation connection lost");
                            break;
                        }
                    }
                }
            }
            Err(sea_orm::sqlx::Error::PoolClosed) => return,
            Err(error) => tracing::warn!(%error, retry_in = ?backoff, "cannot listen for cache invalidations"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Applies one notification's change unless this process published it.
fn receive(caches: &Caches, me: Uuid, payload: &str) {
    match serde_json::from_str::<Message>(payload) {
        Ok(message) if message.from == me => {}
        Ok(message) => {
            tracing::debug!(change = ?message.change, from = %message.from, "applying another replica's change");
            caches.apply(&message.change);
        }
        // A newer version's message this one does not know: forgetting everything is safe.
        Err(error) => {
            tracing::warn!(%error, payload, "unknown cache invalidation; clearing caches");
            caches.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_small_tagged_json() {
        let from = Uuid::nil();
        let text = serde_json::to_string(&Message { from, change: Change::Role("account".into()) }).unwrap();
        assert_eq!(text, r#"{"from":"00000000-0000-0000-0000-000000000000","role":"account"}"#);
        let back: Message = serde_json::from_str(&text).unwrap();
        assert_eq!(back.change, Change::Role("account".into()));
        let keys: Message = serde_json::from_str(&format!(r#"{{"from":"{from}","keys":"{from}"}}"#)).unwrap();
        assert_eq!(keys.change, Change::Keys(from));
        let tenants = serde_json::to_string(&Message { from, change: Change::Tenants {} }).unwrap();
        assert_eq!(tenants, r#"{"from":"00000000-0000-0000-0000-000000000000","tenants":{}}"#);
        assert_eq!(serde_json::from_str::<Message>(&tenants).unwrap().change, Change::Tenants {});
    }
}
