//! The first-party account API (issue 4): what an application calls when Keygate is its own
//! login backend. JSON under `{issuer}/auth/`: register, login, refresh, logout, me, password, sessions.
//!
//! Sign-in reuses the OAuth machinery: a login is a grant of the tenant's *first-party client*
//! (created on first use), so its tokens are the same RS256/ES256/EdDSA JWTs as the OAuth side,
//! verifiable with the tenant's JWKS, rotated and revoked the same way.

pub mod api;
pub mod credentials;
pub mod grants;
pub mod links;
pub mod mine;
pub mod normalize;
pub mod password_change;
pub mod principal;
pub mod reauth;
pub mod recovery;
mod shared_throttle;
pub mod sign_ins;
pub mod throttle;
pub mod user_roles;
pub mod verify;
