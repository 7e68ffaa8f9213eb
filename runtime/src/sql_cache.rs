//! The SQL text of hot statements, kept once built: a statement whose text depends only on its
//! shape (which entity, which columns, which backend), not on its values, is built by sea-query
//! the first time and bound to new values after that.
//!
//! Building a statement with sea-query allocates every column's name, the conditions'
//! expression trees and the SQL text anew on each call; for a refresh-token rotation that was
//! about a tenth of the instructions spent outside signing (`docs/benchmarks.md`). Used by
//! [`crate::keyed`] (reads by a key) and [`crate::chain::Chain::cached`] (a rotation's write).

use std::any::TypeId;
use std::collections::HashMap;
use std::hash::Hash;
use std::mem::Discriminant;
use std::sync::{OnceLock, RwLock};

use sea_orm::DbBackend;

/// What a statement's SQL text depends on: a type naming whose statement it is (an entity, or a
/// schema's roles), a name for the statement, the backend (quoting and placeholders differ) and
/// a variant (e.g. which columns an insert sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    owner: TypeId,
    name: &'static str,
    backend: Discriminant<DbBackend>,
    variant: u64,
}

impl Shape {
    /// The shape `name` of `T`'s statements on `backend`, in `variant`.
    pub fn new<T: 'static>(name: &'static str, backend: DbBackend, variant: u64) -> Self {
        Self { owner: TypeId::of::<T>(), name, backend: std::mem::discriminant(&backend), variant }
    }
}

/// Values kept per [`Shape`], for the life of the process (the set of shapes is fixed by the
/// code and the schema, so it stays small).
pub struct Memo<V>(OnceLock<RwLock<HashMap<Shape, V>>>);

impl<V> Memo<V> {
    /// An empty memo, for a `static`.
    pub const fn new() -> Self {
        Self(OnceLock::new())
    }

    fn map(&self) -> &RwLock<HashMap<Shape, V>> {
        self.0.get_or_init(Default::default)
    }

    /// `read` applied to what is kept for `shape`, if anything is.
    pub fn with<R>(&self, shape: &Shape, read: impl FnOnce(&V) -> R) -> Option<R> {
        self.map().read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(shape).map(read)
    }

    /// Keeps `value` for `shape`.
    pub fn keep(&self, shape: Shape, value: V) {
        self.map().write().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(shape, value);
    }

    /// Whether anything is kept for `shape`.
    pub fn holds(&self, shape: &Shape) -> bool {
        self.with(shape, |_| ()).is_some()
    }
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Self::new()
    }
}
