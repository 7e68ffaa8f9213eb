//! What a hook receives: its context and typed handles on the fields it is bound to.
//!
//! Hooks are `pub async fn`s in [`crate::hooks`]; the generator reads their signatures. The first
//! parameter says when a hook runs ([`PreCtx`]: before the write, [`PostCtx`]: after it, both
//! inside the op's transaction). Every other parameter is bound by name to a field of the entity:
//! [`Input`] (a virtual input), [`Column`] (a stored column) or [`Output`] (a virtual output).

use std::collections::HashMap;

use sea_orm::{ActiveValue, DatabaseTransaction};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::{Runtime, RuntimeConfig};

/// Values a pre hook leaves for a post hook of the same op (e.g. a raw key to return once).
#[derive(Default)]
struct Stash(HashMap<&'static str, String>);

/// Context of a hook that runs before the row is written.
pub struct PreCtx<'a> {
    rt: &'a Runtime,
    tx: &'a DatabaseTransaction,
    tenant: Option<Uuid>,
    op: &'static str,
    stash: Stash,
}

/// Context of a hook that runs after the row is written (still inside the transaction).
pub struct PostCtx<'a> {
    rt: &'a Runtime,
    tx: &'a DatabaseTransaction,
    tenant: Option<Uuid>,
    op: &'static str,
    stash: Stash,
}

impl<'a> PreCtx<'a> {
    /// Context for op `op` (e.g. `user.create`) in `tenant`.
    pub fn new(rt: &'a Runtime, tx: &'a DatabaseTransaction, tenant: Option<Uuid>, op: &'static str) -> Self {
        Self { rt, tx, tenant, op, stash: Stash::default() }
    }

    /// The same op, after the write.
    pub fn into_post(self) -> PostCtx<'a> {
        PostCtx { rt: self.rt, tx: self.tx, tenant: self.tenant, op: self.op, stash: self.stash }
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
                self.tx
            }
            /// The tenant the request is scoped to, for tenant-scoped entities.
            pub fn tenant(&self) -> Option<Uuid> {
                self.tenant
            }
            /// The op, as `entity.op`.
            pub fn op(&self) -> &'static str {
                self.op
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
    /// The hook could not do its work (500; the cause is logged).
    #[error("hook failed: {0}")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl HookError {
    /// A 422 naming `field`.
    pub fn invalid(field: &'static str, detail: impl Into<String>) -> Self {
        HookError::Invalid { field, detail: detail.into() }
    }
}

impl From<HookError> for ApiError {
    fn from(error: HookError) -> Self {
        match error {
            HookError::Invalid { field, detail } => ApiError::invalid_field(field, detail),
            HookError::Failed(source) => ApiError::internal(source),
        }
    }
}
