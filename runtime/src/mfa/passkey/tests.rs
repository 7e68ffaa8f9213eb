//! The relying party Keygate derives from its public URL, checked against answers captured from
//! real authenticators (webauthn-rs's test vectors, [`super::vectors`]): registrations verify as
//! Keygate verifies them (user verification required, the public URL's origin and RP ID, any
//! attestation format), and answers for another origin, another challenge, altered in transit,
//! or without user verification are refused. The end-to-end flows (a software authenticator over
//! HTTP, a virtual one in Chromium) are in `tests/passkeys.rs` and `tests/passkeys_browser.rs`.

use serde_json::{Value, json};
use webauthn_rs::prelude::{
    AttestationFormat, Credential, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, SecurityKey, SecurityKeyAuthentication, Uuid, Webauthn, WebauthnError,
};

use super::vectors::{EDGE_TOUCHID, PIXEL_NONE, U2F_UNVERIFIED, YUBIKEY_ASSERTION, YUBIKEY_CREDENTIAL, YUBIKEY_PACKED};
use super::{credential_id, method, relying_party_at, verify_registration};

fn rp(public_url: &str) -> Webauthn {
    relying_party_at(public_url, "acme").expect("a relying party")
}

/// `state` (webauthn-rs's, as a ceremony row stores it) with its random challenge replaced by
/// `challenge` (base64url), the one the vector's authenticator answered.
fn with_challenge<S: serde::Serialize + serde::de::DeserializeOwned>(state: &S, ceremony: &str, challenge: &str) -> S {
    let mut json = serde_json::to_value(state).unwrap();
    assert!(json[ceremony]["challenge"].is_string(), "webauthn-rs's state keeps the challenge: {json}");
    json[ceremony]["challenge"] = json!(challenge);
    serde_json::from_value(json).unwrap()
}

/// The state of a passkey registration Keygate starts at `rp`, answered by `vector`.
fn registration(rp: &Webauthn, vector: (&str, &str)) -> (PasskeyRegistration, RegisterPublicKeyCredential) {
    let (_, state) = rp.start_passkey_registration(Uuid::new_v4(), "ann", "Ann", None).unwrap();
    (with_challenge(&state, "rs", vector.0), serde_json::from_str(vector.1).unwrap())
}

fn vector_id(vector: (&str, &str)) -> String {
    serde_json::from_str::<Value>(vector.1).unwrap()["rawId"].as_str().unwrap().to_owned()
}

#[test]
fn the_public_url_makes_the_relying_party() {
    // A path (Keygate behind a prefix) is no part of the origin; the RP ID is the host.
    for url in ["http://localhost:8080", "http://localhost:8080/", "http://localhost:8080/keygate"] {
        let (state, answer) = registration(&rp(url), EDGE_TOUCHID);
        assert!(verify_registration(&rp(url), &answer, &state).is_ok(), "{url}");
    }
    let refused = relying_party_at("http://127.0.0.1:8080", "acme").expect_err("an IP address is no RP ID");
    assert_eq!(refused.status(), actix_web::http::StatusCode::FORBIDDEN);
}

#[test]
fn packed_self_attestation_registers_a_device_bound_passkey() {
    let rp = rp("http://localhost:8080");
    let (state, answer) = registration(&rp, EDGE_TOUCHID);
    let passkey = verify_registration(&rp, &answer, &state).expect("Edge with Touch ID registers");
    assert_eq!(credential_id(passkey.cred_id()), vector_id(EDGE_TOUCHID));
    let credential = Credential::from(passkey);
    assert!(credential.user_verified, "registration requires user verification");
    assert_eq!(credential.attestation_format, AttestationFormat::Packed);
    assert!(!credential.backup_eligible);
    assert_eq!(method(credential.backup_eligible), "hwk", "RFC 8176: a hardware-bound key");
}

#[test]
fn full_packed_and_none_attestations_register() {
    let rp = rp("https://webauthn.firstyear.id.au");
    for (vector, format) in [(YUBIKEY_PACKED, AttestationFormat::Packed), (PIXEL_NONE, AttestationFormat::None)] {
        let (state, answer) = registration(&rp, vector);
        let passkey = verify_registration(&rp, &answer, &state).expect("registers");
        assert_eq!(credential_id(passkey.cred_id()), vector_id(vector));
        assert_eq!(Credential::from(passkey).attestation_format, format);
    }
}

#[test]
fn answers_for_another_origin_or_challenge_or_altered_are_refused() {
    let rp_here = rp("http://localhost:8080");
    let (state, answer) = registration(&rp_here, EDGE_TOUCHID);
    // The same answer at a relying party of another origin (scheme, or port).
    for url in ["https://localhost:8080", "http://localhost:8081"] {
        let (state, answer) = registration(&rp(url), EDGE_TOUCHID);
        let error = verify_registration(&rp(url), &answer, &state).expect_err("another origin");
        assert_eq!(error.field_errors()[0].field, "credential", "{url}: a 422 on `credential`");
    }
    // A ceremony whose challenge the authenticator did not sign (a replayed answer).
    let (_, fresh) = rp_here.start_passkey_registration(Uuid::new_v4(), "ann", "Ann", None).unwrap();
    assert!(matches!(rp_here.finish_passkey_registration(&answer, &fresh), Err(WebauthnError::MismatchedChallenge)));
    // The attestation signature altered in transit.
    let mut altered: Value = serde_json::from_str(EDGE_TOUCHID.1).unwrap();
    let object = altered["response"]["attestationObject"].as_str().unwrap().to_owned();
    let flipped = if object.as_bytes()[40] == b'A' { 'B' } else { 'A' };
    let tampered = format!("{}{flipped}{}", &object[..40], &object[41..]);
    altered["response"]["attestationObject"] = json!(tampered);
    let altered: RegisterPublicKeyCredential = serde_json::from_value(altered).unwrap();
    assert!(verify_registration(&rp_here, &altered, &state).is_err(), "an altered attestation is refused");
    assert!(verify_registration(&rp_here, &answer, &state).is_ok(), "the unaltered one verifies");
}

#[test]
fn a_registration_without_user_verification_is_refused() {
    let rp = rp("https://webauthn.io");
    let (state, answer) = registration(&rp, U2F_UNVERIFIED);
    let refused = rp.finish_passkey_registration(&answer, &state);
    assert!(matches!(refused, Err(WebauthnError::UserNotVerified)), "{refused:?}");
    assert!(verify_registration(&rp, &answer, &state).is_err());
}

/// The passkey of [`YUBIKEY_CREDENTIAL`], as Keygate stores one (a registered passkey's JSON
/// with the vector's credential id and public key).
fn yubikey_passkey() -> Passkey {
    let rp = rp("http://localhost:8080");
    let (state, answer) = registration(&rp, EDGE_TOUCHID);
    let mut stored = serde_json::to_value(verify_registration(&rp, &answer, &state).unwrap()).unwrap();
    let (id, x, y) = YUBIKEY_CREDENTIAL;
    let credential = &mut stored["cred"];
    credential["cred_id"] = json!(id);
    credential["cred"]["key"]["EC_EC2"]["x"] = json!(x);
    credential["cred"]["key"]["EC_EC2"]["y"] = json!(y);
    credential["counter"] = json!(1);
    serde_json::from_value(stored).expect("a stored passkey")
}

#[test]
fn an_assertion_answers_its_challenge_and_must_verify_the_user() {
    let rp = rp("http://localhost:8080");
    let passkey = yubikey_passkey();
    let assertion: PublicKeyCredential = serde_json::from_str(YUBIKEY_ASSERTION.1).unwrap();
    assert_eq!(credential_id(assertion.get_credential_id()), credential_id(passkey.cred_id()));
    let (_, fresh) = rp.start_passkey_authentication(std::slice::from_ref(&passkey)).unwrap();
    let replayed = rp.finish_passkey_authentication(&assertion, &fresh);
    assert!(matches!(replayed, Err(WebauthnError::MismatchedChallenge)), "{replayed:?}");
    // Its own challenge: the signature is checked only after user verification, which this
    // YubiKey (touched, no PIN) did not do; Keygate's passkeys require it (WebAuthn §7.2 step 17).
    let state: PasskeyAuthentication = with_challenge(&fresh, "ast", YUBIKEY_ASSERTION.0);
    let unverified = rp.finish_passkey_authentication(&assertion, &state);
    assert!(matches!(unverified, Err(WebauthnError::UserNotVerified)), "{unverified:?}");
    // That is the only reason: as a security key registered without user verification (user
    // presence enough) the same public key, challenge and assertion verify, signature and
    // counter included.
    let mut unverified = serde_json::to_value(Credential::from(passkey)).unwrap();
    unverified["user_verified"] = json!(false);
    unverified["registration_policy"] = json!("discouraged");
    let key = SecurityKey::from(serde_json::from_value::<Credential>(unverified).unwrap());
    let (_, fresh) = rp.start_securitykey_authentication(std::slice::from_ref(&key)).unwrap();
    let state: SecurityKeyAuthentication = with_challenge(&fresh, "ast", YUBIKEY_ASSERTION.0);
    let verified = rp.finish_securitykey_authentication(&assertion, &state).expect("a valid signature");
    assert_eq!((verified.counter(), verified.user_verified()), (20, false));
}
