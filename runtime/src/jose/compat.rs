//! Key storage compatibility: keys and sealed values written by earlier releases (ring 0.17 for
//! ES256/EdDSA keys and sealing, the `rsa` crate for RSA key generation) must load with the same
//! `kid` (so the JWKS a relying party cached still names them), and the deterministic signatures
//! (RS256, EdDSA) must be byte-identical. The fixtures in `testdata/legacy_keys.json` were produced
//! by that implementation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::{Algorithm, MasterKey, SigningKey, sign_jwt, verify_jwt};

fn fixtures() -> Value {
    serde_json::from_str(include_str!("testdata/legacy_keys.json")).expect("fixture JSON")
}

fn bytes(value: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(value.as_str().expect("a base64url string")).expect("base64url")
}

#[test]
fn keys_stored_by_earlier_releases_keep_their_kid_and_signatures() {
    let fixtures = fixtures();
    let message = fixtures["message"].as_str().unwrap().as_bytes();
    for algorithm in Algorithm::ALL {
        let fixture = &fixtures[algorithm.as_str()];
        let key = SigningKey::from_pkcs8(algorithm, bytes(&fixture["pkcs8"])).unwrap();
        assert_eq!(key.kid(), fixture["kid"].as_str().unwrap(), "{algorithm}: same kid, same JWKS entry");
        assert_eq!(key.pkcs8(), bytes(&fixture["pkcs8"]), "{algorithm}: stored bytes are kept as they are");
        if let Some(signature) = fixture.get("signature") {
            assert_eq!(key.sign(message).unwrap(), bytes(signature), "{algorithm}: deterministic signature");
        }
        let token = sign_jwt(&key, "JWT", &serde_json::json!({ "sub": "ann" })).unwrap();
        assert!(verify_jwt(&token, &[key.public_jwk()]).is_ok(), "{algorithm}");
    }
}

#[test]
fn values_sealed_by_earlier_releases_open() {
    let fixtures = fixtures();
    let sealed = &fixtures["sealed_eddsa_pkcs8"];
    let master = MasterKey::from_bytes(&[7u8; 32]).unwrap();
    let context = sealed["context"].as_str().unwrap();
    let opened = master.open(context, sealed["sealed"].as_str().unwrap()).unwrap();
    assert_eq!(opened, bytes(&fixtures["EdDSA"]["pkcs8"]));
}
