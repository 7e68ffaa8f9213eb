//! Brute-force protection for password sign-in: failures slow down the next attempt, per account
//! and client IP, per account from anywhere, and per IP across accounts. Every lockout is
//! temporary (at most [`MAX_LOCK`]), so an attacker can delay a user's sign-in but never lock
//! them out for good, and a success from the user's own IP clears that IP's record.
//!
//! Endpoints that store something for every call before any credential is checked (a WebAuthn
//! ceremony) are limited per IP instead, by a count of requests in a fixed window
//! ([`Throttle::spend`], [`Rate`]), kept in the same store.
//!
//! The client IP is the TCP peer's, or behind a listed reverse proxy the address it forwards
//! ([`crate::forwarded`], the `trusted_proxies` setting). Counters live in this process by
//! default. Replicas share them through Redis when one is configured ([`Throttle::redis`]);
//! otherwise each replica keeps its own, which multiplies the attempts an attacker gets by the
//! number of replicas.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::error::ApiError;

/// Failures from one IP against one account before delays start.
pub(super) const PAIR_FREE: u32 = 5;
/// Failures against one account, from any IPs, before delays start.
pub(super) const ACCOUNT_FREE: u32 = 20;
/// Failures from one IP, against any accounts, before delays start.
pub(super) const IP_FREE: u32 = 50;
/// The longest an attempt is ever delayed.
pub const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// A record forgotten after this long without failures.
pub(super) const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    locked_until: Option<Instant>,
    last_failure: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    Pair(Uuid, String, String),
    Account(Uuid, String),
    Ip(String),
}

/// At most `limit` requests per `window` by one key, e.g. a client IP (a fixed window, starting
/// at the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests served in one window.
    pub limit: u32,
    /// The window's length.
    pub window: Duration,
}

/// Sign-in failure records and request windows, in this process or shared through Redis.
#[derive(Default)]
pub struct Throttle(Store);

enum Store {
    Local(LocalThrottle, LocalWindows),
    Shared(super::shared_throttle::SharedThrottle),
}

impl Default for Store {
    fn default() -> Self {
        Store::Local(LocalThrottle::default(), LocalWindows::default())
    }
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Store::Local(..) => "Throttle(local)",
            Store::Shared(_) => "Throttle(redis)",
        })
    }
}

impl Throttle {
    /// Counters shared by every replica through the Redis server at `url`, under keys starting
    /// with `prefix`. Connects now, so a wrong URL fails at start.
    pub async fn redis(url: &str, prefix: &str) -> Result<Self, String> {
        Ok(Self(Store::Shared(super::shared_throttle::SharedThrottle::connect(url, prefix).await?)))
    }

    /// The seconds an attempt for `account` (the account's username whichever of its names was
    /// typed; a typed name no account has, normalized) from `ip` must wait, if it
    /// must; a shared store that cannot be reached is a 503 ([`crate::error::Kind::Unavailable`]),
    /// never a verdict.
    pub async fn check(&self, tenant: Uuid, account: &str, ip: &str) -> Result<Option<u64>, ApiError> {
        match &self.0 {
            Store::Local(local, _) => Ok(local.check(tenant, account, ip)),
            Store::Shared(shared) => shared.check(&keys(tenant, account, ip)).await,
        }
    }

    /// Records a failed attempt.
    pub async fn failed(&self, tenant: Uuid, account: &str, ip: &str) -> Result<(), ApiError> {
        match &self.0 {
            Store::Local(local, _) => {
                local.failed(tenant, account, ip);
                Ok(())
            }
            Store::Shared(shared) => shared.failed(&keys(tenant, account, ip)).await,
        }
    }

    /// Records a success.
    pub async fn succeeded(&self, tenant: Uuid, account: &str, ip: &str) -> Result<(), ApiError> {
        match &self.0 {
            Store::Local(local, _) => {
                local.succeeded(tenant, account, ip);
                Ok(())
            }
            Store::Shared(shared) => shared.succeeded(&keys(tenant, account, ip)).await,
        }
    }
}

impl Throttle {
    /// Counts one request to `purpose` (e.g. `passkey_ceremony`) by `key` (a client IP, or
    /// whatever the purpose limits, such as an account) against `rate`: the seconds until the
    /// window ends when this request is past the limit (refuse it, with a 429 where there is an
    /// answer to give), `None` when it may be served. A shared store that cannot be reached is a
    /// 503.
    pub async fn spend(&self, purpose: &'static str, key: &str, rate: Rate) -> Result<Option<u64>, ApiError> {
        match &self.0 {
            Store::Local(_, windows) => Ok(windows.spend(purpose, key, rate)),
            Store::Shared(shared) => shared.spend(purpose, key, rate).await,
        }
    }
}

/// A request window: when it ends and how many requests it has seen.
type Window = (Instant, u32);

/// Request windows kept in this process, per purpose and key; each is forgotten when it ends.
#[derive(Debug, Default)]
struct LocalWindows(Mutex<HashMap<(&'static str, String), Window>>);

impl LocalWindows {
    fn spend(&self, purpose: &'static str, key: &str, rate: Rate) -> Option<u64> {
        let Ok(mut map) = self.0.lock() else { return None };
        let now = Instant::now();
        map.retain(|_, (ends, _)| *ends > now);
        let (ends, count) = map.entry((purpose, key.to_owned())).or_insert((now + rate.window, 0));
        *count = count.saturating_add(1);
        (*count > rate.limit).then(|| ends.saturating_duration_since(now).as_secs().max(1))
    }
}

/// Failure records kept in this process.
#[derive(Debug, Default)]
struct LocalThrottle(Mutex<HashMap<Key, Record>>);

impl LocalThrottle {
    /// The seconds an attempt for `account` (normalized login name) from `ip` must wait, if it
    /// must.
    pub fn check(&self, tenant: Uuid, account: &str, ip: &str) -> Option<u64> {
        let Ok(map) = self.0.lock() else { return None };
        let now = Instant::now();
        let wait = keys(tenant, account, ip)
            .iter()
            .filter_map(|key| map.get(key)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        wait.map(|wait| wait.as_secs().max(1))
    }

    /// Records a failed attempt: each counter past its free allowance doubles the delay.
    pub fn failed(&self, tenant: Uuid, account: &str, ip: &str) {
        let Ok(mut map) = self.0.lock() else { return };
        let now = Instant::now();
        map.retain(|_, record| now - record.last_failure < FORGET_AFTER);
        for (key, free) in keys(tenant, account, ip).into_iter().zip([PAIR_FREE, ACCOUNT_FREE, IP_FREE]) {
            let record = map.entry(key).or_insert(Record { failures: 0, locked_until: None, last_failure: now });
            record.failures += 1;
            record.last_failure = now;
            if record.failures >= free {
                let exponent = (record.failures - free).min(10);
                let delay = Duration::from_secs(1u64 << exponent).min(MAX_LOCK);
                record.locked_until = Some(now + delay);
            }
        }
    }

    /// Records a success: the account's and this IP's records for it are cleared.
    pub fn succeeded(&self, tenant: Uuid, account: &str, ip: &str) {
        if let Ok(mut map) = self.0.lock() {
            let [pair, account, _] = keys(tenant, account, ip);
            map.remove(&pair);
            map.remove(&account);
        }
    }
}

/// The three records an attempt counts against: (account, IP), account, IP.
fn keys(tenant: Uuid, account: &str, ip: &str) -> [Key; 3] {
    [
        Key::Pair(tenant, account.to_owned(), ip.to_owned()),
        Key::Account(tenant, account.to_owned()),
        Key::Ip(ip.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_attempts_and_are_capped() {
        let throttle = LocalThrottle::default();
        let tenant = Uuid::new_v4();
        for _ in 0..PAIR_FREE - 1 {
            throttle.failed(tenant, "ann", "10.0.0.1");
            assert_eq!(throttle.check(tenant, "ann", "10.0.0.1"), None);
        }
        throttle.failed(tenant, "ann", "10.0.0.1");
        assert_eq!(throttle.check(tenant, "ann", "10.0.0.1"), Some(1));
        // Another IP is not delayed for this account until the account-wide allowance is used.
        assert_eq!(throttle.check(tenant, "ann", "10.0.0.2"), None);
        for _ in 0..40 {
            throttle.failed(tenant, "ann", "10.0.0.1");
        }
        let wait = throttle.check(tenant, "ann", "10.0.0.1").expect("delayed");
        assert!(wait <= MAX_LOCK.as_secs(), "never longer than the cap: {wait}");
        throttle.succeeded(tenant, "ann", "10.0.0.3");
        assert_eq!(throttle.check(tenant, "ann", "10.0.0.3"), None);
    }

    #[test]
    fn a_window_serves_its_limit_per_ip_and_purpose() {
        let windows = LocalWindows::default();
        let rate = Rate { limit: 3, window: Duration::from_secs(60) };
        for _ in 0..3 {
            assert_eq!(windows.spend("ceremony", "10.0.0.1", rate), None);
        }
        let wait = windows.spend("ceremony", "10.0.0.1", rate).expect("the fourth is refused");
        assert!((1..=60).contains(&wait), "until the window ends: {wait}");
        assert_eq!(windows.spend("ceremony", "10.0.0.2", rate), None, "another IP has its own window");
        assert_eq!(windows.spend("other", "10.0.0.1", rate), None, "another purpose too");
        // A window that has ended is forgotten: the next request starts a new one.
        let instant = Rate { limit: 1, window: Duration::ZERO };
        assert_eq!(windows.spend("instant", "10.0.0.1", instant), None);
        assert_eq!(windows.spend("instant", "10.0.0.1", instant), None);
        // Each window keeps its own length, whatever other purposes use.
        assert!(windows.spend("ceremony", "10.0.0.1", rate).is_some(), "still the same minute");
    }
}
