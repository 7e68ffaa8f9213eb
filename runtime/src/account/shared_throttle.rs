//! The sign-in throttle's records in Redis, so every replica counts the same failures (and the
//! same requests, for per-IP request windows: a counter that expires with its window). Each
//! record is a hash (`f`: failures, `u`: locked until, in the server's milliseconds) that expires
//! [`FORGET_AFTER`] after its last failure; updates are Lua scripts, atomic on the server, and
//! use the server's clock, so replicas with skewed clocks agree. Keys carry digests of the login
//! name and IP, never the names themselves.

use redis::Script;
use redis::aio::ConnectionManager;

use super::throttle::{ACCOUNT_FREE, FORGET_AFTER, IP_FREE, Key, MAX_LOCK, PAIR_FREE, Rate};
use crate::error::ApiError;

/// A connection to the shared store and the prefix of this deployment's keys.
pub(super) struct SharedThrottle {
    connection: ConnectionManager,
    prefix: String,
}

/// Adds one failure to each record (KEYS) and locks those past their allowance (ARGV[1..3]) for
/// 2^(failures - allowance) seconds, capped at ARGV[4] ms; ARGV[5] is the records' lifetime (ms).
const FAILED: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
for i, key in ipairs(KEYS) do
  local failures = redis.call('HINCRBY', key, 'f', 1)
  local free = tonumber(ARGV[i])
  if failures >= free then
    local delay = math.min(1000 * 2 ^ math.min(failures - free, 10), tonumber(ARGV[4]))
    redis.call('HSET', key, 'u', now + delay)
  end
  redis.call('PEXPIRE', key, ARGV[5])
end
return 1
";

/// The longest wait (ms) any of the records (KEYS) still imposes; 0 for none.
const CHECK: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local wait = 0
for _, key in ipairs(KEYS) do
  local until_ms = tonumber(redis.call('HGET', key, 'u') or '0')
  if until_ms - now > wait then wait = until_ms - now end
end
return wait
";

/// Counts one request in the window KEYS[1], which starts with its first request and lasts
/// ARGV[2] ms: the ms left in the window when the count is past ARGV[1], else 0.
const SPEND: &str = r"
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
if count > tonumber(ARGV[1]) then return math.max(left, 1) end
return 0
";

impl SharedThrottle {
    /// The seconds until `key`'s window for `purpose` ends when this request is past `rate`.
    pub(super) async fn spend(&self, purpose: &str, key: &str, rate: Rate) -> Result<Option<u64>, ApiError> {
        let mut connection = self.connection.clone();
        let name = format!("{}rate:{purpose}:{}", self.prefix, crate::secret::digest(key));
        let window_ms = u64::try_from(rate.window.as_millis()).unwrap_or(u64::MAX).max(1);
        let wait_ms: i64 = Script::new(SPEND)
            .key(name)
            .arg(rate.limit)
            .arg(window_ms)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok((wait_ms > 0).then(|| (wait_ms as u64).div_ceil(1000).max(1)))
    }

    pub(super) async fn connect(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let connection =
            ConnectionManager::new(client).await.map_err(|e| format!("cannot connect to Redis at {url}: {e}"))?;
        Ok(Self { connection, prefix: prefix.to_owned() })
    }

    /// The seconds the longest lock on `keys` still lasts, if any.
    pub(super) async fn check(&self, keys: &[Key; 3]) -> Result<Option<u64>, ApiError> {
        let mut connection = self.connection.clone();
        let wait_ms: i64 =
            Script::new(CHECK).key(self.names(keys)).invoke_async(&mut connection).await.map_err(unavailable)?;
        Ok((wait_ms > 0).then(|| (wait_ms as u64).div_ceil(1000).max(1)))
    }

    pub(super) async fn failed(&self, keys: &[Key; 3]) -> Result<(), ApiError> {
        let mut connection = self.connection.clone();
        let _: i64 = Script::new(FAILED)
            .key(self.names(keys))
            .arg(PAIR_FREE)
            .arg(ACCOUNT_FREE)
            .arg(IP_FREE)
            .arg(MAX_LOCK.as_millis() as u64)
            .arg(FORGET_AFTER.as_millis() as u64)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Clears the (account, IP) and account records, as the in-process throttle does.
    pub(super) async fn succeeded(&self, keys: &[Key; 3]) -> Result<(), ApiError> {
        let mut connection = self.connection.clone();
        let names = self.names(keys);
        redis::cmd("DEL").arg(&names[..2]).query_async::<i64>(&mut connection).await.map_err(unavailable)?;
        Ok(())
    }

    fn names(&self, keys: &[Key; 3]) -> Vec<String> {
        keys.iter()
            .map(|key| {
                let (kind, parts) = match key {
                    Key::Pair(tenant, account, ip) => ("pair", format!("{tenant}\0{account}\0{ip}")),
                    Key::Account(tenant, account) => ("account", format!("{tenant}\0{account}")),
                    Key::Ip(ip) => ("ip", ip.clone()),
                };
                format!("{}throttle:{kind}:{}", self.prefix, crate::secret::digest(&parts))
            })
            .collect()
    }
}

/// The shared store is an infrastructure dependency: its failure is a 503, not a sign-in verdict.
fn unavailable(error: redis::RedisError) -> ApiError {
    tracing::error!(%error, "Redis (sign-in throttle) failed");
    ApiError::unavailable("the sign-in rate limit store is unavailable; retry shortly", 1)
}
