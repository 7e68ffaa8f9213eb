//! Per-tenant signing keys: created on first use, cached parsed in memory, private halves sealed
//! at rest under the master key, rotated with the old public key kept in the JWKS until every
//! token it signed has expired.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::jose::{Algorithm, Jwk, Jwks, KeyError, MasterKey, SealError, SigningKey};

/// The algorithm a tenant signs ID tokens with unless configured otherwise (OIDC Core §15.1).
pub const DEFAULT_ALGORITHM: Algorithm = Algorithm::RS256;

/// Why a key could not be loaded, made or rotated.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// Storage failed.
    #[error("signing key storage: {0}")]
    Db(#[from] DbErr),
    /// A stored key does not open under this master key.
    #[error("stored signing key {kid}: {source}")]
    Seal {
        /// The key id.
        kid: String,
        /// Why it did not open.
        #[source]
        source: SealError,
    },
    /// Key material is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl From<KeyStoreError> for crate::ApiError {
    fn from(error: KeyStoreError) -> Self {
        crate::ApiError::internal(error)
    }
}

/// How long a process trusts its cached keys before re-reading them, so a rotation made by
/// another replica (or the CLI) is picked up within this time.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Values remembered for [`CACHE_TTL`].
struct TtlCache<K, V>(RwLock<HashMap<K, (Instant, Arc<V>)>>);

impl<K: std::hash::Hash + Eq, V> TtlCache<K, V> {
    fn new() -> Self {
        Self(RwLock::new(HashMap::new()))
    }

    fn get(&self, key: &K) -> Option<Arc<V>> {
        let map = self.0.read().ok()?;
        let (at, value) = map.get(key)?;
        (at.elapsed() < CACHE_TTL).then(|| value.clone())
    }

    fn insert(&self, key: K, value: Arc<V>) {
        if let Ok(mut map) = self.0.write() {
            map.insert(key, (Instant::now(), value));
        }
    }

    fn remove(&self, key: &K) {
        if let Ok(mut map) = self.0.write() {
            map.remove(key);
        }
    }

    fn clear(&self) {
        if let Ok(mut map) = self.0.write() {
            map.clear();
        }
    }
}

/// The signing keys of every tenant.
pub struct KeyStore {
    master: MasterKey,
    active: TtlCache<(Uuid, Algorithm), SigningKey>,
    published: TtlCache<Uuid, Jwks>,
    /// Serialises loading and creating keys, so concurrent first uses make one key, not several.
    loading: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyStore(..)")
    }
}

impl KeyStore {
    /// A store sealing private keys under `master`.
    pub fn new(master: MasterKey) -> Self {
        Self { master, active: TtlCache::new(), published: TtlCache::new(), loading: tokio::sync::Mutex::new(()) }
    }

    fn cached(&self, tenant: Uuid, algorithm: Algorithm) -> Option<Arc<SigningKey>> {
        self.active.get(&(tenant, algorithm))
    }

    fn remember(&self, tenant: Uuid, key: Arc<SigningKey>) {
        self.active.insert((tenant, key.algorithm()), key);
        // A new key changes what is published.
        self.published.remove(&tenant);
    }

    /// The tenant's JWKS if this process read it less than a minute ago.
    pub fn cached_jwks(&self, tenant: Uuid) -> Option<Arc<Jwks>> {
        self.published.get(&tenant)
    }

    /// The key `tenant` signs with for `algorithm`, created on first use. `db` should be a write
    /// transaction when the key may have to be created.
    pub async fn active(
        &self,
        db: &impl ConnectionTrait,
        tenant: Uuid,
        algorithm: Algorithm,
    ) -> Result<Arc<SigningKey>, KeyStoreError> {
        if let Some(key) = self.cached(tenant, algorithm) {
            return Ok(key);
        }
        let _loading = self.loading.lock().await;
        // Another request may have loaded or created it while this one waited.
        if let Some(key) = self.cached(tenant, algorithm) {
            return Ok(key);
        }
        let stored = signing_key::Entity::find()
            .filter(signing_key::Column::TenantId.eq(tenant))
            .filter(signing_key::Column::Alg.eq(algorithm.as_str()))
            .filter(signing_key::Column::Active.eq(true))
            .order_by_desc(signing_key::Column::CreatedAt)
            .one(db)
            .await?;
        let key = match stored {
            Some(row) => self.open(&row, algorithm)?,
            None => self.create(db, tenant, algorithm).await?,
        };
        let key = Arc::new(key);
        self.remember(tenant, key.clone());
        Ok(key)
    }

    fn open(&self, row: &signing_key::Model, algorithm: Algorithm) -> Result<SigningKey, KeyStoreError> {
        let pkcs8 = self
            .master
            .open(&row.kid, &row.sealed_private_key)
            .map_err(|source| KeyStoreError::Seal { kid: row.kid.clone(), source })?;
        Ok(SigningKey::from_pkcs8(algorithm, pkcs8)?)
    }

    async fn create(
        &self,
        db: &impl ConnectionTrait,
        tenant: Uuid,
        algorithm: Algorithm,
    ) -> Result<SigningKey, KeyStoreError> {
        // RSA generation takes tens of milliseconds: keep it off the async workers.
        let key = tokio::task::spawn_blocking(move || SigningKey::generate(algorithm))
            .await
            .map_err(|_| KeyStoreError::Key(KeyError::Generate(algorithm)))??;
        let sealed = self
            .master
            .seal(key.kid(), key.pkcs8())
            .map_err(|source| KeyStoreError::Seal { kid: key.kid().into(), source })?;
        signing_key::ActiveModel {
            id: ActiveValue::Set(Uuid::new_v4()),
            tenant_id: ActiveValue::Set(tenant),
            kid: ActiveValue::Set(key.kid().into()),
            alg: ActiveValue::Set(algorithm.as_str().into()),
            public_jwk: ActiveValue::Set(serde_json::to_value(key.public_jwk()).unwrap_or_default()),
            sealed_private_key: ActiveValue::Set(sealed),
            active: ActiveValue::Set(true),
            created_at: ActiveValue::Set(crate::now()),
            publish_until: ActiveValue::Set(None),
        }
        .insert(db)
        .await?;
        tracing::info!(%tenant, alg = %algorithm, kid = key.kid(), "created signing key");
        Ok(key)
    }

    /// The tenant's JWKS (RFC 7517 §5): active keys and retired keys still within their
    /// retention, public members only. Creates the default key on first use, so relying parties
    /// that fetch keys before any token is issued see the key that will sign.
    pub async fn jwks(&self, db: &impl ConnectionTrait, tenant: Uuid) -> Result<Arc<Jwks>, KeyStoreError> {
        if let Some(jwks) = self.cached_jwks(tenant) {
            return Ok(jwks);
        }
        self.active(db, tenant, DEFAULT_ALGORITHM).await?;
        let now = crate::now();
        let rows = signing_key::Entity::find()
            .filter(signing_key::Column::TenantId.eq(tenant))
            .order_by_desc(signing_key::Column::CreatedAt)
            .all(db)
            .await?;
        let keys = rows
            .into_iter()
            .filter(|row| row.active || row.publish_until.is_some_and(|until| until > now))
            .filter_map(|row| serde_json::from_value::<Jwk>(row.public_jwk).ok())
            .collect();
        let jwks = Arc::new(Jwks { keys });
        self.published.insert(tenant, jwks.clone());
        Ok(jwks)
    }

    /// Replaces the tenant's active `algorithm` key with a new one. The old public key stays in
    /// the JWKS for `retention` (at least the longest token lifetime), so tokens it signed keep
    /// verifying; after that it is gone. Returns the new key.
    pub async fn rotate(
        &self,
        db: &impl ConnectionTrait,
        tenant: Uuid,
        algorithm: Algorithm,
        retention: Duration,
    ) -> Result<Arc<SigningKey>, KeyStoreError> {
        let current = signing_key::Entity::find()
            .filter(signing_key::Column::TenantId.eq(tenant))
            .filter(signing_key::Column::Alg.eq(algorithm.as_str()))
            .filter(signing_key::Column::Active.eq(true))
            .all(db)
            .await?;
        let until = crate::now() + retention;
        for row in current {
            let mut retired: signing_key::ActiveModel = row.into();
            retired.active = ActiveValue::Set(false);
            retired.publish_until = ActiveValue::Set(Some(until));
            retired.update(db).await?;
        }
        let key = Arc::new(self.create(db, tenant, algorithm).await?);
        self.remember(tenant, key.clone());
        Ok(key)
    }

    /// Forgets cached keys and key sets.
    pub fn clear_cache(&self) {
        self.active.clear();
        self.published.clear();
    }
}

/// Table of signing keys (owned by the runtime, not declared in the schema: private keys are
/// infrastructure, never an API resource).
pub mod signing_key {
    use sea_orm::entity::prelude::*;

    /// One key.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "keygate_signing_keys")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Owning tenant.
        #[sea_orm(indexed)]
        pub tenant_id: Uuid,
        /// RFC 7638 thumbprint.
        #[sea_orm(unique)]
        pub kid: String,
        /// JWS algorithm.
        pub alg: String,
        /// Public JWK.
        #[sea_orm(column_type = "JsonBinary")]
        pub public_jwk: Json,
        /// PKCS#8 private key, sealed with AES-256-GCM under the master key, bound to `kid`.
        #[sea_orm(column_type = "Text")]
        pub sealed_private_key: String,
        /// Whether it signs new tokens.
        pub active: bool,
        /// When it was created.
        pub created_at: DateTimeUtc,
        /// Retired keys stay in the JWKS until then.
        #[sea_orm(nullable)]
        pub publish_until: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
