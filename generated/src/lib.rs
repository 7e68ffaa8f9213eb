//! Keygate's HTTP API, generated at build time from `schema.yaml` by `keygate-codegen`.
//!
//! Nothing here is written by hand except this file. To read the generated code, open the
//! snapshots in `generated/tests/snapshots/` (kept in step by `cargo test`), or jump to a
//! definition from your editor.

#![allow(missing_docs)]

/// sea-orm entities, one module per schema entity.
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
