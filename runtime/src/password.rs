//! Password hashing with bcrypt, on threads of its own at a lower scheduling priority, so async
//! workers never stall and cheap requests keep their throughput while hashes run.
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
    /// The hashing threads are gone (shutdown) or could not be started.
    #[error("the password hashing threads are unavailable")]
    Pool,
}

/// How much nicer than the process the hashing threads run (Linux niceness: 0 is the default,
/// 19 the lowest priority; the sum is capped at 19). A bcrypt
/// hash at cost 12 takes a quarter of a second of CPU; at the default priority, hashes share the
/// cores equally with the async workers, so eight user creations halve the throughput of every
/// other endpoint on one core. At niceness 10 the scheduler gives a busy hashing thread about a
/// tenth of a contended core (CFS weights 110 against 1024): token, discovery and introspection
/// traffic keeps about 90% of its throughput, and hashes use the rest (all of an idle core).
const HASHING_NICENESS: i32 = 10;

/// The lowest priority (highest niceness) Linux has.
const LOWEST_PRIORITY: i32 = 19;

/// A bcrypt computation for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' queue: one thread per core, started on first use, each at
/// [`HASHING_NICENESS`]. Bounding the threads bounds the hashes that run at once, so a login
/// storm queues instead of starting a thread per request.
fn hashing_queue() -> &'static std::sync::mpsc::Sender<Job> {
    static QUEUE: std::sync::OnceLock<std::sync::mpsc::Sender<Job>> = std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let (queue, jobs) = std::sync::mpsc::channel::<Job>();
        let jobs = std::sync::Arc::new(std::sync::Mutex::new(jobs));
        for n in 0..std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) {
            let jobs = jobs.clone();
            let started = std::thread::Builder::new().name(format!("keygate-hash-{n}")).spawn(move || {
                lower_priority();
                loop {
                    let job = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(job) = job else { return };
                    job();
                }
            });
            if let Err(error) = started {
                tracing::error!(%error, "could not start a password hashing thread");
            }
        }
        queue
    })
}

/// Lowers the calling thread's scheduling priority by [`HASHING_NICENESS`] (Linux, where
/// niceness is per thread; a new thread starts at the process's); elsewhere hashes run at the
/// process's priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        let lowered = getpriority_process(me)
            .map(|now| (now + HASHING_NICENESS).min(LOWEST_PRIORITY))
            .and_then(|niceness| setpriority_process(me, niceness));
        if let Err(error) = lowered {
            tracing::warn!(%error, "could not lower the priority of a password hashing thread");
        }
    }
}

/// Runs `work` on a hashing thread and waits for its result; a job whose caller went away
/// before its turn (a dropped request) is skipped.
async fn on_hashing_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, PasswordError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        if !reply.is_closed() {
            let _ = reply.send(work());
        }
    });
    hashing_queue().send(job).map_err(|_| PasswordError::Pool)?;
    answer.await.map_err(|_| PasswordError::Pool)
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

/// Hashes `password`, [prepared](prepare), at `cost` on a hashing thread, inside a
/// `bcrypt_hash` debug span (with its `cost`) that measures the computation.
pub async fn hash(password: String, cost: u32) -> Result<String, PasswordError> {
    let password = prepare(&password)?;
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong(password.len()));
    }
    on_hashing_thread(move || {
        let _span = tracing::debug_span!("bcrypt_hash", cost).entered();
        bcrypt::hash(password, cost)
    })
    .await?
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

/// Checks `password` against a stored bcrypt hash on a hashing thread: its prepared form, then
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
    on_hashing_thread(move || bcrypt::verify(password, &stored)).await?.map_err(PasswordError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashes_run_on_threads_of_lower_priority() {
        use rustix::{process::getpriority_process, thread::gettid};
        let on_worker = getpriority_process(Some(gettid())).unwrap();
        let on_hashing = on_hashing_thread(|| getpriority_process(Some(gettid())).unwrap()).await.unwrap();
        assert_eq!(on_hashing, (on_worker + HASHING_NICENESS).min(LOWEST_PRIORITY), "the worker runs at {on_worker}");
    }

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
