//! JOSE: signing keys (RFC 7517/7518, EdDSA per RFC 8037), JWK thumbprints (RFC 7638) used as
//! `kid`, compact JWS/JWT (RFC 7515/7519), the time claims of JWTs signed by others (with one
//! clock-skew allowance), and encryption of private keys at rest.
//!
//! Key generation, signing, verification and sealing use `aws-lc-rs` (ring's API over AWS-LC,
//! whose RSA runs at OpenSSL's speed: about 1.7× ring's RSA-2048 signing rate). Keys are stored
//! as PKCS#8 DER exactly as before the switch from ring (see `compat`). Keys are parsed once into
//! `SigningKey` values and reused for every token.

#[cfg(test)]
mod compat;
mod jwk;
mod jwt;
mod key;
mod seal;
mod time;

pub use jwk::{Jwk, Jwks};
pub use jwt::{JwtError, decode_header, sign_jwt, unverified_claims, verify_client_jwt, verify_jwt};
pub use key::{Algorithm, KeyError, SigningKey};
pub use seal::{MasterKey, SealError};
pub use time::{CLOCK_SKEW, TimeClaimError, TimeClaims};
