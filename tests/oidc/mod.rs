//! Shared pieces of the OpenID Connect end-to-end tests.

#![allow(dead_code)]

pub mod browser;
pub mod http_client;
