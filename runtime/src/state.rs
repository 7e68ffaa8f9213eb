//! The service state every handler reaches through `web::Data<Runtime>`.

use std::sync::Arc;

use chrono::Duration;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::account::throttle::Throttle;
use crate::account::user_roles::MembershipCache;
use crate::admin_credential::AdminCredentials;
use crate::cors::OriginCache;
use crate::error::ApiError;
use crate::invalidation::{Bus, Caches, Change, Documents, Invalidator};
use crate::jose::MasterKey;
use crate::keys::KeyStore;
use crate::row_cache::RowCache;
use crate::tenancy::TenantCache;
use crate::writer::Writer;
pub use crate::writer::{CommitStats, WriteTurn, WriteTx};

/// Settings hooks and handlers read.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// bcrypt cost for new password hashes.
    pub bcrypt_cost: u32,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Lifetime of a pushed authorization request (RFC 9126 §2.2).
    pub par_lifetime: Duration,
    /// Lifetime of a device code (RFC 8628 §3.2).
    pub device_code_lifetime: Duration,
    /// Polling interval handed to devices (RFC 8628 §3.2).
    pub device_poll_interval: Duration,
    /// How long a rotated-out signing key stays in the JWKS: longer than any token it signed.
    pub key_retention: Duration,
    /// Public base URL; a tenant's issuer is `{public_url}/{tenant}`.
    pub public_url: String,
    /// Lifetime of access tokens and ID tokens.
    pub access_token_lifetime: Duration,
    /// Lifetime of refresh tokens; each rotation starts a new one.
    pub refresh_token_lifetime: Duration,
    /// Lifetime of authorization codes (60 s: OAuth 2.1 §4.1.2 recommends at most 10 minutes).
    pub auth_code_lifetime: Duration,
    /// Lifetime of a browser session after sign-in.
    pub session_lifetime: Duration,
    /// How recent a sign-in must be for a sensitive change (removing a factor, new recovery
    /// codes) without entering the password again ([`crate::account::reauth`]).
    pub reauthentication_window: Duration,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` give the client's address (for
    /// brute-force protection); from anyone else those headers are ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            bcrypt_cost: 12,
            body_limit: 64 * 1024,
            par_lifetime: Duration::seconds(60),
            device_code_lifetime: Duration::minutes(10),
            device_poll_interval: Duration::seconds(5),
            key_retention: Duration::hours(24),
            public_url: "http://127.0.0.1:8080".into(),
            access_token_lifetime: Duration::hours(1),
            refresh_token_lifetime: Duration::days(30),
            auth_code_lifetime: Duration::seconds(60),
            session_lifetime: Duration::hours(24),
            reauthentication_window: Duration::minutes(10),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Database, configuration and credentials shared by all workers.
pub struct Runtime {
    db: DatabaseConnection,
    writer: Writer,
    config: RuntimeConfig,
    admin: AdminCredentials,
    caches: Arc<Caches>,
    /// Tells other replicas what this one changed, and applies what they changed (PostgreSQL).
    /// Held for its background tasks, which stop when it is dropped.
    _bus: Option<Bus>,
    /// Drops what a committed change made stale, here and (through the bus) elsewhere.
    invalidator: Invalidator,
    throttle: Throttle,
    recovery_throttle: Throttle,
    mailer: crate::mail::Mailer,
    endpoints: &'static [(&'static str, &'static str)],
}

impl Runtime {
    /// Wraps a connected, migrated database; private signing keys are sealed under `master`.
    /// On PostgreSQL this also starts the cache invalidation bus ([`crate::invalidation`]) on
    /// the current Tokio runtime; it stops when the `Runtime` is dropped.
    pub fn new(db: DatabaseConnection, config: RuntimeConfig, admin: AdminCredentials, master: MasterKey) -> Self {
        let caches = Arc::new(Caches::new(master));
        let bus = Bus::start(&db, &caches);
        Self {
            writer: Writer::new(&db),
            invalidator: Invalidator::new(caches.clone(), bus.as_ref()),
            _bus: bus,
            caches,
            db,
            config,
            admin,
            throttle: Throttle::default(),
            recovery_throttle: Throttle::default(),
            mailer: crate::mail::Mailer::default(),
            endpoints: &[],
        }
    }

    /// Uses `throttle` for sign-in failures (e.g. [`Throttle::redis`], shared by replicas).
    pub fn with_throttle(mut self, throttle: Throttle) -> Self {
        self.throttle = throttle;
        self
    }

    /// Uses `throttle` for password reset requests (every request counts as a failure there).
    pub fn with_recovery_throttle(mut self, throttle: Throttle) -> Self {
        self.recovery_throttle = throttle;
        self
    }

    /// Password reset request records, apart from sign-in failures.
    pub fn recovery_throttle(&self) -> &Throttle {
        &self.recovery_throttle
    }

    /// Sends mail with `mailer` (by default every message is only logged).
    pub fn with_mailer(mut self, mailer: crate::mail::Mailer) -> Self {
        self.mailer = mailer;
        self
    }

    /// Outgoing mail ([`crate::mail`]).
    pub fn mailer(&self) -> &crate::mail::Mailer {
        &self.mailer
    }

    /// Registers the schema's endpoint routes (`routes::ENDPOINT_PATHS`), for discovery.
    pub fn with_endpoints(mut self, endpoints: &'static [(&'static str, &'static str)]) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Rendered discovery documents, by tenant key.
    pub fn documents(&self) -> &Documents {
        &self.caches.documents
    }

    /// OAuth clients recently read.
    pub fn clients(&self) -> &RowCache {
        &self.caches.clients
    }

    /// Users' effective roles and groups.
    pub fn memberships(&self) -> &MembershipCache {
        &self.caches.memberships
    }

    /// Sign-in failure records (brute-force protection).
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// Accounts recently read.
    pub fn accounts(&self) -> &RowCache {
        &self.caches.accounts
    }

    /// A row of the entity playing `role` was written (and committed) outside a [`WriteTx`],
    /// which reports its own writes (e.g. by SQL of its own): drop what is cached for that role,
    /// here at once and on every other replica through the invalidation bus, so no process
    /// serves a stale copy.
    pub fn role_changed(&self, role: &str) {
        self.invalidator.changed(Change::Role(role.to_owned()));
    }

    /// The signing keys of `tenant` changed (a rotation, committed): every process re-reads them.
    pub fn keys_changed(&self, tenant: Uuid) {
        self.invalidator.changed(Change::Keys(tenant));
    }

    /// Origins the tenants' clients registered for CORS.
    pub fn origins(&self) -> &OriginCache {
        &self.caches.origins
    }

    /// The absolute URL of endpoint `name` for a tenant, if the schema declares it.
    pub fn endpoint_url(&self, name: &str, tenant_key: &str) -> Option<String> {
        let (_, path) = self.endpoints.iter().find(|(n, _)| *n == name)?;
        Some(format!("{}{}", self.config.public_url.trim_end_matches('/'), path.replace("{tenant}", tenant_key)))
    }

    /// Recently resolved tenant keys.
    pub fn tenants(&self) -> &TenantCache {
        &self.caches.tenants
    }

    /// The tenants' signing keys.
    pub fn keys(&self) -> &KeyStore {
        &self.caches.keys
    }

    /// The connection pool, for reads.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Service configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Admin credentials.
    pub fn admin(&self) -> &AdminCredentials {
        &self.admin
    }

    /// Starts a write transaction (after any writer ahead of it on SQLite); its commit drops
    /// what the writes it recorded made stale ([`WriteTx::wrote`]).
    pub async fn begin_write(&self) -> Result<WriteTx, ApiError> {
        self.writer.begin(&self.invalidator).await
    }

    /// Runs `write` (a [`crate::chain::Chain`]), which is atomic on its own, as a write
    /// transaction of its own (after any writer ahead of it on SQLite, where its parts run in one
    /// round trip), then drops what it made stale; how many rows its last part changed. See
    /// [`Writer::execute`].
    pub async fn execute_write(&self, write: crate::chain::Write) -> Result<u64, ApiError> {
        self.writer.execute(&self.invalidator, write).await
    }

    /// SQLite only: how many commits this runtime's writes took (group commit, see
    /// [`crate::writer`]); `None` on PostgreSQL, where each transaction commits on its own.
    pub fn commit_stats(&self) -> Option<CommitStats> {
        self.writer.commit_stats()
    }

    /// This process's turn to write without a transaction, for a sequence of single statements
    /// that are each atomic on their own (see the refresh grant); held until dropped.
    pub async fn write_turn(&self) -> WriteTurn {
        self.writer.turn().await
    }
}
