//! Server-generated secrets: API keys, client secrets, codes. They carry 256 bits of entropy, so a
//! fast SHA-256 digest is enough to store them (bcrypt is for human-chosen passwords), and lookups
//! by digest work across replicas without a shared pepper.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `prefix` followed by `bytes` random bytes in unpadded base64url.
pub fn random_token(prefix: &str, bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(&buffer))
}

/// Lowercase hex SHA-256 of `secret`: the only form in which secrets are stored.
pub fn digest(secret: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = Sha256::digest(secret.as_bytes());
    // On every client authentication: one allocation, not one `format!` per byte.
    let mut hex = String::with_capacity(2 * hash.len());
    for byte in hash {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

/// Whether `secret` hashes to `stored` (hex), compared in constant time.
pub fn digest_matches(secret: &str, stored: &str) -> bool {
    digest(secret).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// RFC 8628 §6.1: a user code from an alphabet without vowels or look-alikes, as `XXXX-XXXX`
/// (20^8 ≈ 2^34.6 combinations; the device flow rate-limits guesses).
pub fn user_code() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut code = String::with_capacity(9);
    let mut rng = rand::rng();
    for index in 0..8 {
        if index == 4 {
            code.push('-');
        }
        // 256 is not a multiple of 20: reject the biased tail instead of taking a modulo.
        let byte = loop {
            let candidate = (rng.next_u32() & 0xff) as u8;
            if candidate < 240 {
                break candidate;
            }
        };
        code.push(ALPHABET[usize::from(byte % 20)] as char);
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_prefixed() {
        let a = random_token("sk_", 32);
        let b = random_token("sk_", 32);
        assert!(a.starts_with("sk_"));
        assert_eq!(a.len(), 3 + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn digests_match_only_their_secret() {
        let stored = digest("sk_abc");
        assert_eq!(stored.len(), 64);
        // FIPS 180-2 appendix B.1: the stored form is lowercase hex.
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(digest_matches("sk_abc", &stored));
        assert!(!digest_matches("sk_abd", &stored));
    }

    #[test]
    fn user_codes_follow_rfc_8628() {
        let code = user_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(code.chars().filter(|c| *c != '-').all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)));
    }
}
