//! Password hashing with bcrypt, always on the blocking pool so async workers never stall.
//!
//! Passwords are prepared with the PRECIS OpaqueString profile (RFC 8265 §4.2; NIST SP 800-63B
//! §5.1.1.2 asks for Unicode normalization before hashing): Unicode NFC and non-ASCII spaces
//! mapped to U+0020, so `café` typed composed or decomposed is the same password. Control
//! characters and other code points the profile disallows are refused. Hashes made before this
//! preparation (of the raw string) still verify: [`verify`] tries the prepared form first, then
//! the raw one, and says so, so the caller can re-hash the prepared form.
//!
//! bcrypt reads at most 72 bytes of input. Keygate rejects longer passwords with a clear error
//! instead of silently ignoring the tail (which would let `<72 bytes>anything` log in) or
//! pre-hashing (which changes the format other tools expect).

/// Longest password bcrypt reads, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Longer than bcrypt can read.
    #[error("must be at most {MAX_PASSWORD_BYTES} bytes (bcrypt's limit); this one is {0}")]
    TooLong(usize),
    /// Empty, or holding characters the OpaqueString profile disallows (RFC 8265 §4.2.1), such
    /// as control characters.
    #[error("must be non-empty text without control characters or unassigned code points")]
    Disallowed,
    /// bcrypt itself failed (bad cost, malformed stored hash).
    #[error("bcrypt failed: {0}")]
    Bcrypt(#[from] bcrypt::BcryptError),
    /// The blocking pool is gone (shutdown).
    #[error("the blocking pool is unavailable")]
    Pool,
}

/// At most one bcrypt computation per core at a time. Without this bound a login storm would
/// start a blocking thread per request, and the OS would share the cores among them all, so the
/// async workers serving every other endpoint would get a sliver of CPU; with it they compete
/// with at most one hashing thread per core, and logins queue instead.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS
        .get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)))
}

/// `password` in the form Keygate hashes: enforced by the OpaqueString profile (RFC 8265 §4.2.2:
/// non-ASCII spaces to U+0020, then NFC), at most [`MAX_PASSWORD_BYTES`] bytes after that.
pub fn prepare(password: &str) -> Result<String, PasswordError> {
    use precis_profiles::precis_core::profile::Profile;
    let prepared = precis_profiles::OpaqueString::new().enforce(password).map_err(|_| PasswordError::Disallowed)?;
    if prepared.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong(prepared.len()));
    }
    Ok(prepared.into_owned())
}

/// Hashes `password`, [prepared](prepare), at `cost` on the blocking pool, inside a
/// `bcrypt_hash` debug span (with its `cost`) that measures the computation.
pub async fn hash(password: String, cost: u32) -> Result<String, PasswordError> {
    let password = prepare(&password)?;
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong(password.len()));
    }
    let _slot = hashing_slots().acquire().await.map_err(|_| PasswordError::Pool)?;
    tokio::task::spawn_blocking(move || {
        let _span = tracing::debug_span!("bcrypt_hash", cost).entered();
        bcrypt::hash(password, cost)
    })
    .await
    .map_err(|_| PasswordError::Pool)?
    .map_err(PasswordError::from)
}

/// The cost a bcrypt hash (`$2b$12$…`) was made with.
pub fn cost_of(hash: &str) -> Option<u32> {
    hash.split('$').nth(2)?.parse().ok()
}

/// How a password compared with a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// It does not match.
    No,
    /// Its [prepared](prepare) form matches.
    Yes,
    /// Only its raw form matches: a hash made before passwords were prepared. Re-hash it.
    Legacy,
}

impl Verified {
    /// Whether the password matches in either form.
    pub fn matches(self) -> bool {
        self != Verified::No
    }
}

/// Checks `password` against a stored bcrypt hash on the blocking pool: its prepared form, then
/// (if different) its raw form, so hashes made before preparation keep working. A password the
/// profile refuses can only match in raw form.
pub async fn verify(password: String, stored: String) -> Result<Verified, PasswordError> {
    let prepared = prepare(&password).ok();
    if let Some(prepared) = &prepared
        && bcrypt_verify(prepared.clone(), stored.clone()).await?
    {
        return Ok(Verified::Yes);
    }
    if prepared.as_ref() != Some(&password) && bcrypt_verify(password, stored).await? {
        return Ok(Verified::Legacy);
    }
    Ok(Verified::No)
}

async fn bcrypt_verify(password: String, stored: String) -> Result<bool, PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let _slot = hashing_slots().acquire().await.map_err(|_| PasswordError::Pool)?;
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &stored))
        .await
        .map_err(|_| PasswordError::Pool)?
        .map_err(PasswordError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_long_passwords_are_refused() {
        let stored = hash("correct horse".into(), 4).await.unwrap();
        assert_eq!(verify("correct horse".into(), stored.clone()).await.unwrap(), Verified::Yes);
        assert_eq!(verify("wrong horse".into(), stored).await.unwrap(), Verified::No);
        let long = "x".repeat(73);
        assert!(matches!(hash(long, 4).await, Err(PasswordError::TooLong(73))));
    }

    #[tokio::test]
    async fn composed_and_decomposed_forms_are_one_password() {
        let composed = "ma\u{f1}ana caf\u{e9} pw";
        let decomposed = "man\u{303}ana cafe\u{301} pw";
        let stored = hash(composed.into(), 4).await.unwrap();
        assert_eq!(verify(decomposed.into(), stored).await.unwrap(), Verified::Yes);
        // A non-ASCII space is a space (RFC 8265 §4.2.1).
        assert_eq!(prepare("a\u{a0}b").unwrap(), "a b");
        assert!(matches!(prepare("nul\0byte"), Err(PasswordError::Disallowed)));
        assert!(matches!(prepare(""), Err(PasswordError::Disallowed)));
    }

    #[tokio::test]
    async fn hashes_of_the_raw_form_still_verify_as_legacy() {
        let decomposed = "man\u{303}ana cafe\u{301} pw";
        let raw = bcrypt::hash(decomposed, 4).unwrap();
        assert_eq!(verify(decomposed.into(), raw.clone()).await.unwrap(), Verified::Legacy);
        assert_eq!(verify("ma\u{f1}ana caf\u{e9} pw".into(), raw).await.unwrap(), Verified::No);
    }
}
