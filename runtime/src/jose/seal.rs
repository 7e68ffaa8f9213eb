//! Private keys at rest: AES-256-GCM under a master key (from configuration, or in development a
//! generated key file readable only by its owner).

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why sealing or opening failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The configured master key is not 32 bytes of base64url.
    #[error(
        "the master key must be 32 bytes, base64url-encoded (e.g. `openssl rand -base64 32 | tr '+/' '-_' | tr -d =`)"
    )]
    BadMasterKey,
    /// The key file could not be read or created.
    #[error("master key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Sealed data is corrupt, or was sealed under another master key or for another key id.
    #[error("sealed data does not open with this master key")]
    Open,
    /// The random source failed.
    #[error("no randomness available")]
    Random,
}

/// The key that encrypts private keys at rest.
pub struct MasterKey {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A master key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SealError::BadMasterKey)?;
        Ok(Self { key: LessSafeKey::new(key), rng: SystemRandom::new() })
    }

    /// A master key from its base64url form (as in `KEYGATE_MASTER_KEY`).
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim().trim_end_matches('=')).map_err(|_| SealError::BadMasterKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadMasterKey);
        }
        Self::from_bytes(&bytes)
    }

    /// The key stored in `path`, created with mode 0600 when missing. Returns whether it was
    /// created, so the caller can warn that a configured key belongs in production.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), SealError> {
        let file_error = |source| SealError::File { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => return Ok((Self::from_base64(&text)?, false)),
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(file_error(error)),
            Err(_) => {}
        }
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).map_err(|_| SealError::Random)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(file_error)?;
        }
        write_private(path, URL_SAFE_NO_PAD.encode(bytes).as_bytes()).map_err(file_error)?;
        Ok((Self::from_bytes(&bytes)?, true))
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. the key id) so a sealed value cannot be
    /// moved to another row. Output: base64url(nonce || ciphertext || tag).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut buffer = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut buffer)
            .map_err(|_| SealError::Random)?;
        let mut out = nonce.to_vec();
        out.extend(buffer);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Decrypts what `seal` produced for the same `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| SealError::Open)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut buffer = ciphertext.to_vec();
        let plain =
            self.key.open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer).map_err(|_| SealError::Open)?;
        Ok(plain.to_vec())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let key = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = key.seal("kid-1", b"private key").unwrap();
        assert_eq!(key.open("kid-1", &sealed).unwrap(), b"private key");
        assert!(key.open("kid-2", &sealed).is_err(), "bound to its context");
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open("kid-1", &sealed).is_err(), "bound to its master key");
        assert_ne!(key.seal("kid-1", b"private key").unwrap(), sealed, "fresh nonce each time");
        assert!(MasterKey::from_base64("too-short").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_generated_key_file_is_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let (first, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(created);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let sealed = first.seal("k", b"x").unwrap();
        let (again, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again.open("k", &sealed).unwrap(), b"x");
    }
}
