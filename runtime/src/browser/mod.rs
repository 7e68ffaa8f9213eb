//! The pages a person sees during sign-in (and the account page): HTML rendering, the session
//! cookie and CSRF tokens.
//! Protocol decisions stay in [`crate::oauth`]; this module only talks to the browser.

pub mod account;
pub mod account_forms;
pub mod csrf;
pub mod login;
pub mod mfa;
pub mod pages;
pub mod passkey;
pub mod session;

use actix_web::cookie::{Cookie, SameSite};

use crate::endpoint_context::EndpointCtx;

/// A cookie scoped to the tenant's issuer path, so tenants never see each other's cookies:
/// HttpOnly, SameSite as given, and `Secure` whenever the public URL is https.
pub(crate) fn tenant_cookie(
    ctx: &EndpointCtx<'_>,
    name: &'static str,
    value: String,
    same_site: SameSite,
) -> Cookie<'static> {
    let tenant = ctx.tenant_key().unwrap_or_default();
    let mut cookie = Cookie::new(name, value);
    cookie.set_path(format!("/{tenant}"));
    cookie.set_http_only(true);
    cookie.set_same_site(same_site);
    cookie.set_secure(ctx.runtime().config().public_url.starts_with("https://"));
    cookie
}
