//! What a hook receives: its context and typed handles on the fields it is bound to.
//!
//! Hooks are `pub async fn`s in [`crate::hooks`]; the generator reads their signatures. The first
//! parameter says when a hook runs ([`PrepareCtx`]: before the op's write transaction opens, so
//! CPU-bound work such as bcrypt does not hold the write gate; [`PreCtx`]: before the write and
//! [`PostCtx`]: after it, both inside the transaction). Every other parameter is bound by name to
//! a field of the entity: [`Input`] (a virtual input), [`Column`] (a stored column) or [`Output`]
//! (a virtual output).

use std::collections::HashMap;

use actix_web::HttpRequest;
use sea_orm::{ActiveValue, DatabaseTransaction};
use uuid::Uuid;

use crate::access::Caller;
use crate::error::ApiError;
use crate::state::{Runtime, RuntimeConfig, WriteTx};

/// Values a pre hook leaves for a post hook of the same op (e.g. a raw key to return once).
#[derive(Default)]
struct Stash(HashMap<&'static str, String>);

/// Context of a hook that runs before the op's write transaction opens (after the caller is
/// admitted and the body parsed). It has no database handle: a prepare hook does work that needs
/// none, such as hashing, and its [`Column`]s start unset (the row is built, or loaded, only in
/// the transaction); what it sets is applied to the row before the pre hooks run.
pub struct PrepareCtx<'a> {
    rt: &'a Runtime,
    tenant: Option<Uuid>,
    op: &'static str,
    caller: Caller,
}

impl<'a> PrepareCtx<'a> {
    /// Context for op `op` (e.g. `user.create`) in `tenant`, called by `caller`.
    pub fn new(rt: &'a Runtime, tenant: Option<Uuid>, op: &'static str, caller: Caller) -> Self {
        Self { rt, tenant, op, caller }
    }

    /// Service configuration.
    pub fn config(&self) -> &RuntimeConfig {
        self.rt.config()
    }

    /// The tenant the request is scoped to, for tenant-scoped entities.
    pub fn tenant(&self) -> Option<Uuid> {
        self.tenant
    }

    /// The op, as `entity.op`.
    pub fn op(&self) -> &'static str {
        self.op
    }

    /// Who called the op (already admitted by its access rule).
    pub fn caller(&self) -> &Caller {
        &self.caller
    }
}

/// Context of a hook that runs before the row is written, inside the transaction.
pub struct PreCtx<'a> {
    rt: &'a Runtime,
    req: &'a HttpRequest,
    tx: &'a WriteTx,
    tenant: Option<Uuid>,
    op: &'static str,
    caller: Caller,
    row: Option<sea_orm::Value>,
    stash: Stash,
}

/// Context of a hook that runs after the row is written (still inside the transaction).
pub struct PostCtx<'a> {
    rt: &'a Runtime,
    req: &'a HttpRequest,
    tx: &'a WriteTx,
    tenant: Option<Uuid>,
    op: &'static str,
    caller: Caller,
    row: Option<sea_orm::Value>,
    stash: Stash,
}

impl<'a> PreCtx<'a> {
    /// Context for op `op` (e.g. `user.create`) in `tenant`, called by `caller` with `req`; `row`
    /// is the primary key of the stored row an update or delete acts on (`None` on create).
    pub fn new(
        rt: &'a Runtime,
        req: &'a HttpRequest,
        tx: &'a WriteTx,
        tenant: Option<Uuid>,
        op: &'static str,
        caller: Caller,
        row: Option<sea_orm::Value>,
    ) -> Self {
        Self { rt, req, tx, tenant, op, caller, row, stash: Stash::default() }
    }

    /// The same op, after the write.
    pub fn into_post(self) -> PostCtx<'a> {
        let Self { rt, req, tx, tenant, op, caller, row, stash } = self;
        PostCtx { rt, req, tx, tenant, op, caller, row, stash }
    }

    /// Leaves `value` for a post hook under `key`.
    pub fn stash(&mut self, key: &'static str, value: String) {
        self.stash.0.insert(key, value);
    }
}

impl PostCtx<'_> {
    /// Takes what a pre hook stashed under `key`.
    pub fn take_stashed(&mut self, key: &'static str) -> Option<String> {
        self.stash.0.remove(key)
    }
}

macro_rules! common_accessors {
    ($ty:ident) => {
        impl<'a> $ty<'a> {
            /// Service configuration.
            pub fn config(&self) -> &RuntimeConfig {
                self.rt.config()
            }
            /// The op's transaction.
            pub fn tx(&self) -> &'a DatabaseTransaction {
                std::ops::Deref::deref(self.tx)
            }
            /// Runs `work` once the op's transaction committed (never if it rolls back).
            pub fn after_commit(&self, work: impl FnOnce() + Send + 'static) {
                self.tx.after_commit(work);
            }
            /// Outgoing mail.
            pub fn mailer(&self) -> &crate::mail::Mailer {
                self.rt.mailer()
            }
            /// The tenant the request is scoped to, for tenant-scoped entities.
            pub fn tenant(&self) -> Option<Uuid> {
                self.tenant
            }
            /// The op, as `entity.op`.
            pub fn op(&self) -> &'static str {
                self.op
            }
            /// Who called the op (already admitted by its access rule).
            pub fn caller(&self) -> &Caller {
                &self.caller
            }
            /// The primary key of the stored row an update or delete acts on; `None` on create.
            pub fn row(&self) -> Option<&sea_orm::Value> {
                self.row.as_ref()
            }
            /// Where the request came from (client IP under the `trusted_proxies` rules, user
            /// agent), for the security events a hook records.
            pub fn origin(&self) -> crate::security_events::Origin {
                crate::security_events::Origin::of_request(self.req, &self.rt.config().trusted_proxies)
            }
        }
    };
}
common_accessors!(PreCtx);
common_accessors!(PostCtx);

/// The value of a virtual input field; `None` when an update body leaves it out.
pub struct Input<T>(Option<T>);

impl<T> Input<T> {
    /// Wraps a required (`T`) or optional (`Option<T>`) body field.
    pub fn new(value: impl Into<Option<T>>) -> Self {
        Self(value.into())
    }

    /// The value, if the request carried one.
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

/// A stored column of the row being written.
pub struct Column<'a, T: Into<sea_orm::Value>>(&'a mut ActiveValue<T>);

impl<'a, T: Into<sea_orm::Value>> Column<'a, T> {
    /// Binds the column.
    pub fn new(value: &'a mut ActiveValue<T>) -> Self {
        Self(value)
    }

    /// Sets the value to write.
    pub fn set(self, value: T) {
        *self.0 = ActiveValue::Set(value);
    }

    /// Whether the value is being written (given in the body or set by a hook), not only loaded.
    pub fn is_set(&self) -> bool {
        matches!(self.0, ActiveValue::Set(_))
    }

    /// The current value (the stored one on updates), if known.
    pub fn get(&self) -> Option<&T> {
        match &*self.0 {
            ActiveValue::Set(v) | ActiveValue::Unchanged(v) => Some(v),
            ActiveValue::NotSet => None,
        }
    }
}

/// A virtual output field of the response.
pub struct Output<'a, T>(&'a mut Option<T>);

impl<'a, T> Output<'a, T> {
    /// Binds the field.
    pub fn new(value: &'a mut Option<T>) -> Self {
        Self(value)
    }

    /// Puts `value` in the response.
    pub fn set(self, value: T) {
        *self.0 = Some(value);
    }
}

/// What a hook returns.
pub type HookResult = Result<(), HookError>;

/// Why a hook refused or failed; aborts the op and rolls its transaction back.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// A field's value is unacceptable (422).
    #[error("`{field}`: {detail}")]
    Invalid {
        /// JSON name of the field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The caller may not do this, though the op's access rule admits them (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A lookup the hook made failed as the API reports it (e.g. a 503 when the database is
    /// unavailable).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The hook could not do its work (500; the cause is logged).
    #[error("hook failed: {0}")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl HookError {
    /// A 422 naming `field`.
    pub fn invalid(field: &'static str, detail: impl Into<String>) -> Self {
        HookError::Invalid { field, detail: detail.into() }
    }

    /// A 403 saying why.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        HookError::Forbidden(detail.into())
    }
}

impl From<HookError> for ApiError {
    fn from(error: HookError) -> Self {
        match error {
            HookError::Invalid { field, detail } => ApiError::invalid_field(field, detail),
            HookError::Forbidden(detail) => ApiError::forbidden(detail),
            HookError::Api(error) => error,
            HookError::Failed(source) => ApiError::internal(source),
        }
    }
}
