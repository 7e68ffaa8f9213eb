//! Second factors (issue 12): TOTP factors ([`totp`], [`factors`]), recovery codes
//! ([`recovery`]), the sign-in challenge that asks for one ([`challenge`]), the policy that
//! decides when ([`crate::vocab::MfaPolicy`]), how tokens say what was used ([`amr`]), and the
//! account and admin API handlers ([`api`]).
//!
//! Factors are rows of one entity with a `kind` (`mfa_factor`); a passkey will be another kind
//! beside `totp`, so listing, deleting, policy and challenges do not change when it comes.

pub mod amr;
pub mod answer;
pub mod api;
pub mod challenge;
pub mod factors;
pub mod recovery;
pub mod throttle;
pub mod totp;
