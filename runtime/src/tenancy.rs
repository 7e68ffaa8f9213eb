//! Resolving the `{tenant}` of a URL to the tenant's id, with a short-lived cache: every
//! tenant-scoped request needs it, and slugs almost never change.
//!
//! A committed write to the tenant entity clears the cache, here and on every other replica
//! ([`crate::invalidation`]: the write transaction reports the entity it wrote), so no process
//! serves a renamed or deleted slug; [`TTL`] bounds the staleness if a notification is lost.
//! Writes that race a deletion on another replica are still refused by the `tenant_id` foreign
//! key.

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use sea_orm::{ConnectionTrait, ModelTrait, Value};
use uuid::Uuid;

use crate::crud::{Resource, find, find_by_optional};
use crate::error::ApiError;
use crate::jose::Algorithm;
use crate::oauth::registration_policy::RegistrationPolicy;
use crate::roles::{Roles, TenantSettings, TenantSettingsColumns};
use crate::state::Runtime;
use crate::ttl_map::TtlMap;
use crate::vocab::RegistrationMode;

/// How long a resolved slug is trusted.
pub const TTL: Duration = Duration::from_secs(5);

/// A tenant's protocol settings (the `tenant_settings` role), with server defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Access-token algorithm for clients that do not choose one.
    pub default_alg: Algorithm,
    /// Seconds access and ID tokens live.
    pub access_token_lifetime: i64,
    /// How long refresh tokens live.
    pub refresh_token_lifetime: chrono::Duration,
    /// Who may register clients dynamically.
    pub registration: RegistrationMode,
    /// What dynamic registration may ask for.
    pub registration_policy: RegistrationPolicy,
    /// Whether sign-in asks for a second factor (clients may only make it stricter).
    pub mfa_policy: crate::vocab::MfaPolicy,
    /// Whether users may sign in with a passkey alone.
    pub passkey_sign_in: bool,
}

/// Tenant key → id, and tenant id → settings.
#[derive(Debug)]
pub struct TenantCache {
    ids: TtlMap<String, Uuid>,
    settings: TtlMap<Uuid, Arc<Settings>>,
}

impl Default for TenantCache {
    fn default() -> Self {
        Self { ids: TtlMap::new(TTL), settings: TtlMap::new(TTL) }
    }
}

impl TenantCache {
    /// Forgets every tenant (after one was changed or deleted).
    pub fn clear(&self) {
        self.ids.clear();
        self.settings.clear();
    }
}

/// The tenant every installation starts with.
pub const DEFAULT_TENANT: &str = "default";

/// Creates the `default` tenant unless a tenant with that slug exists; whether it did.
pub async fn ensure_default<R: Roles>(db: &impl ConnectionTrait) -> Result<bool, ApiError> {
    let slug = R::TenantSettings::SLUG;
    if crate::crud::find_unique(db, slug, DEFAULT_TENANT).await?.is_some() {
        return Ok(false);
    }
    let row = crate::roles::NewTenantSettings {
        id: Uuid::new_v4(),
        slug: DEFAULT_TENANT.to_owned(),
        name: "Default".to_owned(),
    };
    match crate::crud::insert_new::<R::TenantSettings>(db, row).await {
        Ok(()) => Ok(true),
        // Another replica created it first.
        Err(error) if error.status() == actix_web::http::StatusCode::CONFLICT => Ok(false),
        Err(error) => Err(error),
    }
}

/// The settings of `tenant`, cached like its slug.
pub async fn settings<R: Roles>(rt: &Runtime, tenant: Uuid) -> Result<Arc<Settings>, ApiError> {
    let cache = &rt.tenants().settings;
    if let Some(settings) = cache.get(&tenant) {
        return Ok(settings);
    }
    let ticket = cache.ticket();
    let row = find::<R::TenantSettings>(rt.db(), None, tenant).await?;
    let config = rt.config();
    let settings = Arc::new(Settings {
        default_alg: row.default_signing_alg(),
        access_token_lifetime: row.access_token_lifetime().unwrap_or(config.access_token_lifetime.num_seconds()),
        refresh_token_lifetime: row
            .refresh_token_lifetime()
            .map(chrono::Duration::seconds)
            .unwrap_or(config.refresh_token_lifetime),
        registration: row.registration(),
        registration_policy: RegistrationPolicy::from_fields(
            row.registration_grant_types(),
            row.registration_auth_methods(),
            row.registration_scopes(),
        ),
        mfa_policy: row.mfa_policy(),
        passkey_sign_in: row.passkey_sign_in(),
    });
    cache.insert(ticket, tenant, settings.clone());
    Ok(settings)
}

/// The id of the tenant named by the request's `{tenant}` segment; an unknown tenant is a 404.
pub async fn resolve<E: Resource>(
    rt: &Runtime,
    db: &impl ConnectionTrait,
    req: &HttpRequest,
    key_column: E::Column,
) -> Result<Uuid, ApiError> {
    let key = crate::http::path_param(req, "tenant")?;
    id_of::<E>(rt, db, key_column, key).await
}

/// The id of the tenant whose URL name is `key`; an unknown tenant is a 404, and so is a key no
/// tenant can have (one with control characters, which PostgreSQL cannot even compare).
pub async fn id_of<E: Resource>(
    rt: &Runtime,
    db: &impl ConnectionTrait,
    key_column: E::Column,
    key: &str,
) -> Result<Uuid, ApiError> {
    find_id::<E>(rt, db, key_column, key).await?.ok_or_else(|| ApiError::not_found(E::NAME))
}

/// The id of the tenant whose URL name is `key`, or `None` (also for a key with control
/// characters, which no tenant has and PostgreSQL cannot even compare); a database error stays
/// an error.
pub async fn find_id<E: Resource>(
    rt: &Runtime,
    db: &impl ConnectionTrait,
    key_column: E::Column,
    key: &str,
) -> Result<Option<Uuid>, ApiError> {
    if crate::check::has_control(key) {
        return Ok(None);
    }
    let cache = &rt.tenants().ids;
    if let Some(id) = cache.get(key) {
        return Ok(Some(id));
    }
    let ticket = cache.ticket();
    let Some(tenant) = find_by_optional::<E>(db, key_column, key).await? else { return Ok(None) };
    let id = match tenant.get(E::pk()) {
        Value::Uuid(Some(id)) => id,
        _ => return Err(ApiError::internal("the tenant entity's primary key is not a UUID")),
    };
    cache.insert(ticket, key.to_owned(), id);
    Ok(Some(id))
}
