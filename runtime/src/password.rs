//! Password hashing with bcrypt, always on the blocking pool so async workers never stall.
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

/// Hashes `password` at `cost` on the blocking pool.
pub async fn hash(password: String, cost: u32) -> Result<String, PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong(password.len()));
    }
    let _slot = hashing_slots().acquire().await.map_err(|_| PasswordError::Pool)?;
    tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
        .await
        .map_err(|_| PasswordError::Pool)?
        .map_err(PasswordError::from)
}

/// The cost a bcrypt hash (`$2b$12$…`) was made with.
pub fn cost_of(hash: &str) -> Option<u32> {
    hash.split('$').nth(2)?.parse().ok()
}

/// Checks `password` against a stored bcrypt hash on the blocking pool.
pub async fn verify(password: String, stored: String) -> Result<bool, PasswordError> {
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
        assert!(verify("correct horse".into(), stored.clone()).await.unwrap());
        assert!(!verify("wrong horse".into(), stored).await.unwrap());
        let long = "x".repeat(73);
        assert!(matches!(hash(long, 4).await, Err(PasswordError::TooLong(73))));
    }
}
