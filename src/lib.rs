//! The `keygate` service: configuration and wiring around the generated API.
//!
//! `main.rs` is the CLI; integration tests use [`server::prepare`] and [`server::app`] to run the
//! same application in process.

pub mod config;
pub mod server;
pub mod shutdown;
