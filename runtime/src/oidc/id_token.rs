//! ID tokens (OIDC Core §2, §3.1.3.6).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256, Sha512};

use crate::error::ApiError;
use crate::jose::{Algorithm, SigningKey, sign_jwt};
use crate::oauth::issue::UserGrant;

/// Signs the ID token of `grant`, bound to `access_token` by `at_hash`.
pub fn sign(
    key: &SigningKey,
    issuer: &str,
    grant: &UserGrant<'_>,
    access_token: &str,
    lifetime: i64,
) -> Result<String, ApiError> {
    let now = crate::now().timestamp();
    let client_id = grant.client_id.to_string();
    let mut claims = json!({
        "iss": issuer,
        "sub": grant.user_id.to_string(),
        "aud": client_id,
        "azp": client_id,
        "iat": now,
        "exp": now + lifetime,
        // §2: REQUIRED when max_age was requested; always sent, so clients can check freshness.
        "auth_time": grant.auth_time.timestamp(),
        "at_hash": at_hash(key.algorithm(), access_token),
        // §2: how the user authenticated (RFC 8176 values) and the level that meets.
        "amr": grant.amr,
        "acr": crate::mfa::amr::acr(grant.amr),
    });
    if let Some(nonce) = grant.nonce {
        claims["nonce"] = json!(nonce);
    }
    if let Some(session) = grant.session_id {
        claims["sid"] = json!(session.to_string());
    }
    sign_jwt(key, "JWT", &claims).map_err(ApiError::internal)
}

/// OIDC Core §3.1.3.6: the left half of the hash of the access token, with the hash of the
/// signing algorithm (SHA-256 for RS256 and ES256; SHA-512 for EdDSA over Ed25519).
pub fn at_hash(algorithm: Algorithm, access_token: &str) -> String {
    let digest = match algorithm {
        Algorithm::RS256 | Algorithm::ES256 => Sha256::digest(access_token.as_bytes()).to_vec(),
        Algorithm::EdDSA => Sha512::digest(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_core_example() {
        // OIDC Core Appendix A.3 (RS256): access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
        assert_eq!(at_hash(Algorithm::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
