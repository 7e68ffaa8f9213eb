//! CSRF protection for the sign-in forms: a double-submit token. The page sets a random value in
//! an HttpOnly, SameSite=Strict cookie and repeats it in a hidden field; a post is accepted only
//! when both arrive and match. Another site can neither read the cookie nor make the browser
//! send it with a cross-site post.

use actix_web::cookie::{Cookie, SameSite};
use subtle::ConstantTimeEq;

use super::tenant_cookie;
use crate::endpoint_context::EndpointCtx;
use crate::secret;

const COOKIE: &str = "kg_csrf";

/// What a person is told when a form fails the check (a 403 page).
pub const EXPIRED: &str =
    "This form has expired or was not sent from this site. Go back to the application and start again.";

/// The token to put in a form, and the cookie to set when the browser has none yet.
pub fn token(ctx: &EndpointCtx<'_>) -> (String, Option<Cookie<'static>>) {
    match ctx.request().cookie(COOKIE) {
        Some(cookie) if cookie.value().len() >= 43 => (cookie.value().to_owned(), None),
        _ => {
            let value = secret::random_token("", 32);
            let cookie = tenant_cookie(ctx, COOKIE, value.clone(), SameSite::Strict);
            (value, Some(cookie))
        }
    }
}

/// Whether the posted token matches the cookie (compared in constant time).
pub fn verify(ctx: &EndpointCtx<'_>, posted: Option<&str>) -> bool {
    match (ctx.request().cookie(COOKIE), posted) {
        (Some(cookie), Some(posted)) if !posted.is_empty() => cookie.value().as_bytes().ct_eq(posted.as_bytes()).into(),
        _ => false,
    }
}
