//! The per-user security event log: what changed or tested an account's security, recorded in
//! the same write transaction as the change itself (so an event exists exactly when its change
//! committed), read by the user (`GET /auth/me/security-events`) and by admins
//! (`GET /admin/tenants/{tenant}/security_events?user_id=`).
//!
//! Each event has a stable `type` name ([`EventType`]) and one JSON shape ([`view`]):
//! `{id, type, occurred_at, user_id, ip, user_agent, device_id, data}`, with `data` an object
//! whose members depend on the type. Webhooks and the audit log will publish the same shape.

use actix_web::HttpResponse;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::list::{FieldKind, ListSpec};
use crate::roles::{NewSecurityEvent, Roles, SecurityEvent};

/// Longest `user_agent` kept, in characters (the column's `max_length`).
pub const MAX_USER_AGENT: usize = 512;

macro_rules! event_types {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal,)*) => {
        /// The kinds of security event, by their stable wire names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($(#[$doc])* $variant,)*
        }

        impl EventType {
            /// Every wire name, in catalogue order.
            pub const NAMES: &'static [&'static str] = &[$($wire,)*];

            /// The stable wire name, e.g. `password.changed`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $wire,)*
                }
            }

            /// The type a wire name names.
            pub fn from_wire(name: &str) -> Option<Self> {
                match name {
                    $($wire => Some(EventType::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    /// The user changed their password (`data: {}`).
    PasswordChanged = "password.changed",
    /// The password was set through an emailed reset link (`data: {}`).
    PasswordReset = "password.reset",
    /// The email address changed (`data: {"by": "user" | "admin"}`; the old address is told).
    EmailChanged = "email.changed",
    /// The user followed a verification link (`data: {}`).
    EmailVerified = "email.verified",
    /// A sign-in from a device not seen before (`data: {"via": "account_api" | "browser"}`).
    SignInNewDevice = "sign_in.new_device",
    /// Failed sign-ins locked the account for a while (`data: {"retry_after": seconds}`).
    SignInLockedOut = "sign_in.locked_out",
    /// A second factor was enrolled (`data: {"factor": kind, ...}`).
    FactorAdded = "factor.added",
    /// A second factor was removed (`data: {"factor": kind, ...}`).
    FactorRemoved = "factor.removed",
    /// A passkey's signature counter did not advance, so the sign-in was refused (WebAuthn
    /// §6.1.1; `data: {"factor_id", "kind": "passkey", "sign_count", "stored_sign_count"}`).
    PasskeyCloneSuspected = "passkey.clone_suspected",
    /// An admin reset the user's factors (`data: {}`).
    FactorsReset = "factors.reset",
    /// A recovery code was used (`data: {"remaining": n}`).
    RecoveryCodeUsed = "recovery_code.used",
    /// The recovery codes were replaced (`data: {"count": n}`).
    RecoveryCodesRegenerated = "recovery_codes.regenerated",
    /// The user ended sign-ins (`data: {"ended": n, "others": bool}`; `others`: every one but
    /// the sign-in they used).
    SignInsEnded = "sign_ins.ended",
    /// The user forgot a known device; its next sign-in is from a new device (`data:
    /// {"device_id"}`).
    DeviceForgotten = "device.forgotten",
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the request that caused an event came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// Client IP ([`crate::forwarded`] rules), if known.
    pub ip: Option<String>,
    /// `User-Agent`, cut to [`MAX_USER_AGENT`] characters.
    pub user_agent: Option<String>,
    /// The known device the request came from.
    pub device_id: Option<Uuid>,
}

impl Origin {
    /// The client IP and user agent of the request `ctx` serves (no device).
    pub fn of(ctx: &EndpointCtx<'_>) -> Self {
        Self::of_request(ctx.request(), &ctx.runtime().config().trusted_proxies)
    }

    /// The client IP of `req` (its peer, or what a proxy among `trusted` forwarded; see
    /// [`crate::forwarded`]) and its user agent (control characters dropped), no device.
    pub fn of_request(req: &actix_web::HttpRequest, trusted: &[std::net::IpAddr]) -> Self {
        let ip = crate::forwarded::client_ip(req, trusted).map(|ip| ip.to_string());
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT).collect::<String>())
            .filter(|agent| !agent.is_empty());
        Self { ip, user_agent, device_id: None }
    }

    /// The same origin, from the known device `device`.
    pub fn on_device(mut self, device: Uuid) -> Self {
        self.device_id = Some(device);
        self
    }
}

/// Records `event` for `user_id` in `tenant` on `db` (the caller's write transaction, so the
/// event commits or rolls back with the change it reports); `data` is the type's detail object.
/// Returns the event's id. Errors: a database failure (503 when unreachable).
pub async fn record<R: Roles>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    user_id: Uuid,
    event: EventType,
    origin: &Origin,
    data: Value,
) -> Result<Uuid, ApiError> {
    let id = Uuid::new_v4();
    let row = NewSecurityEvent {
        tenant_id: tenant,
        id,
        user_id,
        r#type: event.as_str().to_owned(),
        occurred_at: crate::now(),
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        device_id: origin.device_id,
        data,
    };
    crate::crud::insert_new::<R::SecurityEvent>(db, row).await?;
    Ok(id)
}

/// The public JSON shape of an event: `{id, type, occurred_at (RFC 3339), user_id, ip,
/// user_agent, device_id, data}`.
pub fn view(event: &impl SecurityEvent) -> Value {
    json!({
        "id": event.id(),
        "type": event.r#type(),
        "occurred_at": event.occurred_at(),
        "user_id": event.user_id(),
        "ip": event.ip(),
        "user_agent": event.user_agent(),
        "device_id": event.device_id(),
        "data": event.data(),
    })
}

static MINE: ListSpec = ListSpec {
    filters: &[("type", FieldKind::Enum(EventType::NAMES))],
    sort: &[("occurred_at", FieldKind::Timestamp)],
    page_size: 50,
    max_page_size: 200,
};

/// `GET /auth/me/security-events`: the caller's events, newest first unless `sort=occurred_at`
/// asks otherwise; `?type=`, `?limit=` (1 to 200, default 50) and `?cursor=` as in admin lists.
/// Answers `{items: [event], next_cursor}`; 401 without a credential, 400 for a bad query.
pub async fn list_mine<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::mine::list::<R, R::SecurityEvent>(ctx, &MINE, view).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_are_unique() {
        for name in EventType::NAMES {
            assert_eq!(EventType::from_wire(name).map(EventType::as_str), Some(*name));
        }
        let mut sorted = EventType::NAMES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), EventType::NAMES.len());
        assert_eq!(EventType::from_wire("password.Changed"), None);
    }
}
