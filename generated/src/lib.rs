//! Keygate's HTTP API, generated at build time from `schema.yaml` by `keygate-codegen`.
//!
//! Nothing here is written by hand but this line-up of includes. To read the generated code, open
//! the snapshots in `generated/tests/snapshots/` (kept in step by `cargo test`), or jump to a
//! definition from your editor.

#![allow(missing_docs)]

keygate_runtime::include_generated!();
