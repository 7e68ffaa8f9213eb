//! The hand-written half of Keygate: everything generated code calls.
//!
//! Generated handlers (crate `keygate-api`) stay straight-line; the decisions live here:
//! storage ([`db`], [`migrate`], [`crud`], [`list`]), the HTTP edge ([`http`], [`error`],
//! [`auth`], [`authorization`]), and the hooks `schema.yaml` names ([`hooks`], with [`hook`] defining what they get).

#![deny(missing_docs)]

pub mod access;
pub mod account;
pub mod admin_credential;
pub mod authorization;
pub mod browser;
pub mod chain;
pub mod check;
pub mod checkpoint;
pub mod column;
pub mod cors;
pub mod crud;
pub mod db;
pub mod devices;
pub mod endpoint_context;
pub mod endpoints;
pub mod error;
pub mod family;
pub mod forwarded;
pub mod hook_context;
pub mod hooks;
pub mod http;
pub mod invalidation;
pub mod jose;
pub mod keyed;
pub mod keys;
pub mod list;
pub mod mail;
pub mod maintenance;
pub mod mfa;
pub mod migrate;
pub mod oauth;
pub mod oidc;
pub mod password;
pub mod roles;
pub mod row_cache;
pub mod secret;
pub mod security_events;
pub mod serde_helpers;
pub mod sql_cache;
mod state;
pub mod string_list;
pub mod tenancy;
pub mod ttl_map;
pub mod unique_across;
pub mod uri;
pub mod vocab;
pub mod wire_enum;
mod writer;

pub use error::ApiError;

/// What [`wire_enum!`] expands to names, so the crates it is used in need no dependency of their
/// own on these.
#[doc(hidden)]
pub mod __private {
    pub use {sea_orm, serde};
}
pub use family::ErrorFamily;
pub use state::{CommitStats, Runtime, RuntimeConfig, WriteTurn, WriteTx};

/// The current time at microsecond precision, the finest both SQLite and PostgreSQL keep, so a
/// value reads back exactly as it was written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Includes the files `keygate_codegen::build::run` wrote into the calling crate's `OUT_DIR`:
/// modules `entities`, `dto` and `routes`, the constants `OPENAPI` and `SCHEMA`, and `migrate`.
#[macro_export]
macro_rules! include_generated {
    () => {
        /// sea-orm entities, one module per schema entity, and `migrate`.
        pub mod entities {
            include!(concat!(env!("OUT_DIR"), "/entities.rs"));
        }

        /// Request bodies and response views.
        pub mod dto {
            include!(concat!(env!("OUT_DIR"), "/dto.rs"));
        }

        /// actix-web handlers and `configure`.
        pub mod routes {
            include!(concat!(env!("OUT_DIR"), "/routes.rs"));
        }

        /// The OpenAPI 3.1 document of every generated route.
        pub const OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

        /// The compiled schema (resolved entities, fields, ops and routes) as JSON.
        pub const SCHEMA: &str = include_str!(concat!(env!("OUT_DIR"), "/schema.json"));

        pub use entities::migrate;
    };
}
