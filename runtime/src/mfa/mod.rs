//! Second factors (issue 12): TOTP factors ([`totp`], [`factors`]), passkeys ([`passkey`],
//! their WebAuthn ceremonies [`ceremony`] and endpoints [`passkey_api`]), recovery codes
//! ([`recovery`]), the sign-in challenge that asks for one ([`challenge`]), the policy that
//! decides when ([`crate::vocab::MfaPolicy`]), how tokens say what was used ([`amr`]), and the
//! account and admin API handlers ([`api`]) over what a user does with their own factors
//! ([`manage`], shared with the account page).
//!
//! Factors are rows of one entity with a `kind` (`mfa_factor`: `totp` or `passkey`), so
//! listing, deleting, policy and challenges treat every kind alike.

pub mod amr;
pub mod answer;
pub mod api;
pub mod ceremony;
pub mod challenge;
pub mod factors;
pub mod manage;
pub mod passkey;
pub mod passkey_api;
pub mod recovery;
pub mod throttle;
pub mod totp;
