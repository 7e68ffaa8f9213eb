//! The hand-written half of Keygate: everything generated code calls.
//!
//! Generated handlers (crate `keygate-api`) stay straight-line; the decisions live here:
//! storage ([`db`], [`migrate`], [`crud`], [`list`]), the HTTP edge ([`http`], [`error`],
//! [`auth`]), and the hooks `schema.yaml` names ([`hooks`], with [`hook`] defining what they get).

#![deny(missing_docs)]

pub mod auth;
pub mod check;
pub mod crud;
pub mod db;
pub mod dto;
pub mod error;
pub mod hook;
pub mod hooks;
pub mod http;
pub mod list;
pub mod migrate;
pub mod password;
pub mod secret;
mod state;
pub mod types;

pub use error::ApiError;
pub use state::{Runtime, RuntimeConfig, WriteTx};

/// The current time at microsecond precision, the finest both SQLite and PostgreSQL keep, so a
/// value reads back exactly as it was written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
