//! How a user authenticated, as tokens say it: `amr` (OIDC Core §2, values from RFC 8176 §2)
//! and `acr` (OIDC Core §2), the level the methods meet. Grants, codes and refresh tokens store
//! `amr`; `acr` is derived from it when a token is signed, so the two never disagree.

use crate::string_list::StringList;

/// RFC 8176 §2 `pwd`: a password.
pub const PWD: &str = "pwd";
/// RFC 8176 §2 `otp`: a one-time password (a TOTP code, or a single-use recovery code).
pub const OTP: &str = "otp";
/// RFC 8176 §2 `hwk`: proof of possession of a hardware-secured key (a device-bound passkey).
pub const HWK: &str = "hwk";
/// RFC 8176 §2 `swk`: proof of possession of a software-secured key (a synced passkey).
pub const SWK: &str = "swk";
/// RFC 8176 §2 `mfa`: more than one factor.
pub const MFA: &str = "mfa";

/// How [`describe`] names a passkey (`hwk` or `swk`).
const PASSKEY_WORDS: &str = "passkey";

/// `acr` of a sign-in with one factor (a password).
pub const ACR_ONE_FACTOR: &str = "urn:keygate:loa:1fa";
/// `acr` of a sign-in with a second factor.
pub const ACR_TWO_FACTOR: &str = "urn:keygate:loa:2fa";
/// What discovery advertises as `acr_values_supported` (OIDC Discovery §3), weakest first.
pub const ACR_VALUES_SUPPORTED: [&str; 2] = [ACR_ONE_FACTOR, ACR_TWO_FACTOR];

/// The methods of a sign-in with a password alone.
pub fn password() -> Vec<String> {
    vec![PWD.to_owned()]
}

/// The methods of a sign-in with a password and a one-time code (TOTP or recovery code).
pub fn password_and_otp() -> Vec<String> {
    vec![PWD.to_owned(), OTP.to_owned(), MFA.to_owned()]
}

/// The methods of a sign-in with a password and a passkey (`method`: [`HWK`] or [`SWK`]).
pub fn password_and_passkey(method: &str) -> Vec<String> {
    vec![PWD.to_owned(), method.to_owned(), MFA.to_owned()]
}

/// The methods of a passwordless sign-in with a passkey: the key (`method`), and `mfa`, since
/// webauthn-rs requires user verification (the authenticator's PIN or biometrics, WebAuthn
/// §6.2.3) besides possession, so two factors were used.
pub fn passkey(method: &str) -> Vec<String> {
    vec![method.to_owned(), MFA.to_owned()]
}

/// The methods a stored `amr` column names; `None` (rows from before MFA, or the sign-in page,
/// which asks for a password only) is a password alone.
pub fn methods(stored: Option<&StringList>) -> Vec<String> {
    match stored {
        Some(list) if !list.0.is_empty() => list.0.clone(),
        _ => password(),
    }
}

/// The `acr` that `amr` meets: two factors when it says `mfa`, one otherwise.
pub fn acr(amr: &[String]) -> &'static str {
    if amr.iter().any(|method| method == MFA) { ACR_TWO_FACTOR } else { ACR_ONE_FACTOR }
}

/// `amr` in words for a person (the account page): `password and one-time code`.
pub fn describe(amr: &[String]) -> String {
    let word = |method: &str| match method {
        PWD => Some("password"),
        OTP => Some("one-time code"),
        HWK | SWK => Some(PASSKEY_WORDS),
        _ => None,
    };
    let words: Vec<&str> = amr.iter().filter_map(|method| word(method)).collect();
    if words.is_empty() { "unknown".to_owned() } else { words.join(" and ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_follows_amr_and_old_rows_mean_a_password() {
        assert_eq!(methods(None), ["pwd"]);
        assert_eq!(acr(&methods(None)), ACR_ONE_FACTOR);
        assert_eq!(acr(&password_and_otp()), ACR_TWO_FACTOR);
    }

    #[test]
    fn methods_read_as_words() {
        assert_eq!(describe(&password_and_otp()), "password and one-time code");
        assert_eq!(describe(&passkey(SWK)), "passkey");
    }
}
