//! The generator's golden outputs, compiled: one module per valid fixture
//! (`codegen/tests/fixtures/ok/*.yaml`), holding the `entities`, `dto` and `routes` it generates.
//!
//! The snapshots in `codegen/tests/snapshots/` show what the generator writes; this crate proves
//! it is Rust that compiles against `keygate-runtime` without a single warning, so an emitter
//! change that leaves an unused variable, a needless `mut` or a type error fails
//! `cargo test --workspace` (and clippy) here, not in the next service built with it. Nothing
//! here is run; compiling is the test.

#![deny(warnings)]
#![allow(missing_docs)]

/// The hooks and handlers the fixture schemas name, as the generator reads them.
#[path = "../../tests/fixtures/hooks.rs"]
pub mod hooks;

include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
