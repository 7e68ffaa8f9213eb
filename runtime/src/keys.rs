//! Per-tenant signing keys: one active key per algorithm the tenant advertises, all created
//! together the first time the tenant's keys are needed, cached parsed in memory, private halves
//! sealed at rest under the master key, rotated with the old public key kept in the JWKS until
//! every token it signed has expired.
//!
//! At most one key per tenant and algorithm is active: a partial unique index enforces it across
//! processes, and a process that loses a race to create a key adopts the winner's.
//!
//! **Publish before use.** A rotation publishes the new key at once but signs with it only from
//! its `activates_at`, [`PUBLISH_AHEAD`] later: longer than a relying party (or an HTTP cache in
//! front of it) may keep the JWKS it fetched ([`JWKS_MAX_AGE_SECS`]), so no relying party meets a
//! `kid` its cached key set lacks. Until then the previous key signs. Which key signs is a
//! function of time over the stored rows (the newest whose `activates_at` has passed), so the
//! switch needs no write and happens at the same instant in every process: a cached signing key
//! is kept only until the next key's `activates_at`. An immediate rotation (a key that may have
//! leaked) signs with the new key at once.

use std::sync::Arc;

use chrono::Duration;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Statement};
use uuid::Uuid;

use crate::jose::{Algorithm, Jwk, Jwks, KeyError, MasterKey, SealError, SigningKey};
use crate::ttl_map::{Ticket, TtlMap};

/// The algorithm a tenant signs ID tokens with unless configured otherwise (OIDC Core §15.1).
pub const DEFAULT_ALGORITHM: Algorithm = Algorithm::RS256;

/// The algorithms every tenant signs with and advertises (`id_token_signing_alg_values_supported`,
/// `access_token_signing_alg_values_supported`): each has an active key in the JWKS from the
/// first time the JWKS is served, so a relying party finds a key for whichever it registered.
pub const SIGNING_ALGORITHMS: [Algorithm; 3] = Algorithm::ALL;

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

/// A storage failure is what the database said (a 503 when it is unavailable, see
/// `error::outage`). A stored key that does not open under this process's master key is a
/// deployment fault, not the request's: a 503 whose log line names the master key (replicas
/// started with different keys, or a database restored without its key). A key that opens but
/// cannot be used is a 500.
impl From<KeyStoreError> for crate::ApiError {
    fn from(error: KeyStoreError) -> Self {
        match error {
            KeyStoreError::Db(error) => error.into(),
            seal @ KeyStoreError::Seal { .. } => {
                tracing::error!(error = %seal, "{MASTER_KEY_MISMATCH}");
                crate::ApiError::unavailable("the server cannot use its signing keys; retry later", 30)
            }
            other => crate::ApiError::internal(other),
        }
    }
}

/// What an operator is told when a stored key does not open.
const MASTER_KEY_MISMATCH: &str = "the master key (KEYGATE_MASTER_KEY, or the development key file) does not open the \
     signing keys stored in this database: every process on one database needs the same master key, and a \
     restored database the key it was sealed with";

/// Checks that `master` opens the newest signing key stored in `db` (any tenant's), so that a
/// process started with the wrong master key refuses to start instead of failing every token
/// request. `Ok` when no key is stored yet.
pub async fn check_master_key(db: &impl ConnectionTrait, master: &MasterKey) -> Result<(), String> {
    let newest = signing_key::Entity::find()
        .order_by_desc(signing_key::Column::CreatedAt)
        .one(db)
        .await
        .map_err(|error| format!("reading the stored signing keys: {error}"))?;
    match newest {
        Some(row) if master.open(&row.kid, &row.sealed_private_key).is_err() => {
            Err(format!("{MASTER_KEY_MISMATCH} (key {} does not open)", row.kid))
        }
        _ => Ok(()),
    }
}

/// `Cache-Control: max-age` of the JWKS response, in seconds: how long a relying party or an HTTP
/// cache may keep the key set it fetched.
pub const JWKS_MAX_AGE_SECS: u32 = 300;

/// How long before it signs a rotated-in key is published: the JWKS's `max-age` plus this
/// process's own cache of the key set ([`CACHE_TTL`]).
pub const PUBLISH_AHEAD: Duration = Duration::seconds(JWKS_MAX_AGE_SECS as i64 + CACHE_TTL.as_secs() as i64);

/// When a rotated-in key starts signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// After [`PUBLISH_AHEAD`]: the planned rotation, which no relying party notices.
    Scheduled,
    /// At once: for a key that may have leaked. Relying parties holding a cached JWKS refetch it
    /// when they meet the new `kid` (OIDC Core §10.1.1), unless a cache serves them the old one.
    Immediate,
}

/// A rotation's result: the new key, and when it starts signing.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The new key (or, if another process rotated the same key concurrently, the one it made).
    pub key: Arc<SigningKey>,
    /// When it signs the tenant's tokens from; until then the previous key does.
    pub activates_at: chrono::DateTime<chrono::Utc>,
}

/// The key that signs for one tenant and algorithm, as cached: valid until the next key's
/// `activates_at`, if one is scheduled.
#[derive(Clone)]
struct Signer {
    key: Arc<SigningKey>,
    until: Option<chrono::DateTime<chrono::Utc>>,
}

/// How long a process trusts its cached keys before re-reading them. A rotation made by another
/// replica (or the CLI) reaches every process at once through [`crate::invalidation`] on
/// PostgreSQL; this bounds the delay if that notification is lost, and how long a retired key
/// stays listed past its `publish_until`.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// The signing keys of every tenant.
pub struct KeyStore {
    master: MasterKey,
    active: TtlMap<(Uuid, Algorithm), Signer>,
    published: TtlMap<Uuid, Arc<Jwks>>,
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
        Self {
            master,
            active: TtlMap::new(CACHE_TTL),
            published: TtlMap::new(CACHE_TTL),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    fn cached(&self, tenant: Uuid, algorithm: Algorithm) -> Option<Arc<SigningKey>> {
        let signer = self.active.get(&(tenant, algorithm))?;
        signer.until.is_none_or(|until| crate::now() < until).then_some(signer.key)
    }

    fn remember(&self, ticket: Ticket, tenant: Uuid, algorithm: Algorithm, signer: Signer) {
        self.active.insert(ticket, (tenant, algorithm), signer);
        // A new key changes what is published.
        self.published.retain(|owner| *owner != tenant);
    }

    /// Seals another secret at rest (a TOTP factor's shared secret) under the master key, bound
    /// to `context` (the row it belongs in): base64url(nonce || AES-256-GCM ciphertext || tag).
    pub fn seal_secret(&self, context: &str, plaintext: &[u8]) -> Result<String, SealError> {
        self.master.seal(context, plaintext)
    }

    /// Opens what [`KeyStore::seal_secret`] sealed for the same `context`.
    pub fn open_secret(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        self.master.open(context, sealed)
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
        self.load(db, tenant, algorithm).await
    }

    /// Reads the key that signs now from storage (creating the active key if there is none).
    /// Callers hold `loading`.
    async fn load(
        &self,
        db: &impl ConnectionTrait,
        tenant: Uuid,
        algorithm: Algorithm,
    ) -> Result<Arc<SigningKey>, KeyStoreError> {
        let ticket = self.active.ticket();
        let mut rows = signing_rows(db, tenant, algorithm).await?;
        if !rows.iter().any(|row| row.active) {
            self.create(db, tenant, algorithm, None).await?;
            rows = signing_rows(db, tenant, algorithm).await?;
        }
        let (row, until) = signer_at(&rows, crate::now()).ok_or(KeyStoreError::Db(DbErr::RecordNotFound(format!(
            "no {algorithm} signing key of tenant {tenant}"
        ))))?;
        let key = Arc::new(self.open(row, algorithm)?);
        self.remember(ticket, tenant, algorithm, Signer { key: key.clone(), until });
        Ok(key)
    }

    fn open(&self, row: &signing_key::Model, algorithm: Algorithm) -> Result<SigningKey, KeyStoreError> {
        let pkcs8 = self
            .master
            .open(&row.kid, &row.sealed_private_key)
            .map_err(|source| KeyStoreError::Seal { kid: row.kid.clone(), source })?;
        Ok(SigningKey::from_pkcs8(algorithm, pkcs8)?)
    }

    /// Makes and stores a new active key, signing from `activates_at` (from now if `None`); returns
    /// it and when it signs from. If another process stored one for the same tenant and algorithm
    /// meanwhile (the partial unique index refuses a second), that one is adopted, so every
    /// process signs with the key the JWKS publishes.
    async fn create(
        &self,
        db: &impl ConnectionTrait,
        tenant: Uuid,
        algorithm: Algorithm,
        activates_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(SigningKey, Option<chrono::DateTime<chrono::Utc>>), KeyStoreError> {
        // RSA generation takes tens of milliseconds: keep it off the async workers.
        let key = tokio::task::spawn_blocking(move || SigningKey::generate(algorithm))
            .await
            .map_err(|_| KeyStoreError::Key(KeyError::Generate(algorithm)))??;
        let sealed = self
            .master
            .seal(key.kid(), key.pkcs8())
            .map_err(|source| KeyStoreError::Seal { kid: key.kid().into(), source })?;
        let row = signing_key::ActiveModel {
            id: ActiveValue::Set(Uuid::new_v4()),
            tenant_id: ActiveValue::Set(tenant),
            kid: ActiveValue::Set(key.kid().into()),
            alg: ActiveValue::Set(algorithm.as_str().into()),
            public_jwk: ActiveValue::Set(serde_json::to_value(key.public_jwk()).unwrap_or_default()),
            sealed_private_key: ActiveValue::Set(sealed),
            active: ActiveValue::Set(true),
            created_at: ActiveValue::Set(crate::now()),
            publish_until: ActiveValue::Set(None),
            activates_at: ActiveValue::Set(activates_at),
        };
        let inserted = signing_key::Entity::insert(row)
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        if inserted == 0 {
            let Some(winner) = active_row(db, tenant, algorithm).await? else {
                return Err(KeyStoreError::Db(DbErr::RecordNotInserted));
            };
            tracing::info!(%tenant, alg = %algorithm, kid = %winner.kid, "adopted a signing key another process created");
            return Ok((self.open(&winner, algorithm)?, winner.activates_at));
        }
        tracing::info!(%tenant, alg = %algorithm, kid = key.kid(), ?activates_at, "created signing key");
        Ok((key, activates_at))
    }

    /// The tenant's JWKS (RFC 7517 §5): active keys and retired keys still within their
    /// retention, public members only. The first call for a tenant creates an active key for
    /// every one of [`SIGNING_ALGORITHMS`], so relying parties that fetch keys before any token
    /// is issued see the key that will sign, whichever advertised algorithm they registered.
    pub async fn jwks(&self, db: &impl ConnectionTrait, tenant: Uuid) -> Result<Arc<Jwks>, KeyStoreError> {
        if let Some(jwks) = self.cached_jwks(tenant) {
            return Ok(jwks);
        }
        let _loading = self.loading.lock().await;
        if let Some(jwks) = self.cached_jwks(tenant) {
            return Ok(jwks);
        }
        let mut ticket = self.published.ticket();
        let mut rows = published_rows(db, tenant).await?;
        let missing: Vec<Algorithm> = SIGNING_ALGORITHMS
            .into_iter()
            .filter(|algorithm| !rows.iter().any(|row| row.active && row.alg == algorithm.as_str()))
            .collect();
        if !missing.is_empty() {
            for algorithm in missing {
                self.load(db, tenant, algorithm).await?;
            }
            // Loading them changed what is published: read it again.
            ticket = self.published.ticket();
            rows = published_rows(db, tenant).await?;
        }
        let keys = rows.into_iter().filter_map(|row| serde_json::from_value::<Jwk>(row.public_jwk).ok()).collect();
        let jwks = Arc::new(Jwks { keys });
        self.published.insert(ticket, tenant, jwks.clone());
        Ok(jwks)
    }

    /// Replaces the tenant's active `algorithm` key with a new one, published at once and
    /// signing from `activation` (module docs); the other algorithms' keys are untouched. The
    /// old public key stays in the JWKS for `retention` (at least the longest token lifetime)
    /// after the new key starts signing, so tokens it signed keep verifying; after that it is
    /// gone. A tenant with no key for `algorithm` gets one that signs at once.
    pub async fn rotate(
        &self,
        db: &impl ConnectionTrait,
        tenant: Uuid,
        algorithm: Algorithm,
        retention: Duration,
        activation: Activation,
    ) -> Result<Rotated, KeyStoreError> {
        let _loading = self.loading.lock().await;
        let now = crate::now();
        let starts = match activation {
            Activation::Scheduled => now + PUBLISH_AHEAD,
            Activation::Immediate => now,
        };
        let retired = signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Active, Expr::value(false))
            .col_expr(signing_key::Column::PublishUntil, Expr::value(Some(starts + retention)))
            .filter(signing_key::Column::TenantId.eq(tenant))
            .filter(signing_key::Column::Alg.eq(algorithm.as_str()))
            .filter(signing_key::Column::Active.eq(true))
            .exec(db)
            .await?;
        let scheduled = (retired.rows_affected > 0 && activation == Activation::Scheduled).then_some(starts);
        let (key, activates_at) = self.create(db, tenant, algorithm, scheduled).await?;
        // Not cached: `db` may be a transaction that does not commit. The next use reads
        // whichever key is stored.
        self.forget(tenant, algorithm);
        Ok(Rotated { key: Arc::new(key), activates_at: activates_at.unwrap_or(now) })
    }

    fn forget(&self, tenant: Uuid, algorithm: Algorithm) {
        self.active.retain(|key| *key != (tenant, algorithm));
        self.published.retain(|owner| *owner != tenant);
    }

    /// Forgets the cached keys and key set of `tenant` (after a rotation, here or elsewhere).
    pub fn forget_tenant(&self, tenant: Uuid) {
        self.active.retain(|(owner, _)| *owner != tenant);
        self.published.retain(|owner| *owner != tenant);
    }

    /// Forgets cached keys and key sets.
    pub fn clear_cache(&self) {
        self.active.clear();
        self.published.clear();
    }
}

/// The tenant's keys for `algorithm` that may sign now or later (the active one, which may not
/// sign yet) or did until lately (retired ones still published), newest first.
async fn signing_rows(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    algorithm: Algorithm,
) -> Result<Vec<signing_key::Model>, DbErr> {
    let now = crate::now();
    let rows = signing_key::Entity::find()
        .filter(signing_key::Column::TenantId.eq(tenant))
        .filter(signing_key::Column::Alg.eq(algorithm.as_str()))
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(rows.into_iter().filter(|row| still_published(row, now)).collect())
}

/// Whether `row` is in the JWKS at `now`: the active key, or a retired one whose
/// `publish_until` has not passed (relying parties may still hold tokens it signed).
fn still_published(row: &signing_key::Model, now: chrono::DateTime<chrono::Utc>) -> bool {
    row.active || row.publish_until.is_some_and(|until| until > now)
}

/// Of `rows` (newest first), the key that signs at `now`: the newest whose `activates_at` has
/// passed (or the active one, should none have), and until when: the next `activates_at` after
/// `now`, if any.
fn signer_at(
    rows: &[signing_key::Model],
    now: chrono::DateTime<chrono::Utc>,
) -> Option<(&signing_key::Model, Option<chrono::DateTime<chrono::Utc>>)> {
    let started = |row: &&signing_key::Model| row.activates_at.is_none_or(|at| at <= now);
    let signer = rows.iter().find(started).or_else(|| rows.iter().find(|row| row.active))?;
    let until = rows.iter().filter_map(|row| row.activates_at).filter(|at| *at > now).min();
    Some((signer, until))
}

/// The tenant's active key for `algorithm`, if stored.
async fn active_row(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    algorithm: Algorithm,
) -> Result<Option<signing_key::Model>, DbErr> {
    signing_key::Entity::find()
        .filter(signing_key::Column::TenantId.eq(tenant))
        .filter(signing_key::Column::Alg.eq(algorithm.as_str()))
        .filter(signing_key::Column::Active.eq(true))
        .one(db)
        .await
}

/// The tenant's keys the JWKS lists: active ones, and retired ones within their retention.
async fn published_rows(db: &impl ConnectionTrait, tenant: Uuid) -> Result<Vec<signing_key::Model>, DbErr> {
    let now = crate::now();
    let rows = signing_key::Entity::find()
        .filter(signing_key::Column::TenantId.eq(tenant))
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(rows.into_iter().filter(|row| still_published(row, now)).collect())
}

/// How long a key retired by [`ensure_one_active_key`] stays published: the longest lifetime a
/// tenant may give its tokens (`access_token_lifetime` maximum in `schema.yaml`).
const REPAIR_RETENTION: Duration = Duration::seconds(86_400);

/// Makes storage enforce one active key per tenant and algorithm, with a partial unique index
/// (SQLite and PostgreSQL both have them). Databases from before the index may hold several
/// (processes racing to create a key); all but the newest are retired first, staying published
/// for [`REPAIR_RETENTION`] so the tokens they signed keep verifying. Idempotent.
pub(crate) async fn ensure_one_active_key(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let (param, truth) = match backend {
        sea_orm::DbBackend::Postgres => ("$1", "TRUE"),
        _ => ("?", "1"),
    };
    let retire = format!(
        "UPDATE keygate_signing_keys SET active = NOT {truth}, publish_until = {param} \
         WHERE active = {truth} AND EXISTS (SELECT 1 FROM keygate_signing_keys newer \
         WHERE newer.tenant_id = keygate_signing_keys.tenant_id AND newer.alg = keygate_signing_keys.alg \
         AND newer.active = {truth} AND (newer.created_at > keygate_signing_keys.created_at \
         OR (newer.created_at = keygate_signing_keys.created_at AND newer.kid > keygate_signing_keys.kid)))"
    );
    let until = crate::now() + REPAIR_RETENTION;
    db.execute_raw(Statement::from_sql_and_values(backend, retire, [until.into()])).await?;
    let index = format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS ux_keygate_signing_keys_active \
         ON keygate_signing_keys (tenant_id, alg) WHERE active = {truth}"
    );
    db.execute_unprepared(&index).await?;
    Ok(())
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
        /// When it starts signing: a rotated-in key is published this long before (see
        /// `keys::PUBLISH_AHEAD`); null when it signed from its creation.
        #[sea_orm(nullable)]
        pub activates_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

    use super::*;

    /// Runs `check` on a fresh migrated database: SQLite, and PostgreSQL when
    /// `TEST_DATABASE_URL` is set (a database made for the test and dropped after it).
    async fn each_database(check: impl AsyncFn(&DatabaseConnection)) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("keys.db").display());
        let db = crate::db::connect(&url).await.unwrap();
        crate::migrate::Migration::start(&db).await.unwrap();
        check(&db).await;
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else { return };
        if admin_url.trim().is_empty() {
            return;
        }
        let name = format!("keygate_keys_{}", Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url).await.unwrap();
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let db = crate::db::connect(&format!("{base}/{name}")).await.unwrap();
        crate::migrate::Migration::start(&db).await.unwrap();
        check(&db).await;
        db.close().await.unwrap();
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.unwrap();
    }

    fn store(master: &[u8; 32]) -> KeyStore {
        KeyStore::new(MasterKey::from_bytes(master).unwrap())
    }

    #[tokio::test]
    async fn a_key_sealed_under_another_master_key_is_a_503_and_fails_the_start_check() {
        each_database(async |db: &DatabaseConnection| {
            assert_eq!(check_master_key(db, &MasterKey::from_bytes(&[7u8; 32]).unwrap()).await, Ok(()), "no keys yet");
            let tenant = Uuid::new_v4();
            store(&[7u8; 32]).active(db, tenant, Algorithm::ES256).await.unwrap();
            assert_eq!(check_master_key(db, &MasterKey::from_bytes(&[7u8; 32]).unwrap()).await, Ok(()));
            let refused = check_master_key(db, &MasterKey::from_bytes(&[8u8; 32]).unwrap()).await.unwrap_err();
            assert!(refused.contains("KEYGATE_MASTER_KEY"), "{refused}");
            let error = store(&[8u8; 32]).active(db, tenant, Algorithm::ES256).await.unwrap_err();
            assert!(matches!(error, KeyStoreError::Seal { .. }), "{error}");
            let api = crate::ApiError::from(error);
            assert_eq!(api.status(), actix_web::http::StatusCode::SERVICE_UNAVAILABLE, "{api}");
        })
        .await;
    }

    #[tokio::test]
    async fn a_replica_that_loses_the_race_to_create_a_key_adopts_the_winners() {
        each_database(async |db: &DatabaseConnection| {
            let master = [7u8; 32];
            let (first, second) = (store(&master), store(&master));
            let tenant = Uuid::new_v4();
            let made = first.active(db, tenant, Algorithm::ES256).await.unwrap();
            // The second process did not see the row before deciding to create one.
            let (adopted, _) = second.create(db, tenant, Algorithm::ES256, None).await.unwrap();
            assert_eq!(adopted.kid(), made.kid(), "{:?}", db.get_database_backend());
            let jwks = second.jwks(db, tenant).await.unwrap();
            let es256 = jwks.keys.iter().filter(|k| k.alg.as_deref() == Some(Algorithm::ES256.as_str())).count();
            assert_eq!(es256, 1, "one ES256 key, published");
            assert_eq!(jwks.keys.len(), SIGNING_ALGORITHMS.len(), "one key per algorithm");
        })
        .await;
    }
}
