//! Known devices: a browser (or an app that keeps cookies) is known by the long-lived, HttpOnly
//! `kg_device` cookie it gets at its first successful sign-in, stored as the digest of its
//! value per user (the `device` role) with the user agent and IP of the last sign-in. A sign-in
//! without a device cookie the user's devices know is from a *new device*: it is recorded, and,
//! unless it is the user's first device, logged as `sign_in.new_device` and mailed to the user.
//! A sign-in that presents no device cookie at all (an app that keeps no cookies) is from the
//! known device with the same user agent and IP, if there is one.

use actix_web::HttpResponse;
use actix_web::cookie::{Cookie, SameSite};
use sea_orm::{ConnectionTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::list::{FieldKind, ListSpec};
use crate::mail::notices;
use crate::roles::{Account, Device, DeviceColumns, NewDevice, Roles};
use crate::security_events::{self, EventType, Origin};

const COOKIE: &str = "kg_device";
/// How long the device cookie lives (400 days, the most browsers keep a cookie).
const COOKIE_DAYS: i64 = 400;

/// The device a sign-in came from.
#[derive(Debug)]
pub struct SignedInFrom {
    /// The device's id.
    pub device_id: Uuid,
    /// Whether it is new to a user who had other devices (mail them with [`SignedInFrom::alert`]).
    pub new_to_user: bool,
    /// The device cookie to set (renewed on every sign-in).
    pub cookie: Cookie<'static>,
    origin: Origin,
}

/// Records the device of a successful sign-in of `user` in the caller's write transaction `db`:
/// refreshes a known one, or stores a new one (and its `sign_in.new_device` event unless it is
/// the user's first). `via` says which sign-in (`account_api`, `browser`), for the event.
pub async fn sign_in<R: Roles>(
    ctx: &EndpointCtx<'_>,
    db: &impl ConnectionTrait,
    user: Uuid,
    via: &str,
) -> Result<SignedInFrom, ApiError> {
    let tenant = ctx.tenant()?;
    let origin = Origin::of(ctx);
    let presented = ctx.request().cookie(COOKIE).map(|c| c.value().to_owned()).filter(|v| v.len() >= 43);
    let cookieless = presented.is_none();
    let raw = presented.unwrap_or_else(|| crate::secret::random_token("", 32));
    let digest = crate::secret::digest(&raw);
    let mine = || crud::scoped_find::<R::Device>(Some(tenant)).filter(R::Device::USER_ID.eq(user));
    let mut known = mine().filter(R::Device::DEVICE_DIGEST.eq(digest.clone())).one(db).await?;
    // A client that keeps no cookies (an app using the account API with tokens) would otherwise
    // be a new device at every sign-in: it is known by its user agent and IP instead, and the
    // device is bound to the cookie issued now, for a client that does keep it.
    if known.is_none() && cookieless {
        known = mine()
            .filter(R::Device::USER_AGENT.eq(origin.user_agent.clone()))
            .filter(R::Device::IP.eq(origin.ip.clone()))
            .one(db)
            .await?;
    }
    let (device_id, new_to_user) = match known {
        Some(device) => {
            let values = [
                R::Device::LAST_SEEN_AT.set(crate::now()),
                R::Device::USER_AGENT.set(origin.user_agent.clone()),
                R::Device::IP.set(origin.ip.clone()),
                R::Device::DEVICE_DIGEST.set(digest),
            ];
            crud::set(db, tenant, device.id(), values).await?;
            (device.id(), false)
        }
        None => {
            let had_devices = mine().one(db).await?.is_some();
            let id = Uuid::new_v4();
            let row = NewDevice {
                tenant_id: tenant,
                id,
                user_id: user,
                device_digest: digest,
                user_agent: origin.user_agent.clone(),
                ip: origin.ip.clone(),
            };
            crud::insert_new::<R::Device>(db, row).await?;
            if had_devices {
                let on_device = origin.clone().on_device(id);
                let data = json!({ "via": via });
                security_events::record::<R>(db, tenant, user, EventType::SignInNewDevice, &on_device, data).await?;
            }
            (id, had_devices)
        }
    };
    let mut cookie = crate::browser::tenant_cookie(ctx, COOKIE, raw, SameSite::Lax);
    cookie.set_max_age(actix_web::cookie::time::Duration::days(COOKIE_DAYS));
    Ok(SignedInFrom { device_id, new_to_user, cookie, origin: origin.on_device(device_id) })
}

impl SignedInFrom {
    /// After the sign-in committed: mails `account` about a new device, if this is one.
    pub fn alert(&self, ctx: &EndpointCtx<'_>, account: &impl Account) -> Result<(), ApiError> {
        if self.new_to_user {
            let when = crate::now().format("%Y-%m-%d %H:%M").to_string();
            let notice = notices::new_device(
                ctx.tenant_key()?,
                self.origin.user_agent.as_deref(),
                self.origin.ip.as_deref(),
                &when,
            );
            ctx.runtime().mailer().send(account.email(), &notice);
        }
        Ok(())
    }

    /// Sets the device cookie on `response`.
    pub fn set_cookie(&self, response: &mut HttpResponse) -> Result<(), ApiError> {
        response.add_cookie(&self.cookie).map_err(ApiError::internal)
    }
}

/// The JSON shape of a device: `{id, user_agent, ip, created_at, last_seen_at}`.
pub fn view(device: &impl Device) -> Value {
    json!({
        "id": device.id(),
        "user_agent": device.user_agent(),
        "ip": device.ip(),
        "created_at": device.created_at(),
        "last_seen_at": device.last_seen_at(),
    })
}

static MINE: ListSpec = ListSpec {
    filters: &[],
    sort: &[("last_seen_at", FieldKind::Timestamp), ("created_at", FieldKind::Timestamp)],
    page_size: 50,
    max_page_size: 200,
};

/// `GET /auth/me/devices`: the caller's devices, most recently seen first, paged like other
/// lists (`{items, next_cursor}`); 401 without a credential.
pub async fn list_mine<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::mine::list::<R, R::Device>(ctx, &MINE, view).await
}

/// Forgets `caller`'s device `id`, recording `device.forgotten`: its next sign-in is from a new
/// device (logged and mailed). 404 when it is not theirs.
pub async fn forget<R: Roles>(
    ctx: &EndpointCtx<'_>,
    caller: &crate::account::principal::Principal,
    id: Uuid,
) -> Result<(), ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let device = crud::find_optional::<R::Device>(rt.db(), Some(tenant), id).await?;
    if device.is_none_or(|device| device.user_id() != caller.user_id) {
        return Err(ApiError::not_found("device"));
    }
    let tx = rt.begin_write().await?;
    crud::delete_id::<R::Device>(&*tx, id).await?;
    let data = json!({ "device_id": id });
    security_events::record::<R>(&*tx, tenant, caller.user_id, EventType::DeviceForgotten, &Origin::of(ctx), data)
        .await?;
    tx.commit().await
}

/// `DELETE /auth/me/devices/{id}`: 204, the caller's device forgotten ([`forget`]); 404 for
/// another's.
pub async fn forget_mine<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = crate::account::principal::require::<R>(ctx).await?;
    let id = crate::http::id_param(ctx.request()).map_err(|_| ApiError::not_found("device"))?;
    forget::<R>(ctx, &caller, id).await?;
    Ok(crate::http::respond_empty(204))
}

/// The caller's devices, most recently seen first (at most `limit`), for the account page.
pub async fn of_user<R: Roles>(
    ctx: &EndpointCtx<'_>,
    user: Uuid,
    limit: u64,
) -> Result<Vec<<R::Device as sea_orm::EntityTrait>::Model>, ApiError> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(crud::scoped_find::<R::Device>(Some(ctx.tenant()?))
        .filter(R::Device::USER_ID.eq(user))
        .order_by_desc(R::Device::LAST_SEEN_AT.column())
        .limit(limit)
        .all(ctx.runtime().db())
        .await?)
}

/// The id of the device the request comes from (its `kg_device` cookie), if it is one of
/// `user`'s.
pub async fn current<R: Roles>(ctx: &EndpointCtx<'_>, user: Uuid) -> Result<Option<Uuid>, ApiError> {
    let Some(cookie) = ctx.request().cookie(COOKIE) else { return Ok(None) };
    let digest = crate::secret::digest(cookie.value());
    let device = crud::scoped_find::<R::Device>(Some(ctx.tenant()?))
        .filter(R::Device::USER_ID.eq(user))
        .filter(R::Device::DEVICE_DIGEST.eq(digest))
        .one(ctx.runtime().db())
        .await?;
    Ok(device.map(|device| device.id()))
}
