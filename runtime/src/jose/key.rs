//! Signing keys: generation, PKCS#8 import/export, signatures, public JWKs.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::jwk::Jwk;

pub use crate::vocab::Algorithm;

/// Why a key could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Key generation failed.
    #[error("could not generate a {0} key")]
    Generate(Algorithm),
    /// Stored key material does not parse as a key of its algorithm.
    #[error("stored {0} key is not valid PKCS#8")]
    Rejected(Algorithm),
    /// The signing primitive failed.
    #[error("signing failed")]
    Sign,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private signing key, parsed once and reused.
pub struct SigningKey {
    algorithm: Algorithm,
    kid: String,
    pkcs8: Vec<u8>,
    pair: Pair,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKey").field("algorithm", &self.algorithm).field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key for `algorithm`.
    pub fn generate(algorithm: Algorithm) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = match algorithm {
            Algorithm::RS256 => {
                let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate(algorithm))?;
                AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key)
                    .map_err(|_| KeyError::Generate(algorithm))?
                    .as_ref()
                    .to_vec()
            }
            Algorithm::ES256 => EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| KeyError::Generate(algorithm))?
                .as_ref()
                .to_vec(),
            Algorithm::EdDSA => {
                Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Generate(algorithm))?.as_ref().to_vec()
            }
        };
        Self::from_pkcs8(algorithm, pkcs8)
    }

    /// A key from its PKCS#8 DER encoding.
    pub fn from_pkcs8(algorithm: Algorithm, pkcs8: Vec<u8>) -> Result<Self, KeyError> {
        let rejected = |_| KeyError::Rejected(algorithm);
        let pair = match algorithm {
            Algorithm::RS256 => Pair::Rsa(RsaKeyPair::from_pkcs8(&pkcs8).map_err(rejected)?),
            Algorithm::ES256 => Pair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8).map_err(rejected)?,
            ),
            Algorithm::EdDSA => Pair::Ed25519(Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(rejected)?),
        };
        let mut key = SigningKey { algorithm, kid: String::new(), pkcs8, pair, rng: SystemRandom::new() };
        key.kid = key.public_jwk().thumbprint();
        Ok(key)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key, PKCS#8 DER (to be sealed before storing).
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public key as a JWK with only public members (`kid`, `use`, `alg` included once the
    /// kid is known).
    pub fn public_jwk(&self) -> Jwk {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match &self.pair {
            Pair::Rsa(pair) => {
                let components = signature::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                Jwk::rsa(b64(&components.n), b64(&components.e))
            }
            Pair::Ecdsa(pair) => {
                // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
                let point = pair.public_key().as_ref();
                Jwk::ec_p256(b64(&point[1..33]), b64(&point[33..65]))
            }
            Pair::Ed25519(pair) => Jwk::ed25519(b64(pair.public_key().as_ref())),
        };
        if !self.kid.is_empty() {
            jwk.kid = Some(self.kid.clone());
            jwk.key_use = Some("sig".into());
            jwk.alg = Some(self.algorithm.as_str().into());
        }
        jwk
    }

    /// Signs `message` (the JWS signing input).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
                    .map_err(|_| KeyError::Sign)?;
                Ok(signature)
            }
            Pair::Ecdsa(pair) => Ok(pair.sign(&self.rng, message).map_err(|_| KeyError::Sign)?.as_ref().to_vec()),
            Pair::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_algorithm_round_trip_through_pkcs8() {
        for algorithm in Algorithm::ALL {
            let key = SigningKey::generate(algorithm).unwrap();
            let again = SigningKey::from_pkcs8(algorithm, key.pkcs8().to_vec()).unwrap();
            assert_eq!(key.kid(), again.kid(), "{algorithm}: the kid is a function of the public key");
            assert_eq!(key.kid().len(), 43, "{algorithm}: SHA-256 thumbprint in base64url");
            let jwk = key.public_jwk();
            assert_eq!(jwk.alg.as_deref(), Some(algorithm.as_str()));
            let json = serde_json::to_value(&jwk).unwrap();
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(json.get(private).is_none(), "{algorithm}: `{private}` must never be published");
            }
        }
    }

    #[test]
    fn stored_keys_of_the_wrong_algorithm_are_rejected() {
        let key = SigningKey::generate(Algorithm::EdDSA).unwrap();
        assert!(matches!(
            SigningKey::from_pkcs8(Algorithm::ES256, key.pkcs8().to_vec()),
            Err(KeyError::Rejected(Algorithm::ES256))
        ));
    }
}
