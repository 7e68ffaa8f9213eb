//! Who may call an op: the caller is identified once per request, then checked against the
//! op's rule from `schema.yaml` (`auth:`), which the generated handler carries as a [`Rule`].
//!
//! Callers: the bootstrap admin credential (`kga_…`); a user, by an access token of their
//! tenant or one of their API keys (`sk_…`, as `Authorization: Bearer` or `X-API-Key`), with
//! the roles on their account (the token's `roles` claim); and *superadmins* — users of the
//! `default` tenant with the `superadmin` role — who act as the admin credential in every
//! tenant. Everyone else is confined to their own tenant.

use actix_web::HttpRequest;
use uuid::Uuid;

use crate::account::api::issued_to_first_party;
use crate::authorization::Authorization;
use crate::crud::{self, Resource};
use crate::error::ApiError;
use crate::oauth::access_token;
use crate::roles::{
    Account, ApiKey, ApiKeyColumns, Roles, Service, ServiceKey, ServiceKeyColumns, TenantSettingsColumns,
};
use crate::secret;
use crate::state::Runtime;
use crate::tenancy::DEFAULT_TENANT;

/// The role that spans tenants (for users of the `default` tenant).
pub const SUPERADMIN: &str = "superadmin";

/// How often a key's `last_used_at` is written at most: uses in between are coalesced.
const LAST_USED_GRANULARITY: chrono::Duration = chrono::Duration::seconds(60);

/// `WWW-Authenticate` challenge of the admin API.
const CHALLENGE: &str = "Bearer realm=\"keygate-admin\"";

/// An op's access rule, generated from its `auth:`. The admin credential (and superadmins) pass
/// every rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Anyone, signed in or not.
    pub public: bool,
    /// Any signed-in user of the tenant.
    pub user: bool,
    /// Users, for the rows they own (the entity's `owner:` field).
    pub owner: bool,
    /// Any service of the tenant, by one of its service keys.
    pub service: bool,
    /// Users with any of these roles.
    pub roles: &'static [&'static str],
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credential.
    Anonymous,
    /// The admin credential, or a superadmin.
    Admin,
    /// A user of `tenant`.
    User {
        /// Their tenant.
        tenant: Uuid,
        /// The user.
        id: Uuid,
        /// Their roles.
        roles: Vec<String>,
    },
    /// A service of `tenant`, by one of its service keys.
    Service {
        /// Its tenant.
        tenant: Uuid,
        /// The service.
        id: Uuid,
    },
}

/// What a rule lets the caller touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Every row of the tenant.
    All,
    /// Only rows whose owner is this user.
    Own(Uuid),
}

impl Permit {
    /// The owner a listing must be filtered to, if any.
    pub fn owner(self) -> Option<Uuid> {
        match self {
            Permit::All => None,
            Permit::Own(id) => Some(id),
        }
    }

    /// A row owned by `owner` may be touched; another's is a 404 like a missing row.
    pub fn check_owner(self, owner: impl Into<Option<Uuid>>, entity: &str) -> Result<(), ApiError> {
        match self {
            Permit::All => Ok(()),
            Permit::Own(id) if owner.into() == Some(id) => Ok(()),
            Permit::Own(_) => Err(ApiError::not_found(entity)),
        }
    }

    /// A new row must name the caller as its owner.
    pub fn check_new_owner(self, owner: impl Into<Option<Uuid>>) -> Result<(), ApiError> {
        match self {
            Permit::Own(id) if owner.into() != Some(id) => Err(ApiError::forbidden("you may only create rows you own")),
            _ => Ok(()),
        }
    }
}

impl Caller {
    /// Checks `rule` for a request in `tenant` (`None` for routes outside any tenant): 401 for a
    /// missing credential, 403 for one that is not enough.
    pub fn permit(&self, rule: &Rule, tenant: Option<Uuid>) -> Result<Permit, ApiError> {
        if rule.public {
            return Ok(Permit::All);
        }
        let (user_tenant, id, roles) = match self {
            Caller::Admin => return Ok(Permit::All),
            Caller::Anonymous => {
                return Err(ApiError::credentials_required(
                    "send the admin credential, an access token or an API key as `Authorization: Bearer ...`",
                    CHALLENGE,
                ));
            }
            Caller::User { tenant, id, roles } => (*tenant, *id, roles),
            Caller::Service { tenant: service_tenant, .. } => {
                return if tenant != Some(*service_tenant) {
                    Err(ApiError::forbidden("these credentials belong to another tenant"))
                } else if rule.service {
                    Ok(Permit::All)
                } else {
                    Err(ApiError::forbidden("services may not call this"))
                };
            }
        };
        if tenant != Some(user_tenant) {
            return Err(ApiError::forbidden("these credentials belong to another tenant"));
        }
        if rule.user || roles.iter().any(|role| rule.roles.contains(&role.as_str())) {
            return Ok(Permit::All);
        }
        if rule.owner {
            return Ok(Permit::Own(id));
        }
        Err(ApiError::forbidden(format!("this needs one of the roles: {}", rule.roles.join(", "))))
    }
}

/// Identifies the caller of a request to the admin API; a credential that is present but wrong
/// is a 401, an absent one is [`Caller::Anonymous`].
pub async fn identify<R: Roles>(rt: &Runtime, req: &HttpRequest) -> Result<Caller, ApiError> {
    let invalid = |detail: &str| ApiError::unauthorized(detail, &format!("{CHALLENGE}, error=\"invalid_token\""));
    let Some(token) = presented(req)? else { return Ok(Caller::Anonymous) };
    let token = token.as_str();
    if token.starts_with("kga_") {
        return if rt.admin().verify(token) {
            Ok(Caller::Admin)
        } else {
            Err(invalid("the admin credential is not valid"))
        };
    }
    let (tenant, user) = if token.starts_with("sk_") {
        match api_key_owner::<R>(rt, token).await? {
            Some(owner) => owner,
            None => {
                return service_key_owner::<R>(rt, token)
                    .await?
                    .map(|(tenant, id)| Caller::Service { tenant, id })
                    .ok_or_else(|| invalid("the API key is invalid, expired or revoked"));
            }
        }
    } else {
        token_owner::<R>(rt, token).await?.ok_or_else(|| invalid("the access token is invalid, expired or revoked"))?
    };
    let Some(account) = rt.accounts().find::<R::Account>(rt, tenant, user).await?.filter(|a| a.is_active()) else {
        return Err(invalid("the account is disabled"));
    };
    let roles = crate::account::user_roles::of::<R>(rt, tenant, &account).await?.roles.clone();
    if roles.iter().any(|r| r == SUPERADMIN) && is_default_tenant::<R>(rt, tenant).await? {
        return Ok(Caller::Admin);
    }
    Ok(Caller::User { tenant, id: user, roles })
}

/// What `auth: admin` admits, on entity ops and endpoints alike: the admin credential or a
/// superadmin. No credential is a 401 with a challenge (as is a wrong one, from [`identify`]),
/// anyone else a 403.
pub async fn require_admin<R: Roles>(rt: &Runtime, req: &HttpRequest) -> Result<(), ApiError> {
    match identify::<R>(rt, req).await? {
        Caller::Admin => Ok(()),
        Caller::Anonymous => Err(ApiError::credentials_required(
            "send the admin credential or a superadmin's access token as `Authorization: Bearer ...`",
            CHALLENGE,
        )),
        Caller::User { .. } | Caller::Service { .. } => {
            Err(ApiError::forbidden("this needs the admin credential or a superadmin"))
        }
    }
}

/// The credential a request presents: `Authorization: Bearer …` (RFC 6750 §2.1) or
/// `X-API-Key: …`, at most one of them. Another `Authorization` scheme presents nothing; a
/// malformed header is a 400 (RFC 6750 §3.1 `invalid_request`).
pub fn presented(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let bearer = match Authorization::of(req) {
        Ok(Some(Authorization::Bearer(token))) => Some(token),
        Ok(_) => None,
        Err(error) => return Err(ApiError::bad_request(error.to_string())),
    };
    let api_key = req.headers().get("x-api-key").and_then(|v| v.to_str().ok()).map(|key| key.trim().to_owned());
    match (bearer, api_key) {
        (Some(_), Some(_)) => Err(ApiError::bad_request("send one credential, not two")),
        (token, None) | (None, token) => Ok(token),
    }
}

/// The tenant and user of a live API key, found by its SHA-256 digest (a unique index across
/// tenants; a 256-bit key cannot be guessed from the lookup's timing). Its use is recorded at
/// most once a minute, so a busy key does not turn every request into a write.
pub(crate) async fn api_key_owner<R: Roles>(rt: &Runtime, key: &str) -> Result<Option<(Uuid, Uuid)>, ApiError> {
    // API key digests are unique across tenants; the row says whose it is.
    let Some(found) = crud::find_unique(rt.db(), R::ApiKey::DIGEST, secret::digest(key)).await? else {
        return Ok(None);
    };
    let now = crate::now();
    if found.valid_from() > now || found.valid_to().is_some_and(|to| to <= now) {
        return Ok(None);
    }
    let tenant = tenant_of::<R::ApiKey>(&found)?;
    if found.last_used_at().is_none_or(|at| now - at >= LAST_USED_GRANULARITY) {
        let _turn = rt.write_turn().await;
        crud::set(rt.db(), tenant, found.id(), [R::ApiKey::LAST_USED_AT.set(now)]).await?;
    }
    Ok(Some((tenant, found.user_id())))
}

/// The tenant and service of a live service key of an active service.
async fn service_key_owner<R: Roles>(rt: &Runtime, key: &str) -> Result<Option<(Uuid, Uuid)>, ApiError> {
    let Some(found) = crud::find_unique(rt.db(), R::ServiceKey::DIGEST, secret::digest(key)).await? else {
        return Ok(None);
    };
    let now = crate::now();
    if found.valid_from() > now || found.valid_to().is_some_and(|to| to <= now) {
        return Ok(None);
    }
    let tenant = tenant_of::<R::ServiceKey>(&found)?;
    let service = crud::find_optional::<R::Service>(rt.db(), Some(tenant), found.service_id()).await?;
    let active = service.is_some_and(|s| s.is_active());
    if !active {
        return Ok(None);
    }
    if found.last_used_at().is_none_or(|at| now - at >= LAST_USED_GRANULARITY) {
        let _turn = rt.write_turn().await;
        crud::set(rt.db(), tenant, found.id(), [R::ServiceKey::LAST_USED_AT.set(now)]).await?;
    }
    Ok(Some((tenant, found.service_id())))
}

/// The tenant and user of a live user access token; its tenant comes from its issuer.
async fn token_owner<R: Roles>(rt: &Runtime, token: &str) -> Result<Option<(Uuid, Uuid)>, ApiError> {
    let Some(claims) = crate::jose::unverified_claims(token) else { return Ok(None) };
    let prefix = format!("{}/", rt.config().public_url.trim_end_matches('/'));
    let Some(tenant_key) = claims["iss"].as_str().and_then(|iss| iss.strip_prefix(&prefix)).map(str::to_owned) else {
        return Ok(None);
    };
    let slug = R::TenantSettings::SLUG.column();
    let Some(tenant) = crate::tenancy::find_id::<R::TenantSettings>(rt, rt.db(), slug, &tenant_key).await? else {
        return Ok(None);
    };
    let Some(claims) = access_token::verify_for::<R>(rt, rt.db(), tenant, &tenant_key, token).await? else {
        return Ok(None);
    };
    // A user's token has a grant; a client's own token (client_credentials) is no user.
    if claims.get(access_token::GRANT_CLAIM).is_none() {
        return Ok(None);
    }
    // Only the tenant's own sign-in (`/auth/login`, the first-party client) speaks for its user
    // here: a token an application obtained when the user signed in to it carries the user's
    // roles but was never meant for the admin API (an org_admin signing in to some app would
    // hand it the tenant).
    // RFC 6750 §3.1: presented to the wrong resource, it is an `invalid_token`.
    if !issued_to_first_party(&claims, tenant) {
        return Err(ApiError::unauthorized(
            "this access token was issued to an application; the admin API takes the tokens of the tenant's own sign-in (`/auth/login`)",
            &format!("{CHALLENGE}, error=\"invalid_token\""),
        ));
    }
    Ok(claims["sub"].as_str().and_then(|s| s.parse().ok()).map(|user| (tenant, user)))
}

async fn is_default_tenant<R: Roles>(rt: &Runtime, tenant: Uuid) -> Result<bool, ApiError> {
    let slug = R::TenantSettings::SLUG.column();
    Ok(crate::tenancy::find_id::<R::TenantSettings>(rt, rt.db(), slug, DEFAULT_TENANT).await? == Some(tenant))
}

fn tenant_of<E: Resource>(row: &E::Model) -> Result<Uuid, ApiError> {
    use sea_orm::ModelTrait;
    let column = E::tenant().ok_or_else(|| ApiError::internal(format!("`{}` is not tenant-scoped", E::NAME)))?;
    match row.get(column) {
        sea_orm::Value::Uuid(Some(id)) => Ok(id),
        _ => Err(ApiError::internal("tenant_id is not a UUID")),
    }
}
