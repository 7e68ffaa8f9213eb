//! Compact JWS / JWT (RFC 7515 §7.1, RFC 7519): signing with a `SigningKey`, verification
//! against public JWKs exactly as a relying party does with the JWKS.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::jwk::Jwk;
use super::key::{Algorithm, KeyError, SigningKey};

/// Why a token could not be signed or verified. Callers report all of these to clients the same
/// way (e.g. `active: false`); the variants are for logs and tests.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts, or a part is not the expected JSON.
    #[error("malformed token")]
    Malformed,
    /// `alg` is not one Keygate accepts (including `none`), or does not match the key.
    #[error("algorithm not accepted")]
    Algorithm,
    /// No key with the token's `kid`.
    #[error("unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// The key failed to sign.
    #[error("signing failed")]
    Sign,
}

impl From<KeyError> for JwtError {
    fn from(_: KeyError) -> Self {
        JwtError::Sign
    }
}

/// The protected header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Algorithm.
    pub alg: String,
    /// Media type, e.g. `at+jwt` (RFC 9068 §2.1) or `JWT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Key id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// Signs `claims` as a compact JWT with header `{alg, typ, kid}`.
pub fn sign_jwt(key: &SigningKey, typ: &str, claims: &impl Serialize) -> Result<String, JwtError> {
    let header = Header { alg: key.algorithm().as_str().into(), typ: Some(typ.into()), kid: Some(key.kid().into()) };
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).map_err(|_| JwtError::Sign)?);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|_| JwtError::Sign)?);
    let signing_input = format!("{header}.{payload}");
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

fn parts(token: &str) -> Result<(&str, &str, &str), JwtError> {
    let mut split = token.split('.');
    match (split.next(), split.next(), split.next(), split.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() && !s.is_empty() => Ok((h, p, s)),
        _ => Err(JwtError::Malformed),
    }
}

/// The claims of a compact JWS, unverified: only to find which issuer's keys verify it.
pub fn unverified_claims(token: &str) -> Option<serde_json::Value> {
    let (_, payload, _) = parts(token).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// The header of a compact JWS, unverified (to pick the key).
pub fn decode_header(token: &str) -> Result<Header, JwtError> {
    let (header, _, _) = parts(token)?;
    let bytes = URL_SAFE_NO_PAD.decode(header).map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// Verifies a compact JWS against `keys` (matched by `kid`) and returns its claims. Time-based
/// and audience checks are the caller's.
pub fn verify_jwt(token: &str, keys: &[Jwk]) -> Result<serde_json::Value, JwtError> {
    let header = decode_header(token)?;
    let algorithm = Algorithm::from_wire(&header.alg).ok_or(JwtError::Algorithm)?;
    let kid = header.kid.as_deref().ok_or(JwtError::UnknownKey)?;
    let jwk = keys.iter().find(|k| k.kid.as_deref() == Some(kid)).ok_or(JwtError::UnknownKey)?;
    if jwk.alg.as_deref() != Some(algorithm.as_str()) {
        return Err(JwtError::Algorithm);
    }
    verify_with(token, algorithm, jwk)
}

/// Verifies a JWS a client signed (RFC 7523 client assertions) against the keys it registered.
/// Clients' keys may lack `kid` and `alg`: a key is tried when its `kid` and `alg` match those of
/// the token where both name one, and its type fits the token's algorithm.
pub fn verify_client_jwt(token: &str, keys: &[Jwk]) -> Result<serde_json::Value, JwtError> {
    let header = decode_header(token)?;
    let algorithm = Algorithm::from_wire(&header.alg).ok_or(JwtError::Algorithm)?;
    let candidates = keys.iter().filter(|k| {
        (header.kid.is_none() || k.kid.is_none() || header.kid == k.kid)
            && k.alg.as_deref().is_none_or(|alg| alg == algorithm.as_str())
            && fits(algorithm, k)
    });
    let mut outcome = Err(JwtError::UnknownKey);
    for jwk in candidates {
        outcome = verify_with(token, algorithm, jwk);
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

/// Whether `jwk`'s type can verify `algorithm` (no algorithm confusion across key types).
fn fits(algorithm: Algorithm, jwk: &Jwk) -> bool {
    match algorithm {
        Algorithm::RS256 => jwk.kty == "RSA",
        Algorithm::ES256 => jwk.kty == "EC" && jwk.crv.as_deref() == Some("P-256"),
        Algorithm::EdDSA => jwk.kty == "OKP" && jwk.crv.as_deref() == Some("Ed25519"),
    }
}

fn verify_with(token: &str, algorithm: Algorithm, jwk: &Jwk) -> Result<serde_json::Value, JwtError> {
    let (header_part, payload_part, signature_part) = parts(token)?;
    if !fits(algorithm, jwk) {
        return Err(JwtError::Algorithm);
    }
    let signature = URL_SAFE_NO_PAD.decode(signature_part).map_err(|_| JwtError::Malformed)?;
    let message = format!("{header_part}.{payload_part}");
    let decode =
        |v: &Option<String>| v.as_deref().and_then(|s| URL_SAFE_NO_PAD.decode(s).ok()).ok_or(JwtError::Malformed);
    let verified = match algorithm {
        Algorithm::RS256 => RsaPublicKeyComponents { n: decode(&jwk.n)?, e: decode(&jwk.e)? }
            .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message.as_bytes(), &signature)
            .is_ok(),
        Algorithm::ES256 => {
            let mut point = vec![0x04];
            point.extend(decode(&jwk.x)?);
            point.extend(decode(&jwk.y)?);
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message.as_bytes(), &signature)
                .is_ok()
        }
        Algorithm::EdDSA => {
            UnparsedPublicKey::new(&signature::ED25519, decode(&jwk.x)?).verify(message.as_bytes(), &signature).is_ok()
        }
    };
    if !verified {
        return Err(JwtError::Signature);
    }
    let payload = URL_SAFE_NO_PAD.decode(payload_part).map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&payload).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tokens_of_every_algorithm_verify_with_the_public_jwk_only() {
        for algorithm in Algorithm::ALL {
            let key = SigningKey::generate(algorithm).unwrap();
            let claims = json!({ "sub": "ann", "n": 1 });
            let token = sign_jwt(&key, "at+jwt", &claims).unwrap();
            let header = decode_header(&token).unwrap();
            assert_eq!(header.typ.as_deref(), Some("at+jwt"));
            assert_eq!(header.kid.as_deref(), Some(key.kid()));
            assert_eq!(verify_jwt(&token, &[key.public_jwk()]).unwrap(), claims, "{algorithm}");
        }
    }

    #[test]
    fn tampering_unknown_keys_and_algorithm_confusion_are_refused() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let other = SigningKey::generate(Algorithm::ES256).unwrap();
        let token = sign_jwt(&key, "JWT", &json!({ "sub": "ann" })).unwrap();
        let jwks = [key.public_jwk()];

        let (h, _, s) = parts(&token).unwrap();
        let forged = format!("{h}.{}.{s}", URL_SAFE_NO_PAD.encode(br#"{"sub":"root"}"#));
        assert_eq!(verify_jwt(&forged, &jwks), Err(JwtError::Signature));
        assert_eq!(verify_jwt(&token, &[other.public_jwk()]), Err(JwtError::UnknownKey));

        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(b"{}"));
        assert_eq!(verify_jwt(&none, &jwks), Err(JwtError::Malformed));
        let none = format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"x"}"#),
            URL_SAFE_NO_PAD.encode(b"{}")
        );
        assert_eq!(verify_jwt(&none, &jwks), Err(JwtError::Algorithm));

        // A token that claims EdDSA but names an ES256 key.
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"EdDSA","kid":"{}"}}"#, key.kid()));
        let confused = format!("{header}.{}.{s}", URL_SAFE_NO_PAD.encode(b"{}"));
        assert_eq!(verify_jwt(&confused, &jwks), Err(JwtError::Algorithm));
        for garbage in ["", "a.b", "a.b.c.d", "!!!.###.$$$"] {
            assert!(verify_jwt(garbage, &jwks).is_err(), "{garbage}");
        }
    }
}
