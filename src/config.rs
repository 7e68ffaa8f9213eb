//! Settings, from (strongest first) command-line flags, `KEYGATE_*` environment variables, a TOML
//! config file, and built-in defaults that need no set-up.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use keygate_runtime::RuntimeConfig;
use serde::Deserialize;

/// Where the embedded default database lives, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://keygate-data/keygate.db?mode=rwc";
/// Default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The config file's keys and what each sets: the one list that `--config`'s help prints and
/// that the README's configuration table is tested against.
pub const FILE_KEYS: [(&str, &str); 14] = [
    ("bind", "listen address, host:port (a name such as localhost:8080 or an IP literal)"),
    ("database_url", "sqlite://path/to/file.db?mode=rwc or postgres://user@host/db"),
    ("admin_token", "the bootstrap admin credential"),
    ("workers", "HTTP worker threads"),
    ("bcrypt_cost", "bcrypt cost of password hashes, 4 to 31"),
    ("body_limit", "largest request body, in bytes"),
    ("master_key", "master key sealing private signing keys: 32 bytes, base64url"),
    ("master_key_file", "where a development master key is kept"),
    ("public_url", "public base URL; tenant issuers are {public_url}/{tenant}"),
    ("redis_url", "Redis shared by replicas for sign-in throttling, e.g. redis://127.0.0.1:6379"),
    ("trusted_proxies", "IP addresses of reverse proxies whose Forwarded / X-Forwarded-For give the client address"),
    ("shutdown_timeout", "seconds in-flight requests get to finish after SIGTERM or SIGINT"),
    (
        "smtp_url",
        "SMTP server for outgoing mail, e.g. smtps://user:password@mail.example:465; without it mail is only logged",
    ),
    ("mail_from", "sender of outgoing mail, e.g. \"Acme <noreply@acme.example>\""),
];

/// The long help of `--config`, listing [`FILE_KEYS`].
pub fn config_file_help() -> String {
    let mut help = String::from("TOML config file. Keys (flags and environment variables win over them):\n");
    for (key, meaning) in FILE_KEYS {
        help.push_str(&format!("  {key}: {meaning}\n"));
    }
    help
}

/// A listen address as written (`localhost:8080`, `0.0.0.0:80`, `[::1]:8080`), checked to
/// resolve to at least one socket address.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct BindAddress(String);

impl BindAddress {
    /// The addresses it resolves to now (a name may resolve to IPv4 and IPv6 loopback).
    pub fn resolve(&self) -> anyhow::Result<Vec<SocketAddr>> {
        let addresses: Vec<SocketAddr> = self
            .0
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve the listen address `{}` (write host:port)", self.0))?
            .collect();
        anyhow::ensure!(!addresses.is_empty(), "the listen address `{}` resolves to no address", self.0);
        Ok(addresses)
    }
}

impl TryFrom<String> for BindAddress {
    type Error = anyhow::Error;

    fn try_from(value: String) -> anyhow::Result<Self> {
        let address = Self(value.trim().to_owned());
        address.resolve()?;
        Ok(address)
    }
}

impl std::str::FromStr for BindAddress {
    type Err = anyhow::Error;

    fn from_str(value: &str) -> anyhow::Result<Self> {
        Self::try_from(value.to_owned())
    }
}

impl std::fmt::Display for BindAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything `keygate serve` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address.
    pub bind: BindAddress,
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    /// Admin token from configuration; when absent one is generated on first start.
    pub admin_token: Option<String>,
    /// HTTP worker threads.
    pub workers: usize,
    /// Runtime settings (bcrypt cost, body limit, lifetimes).
    pub runtime: RuntimeConfig,
    /// Base64url master key sealing private signing keys; when absent, `master_key_file`.
    pub master_key: Option<String>,
    /// Where a development master key is kept (created with mode 0600 when missing).
    pub master_key_file: PathBuf,
    /// Redis shared by replicas (sign-in throttling); `None` keeps that state in process.
    pub redis_url: Option<String>,
    /// How long in-flight requests may take to finish once a shutdown signal arrives.
    pub shutdown_timeout: Duration,
    /// SMTP server for outgoing mail; `None` writes messages to the log instead.
    pub smtp_url: Option<String>,
    /// Sender of outgoing mail.
    pub mail_from: String,
}

/// Default location of the generated development master key.
pub const DEFAULT_MASTER_KEY_FILE: &str = "keygate-data/master.key";

/// Default grace period for in-flight requests on shutdown, in seconds (below the 30 s after
/// which Kubernetes and systemd send SIGKILL).
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 25;

/// The config file's shape; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// Listen address.
    pub bind: Option<BindAddress>,
    /// Database URL.
    pub database_url: Option<String>,
    /// Admin token.
    pub admin_token: Option<String>,
    /// Worker threads.
    pub workers: Option<usize>,
    /// bcrypt cost (4 to 31).
    pub bcrypt_cost: Option<u32>,
    /// Largest request body in bytes.
    pub body_limit: Option<usize>,
    /// Master key (base64url, 32 bytes).
    pub master_key: Option<String>,
    /// Master key file for development.
    pub master_key_file: Option<PathBuf>,
    /// Public base URL.
    pub public_url: Option<String>,
    /// Redis for state shared by replicas.
    pub redis_url: Option<String>,
    /// Reverse proxies whose forwarding headers are believed.
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    /// Shutdown grace period in seconds.
    pub shutdown_timeout: Option<u64>,
    /// SMTP server URL.
    pub smtp_url: Option<String>,
    /// Sender of outgoing mail.
    pub mail_from: Option<String>,
}

impl FileSettings {
    /// Reads a TOML config file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// Values given on the command line or in the environment (clap merges those two).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--bind` / `KEYGATE_BIND`.
    pub bind: Option<BindAddress>,
    /// `--database-url` / `KEYGATE_DATABASE_URL`.
    pub database_url: Option<String>,
    /// `KEYGATE_ADMIN_TOKEN`.
    pub admin_token: Option<String>,
    /// `--workers` / `KEYGATE_WORKERS`.
    pub workers: Option<usize>,
    /// `--bcrypt-cost` / `KEYGATE_BCRYPT_COST`.
    pub bcrypt_cost: Option<u32>,
    /// `KEYGATE_MASTER_KEY`.
    pub master_key: Option<String>,
    /// `--public-url` / `KEYGATE_PUBLIC_URL`.
    pub public_url: Option<String>,
    /// `--redis-url` / `KEYGATE_REDIS_URL`.
    pub redis_url: Option<String>,
    /// `--shutdown-timeout` / `KEYGATE_SHUTDOWN_TIMEOUT`, in seconds.
    pub shutdown_timeout: Option<u64>,
    /// `--smtp-url` / `KEYGATE_SMTP_URL`.
    pub smtp_url: Option<String>,
    /// `--mail-from` / `KEYGATE_MAIL_FROM`.
    pub mail_from: Option<String>,
}

impl Settings {
    /// Layers overrides over the file over defaults, and checks the result.
    pub fn resolve(overrides: Overrides, file: FileSettings) -> anyhow::Result<Self> {
        let defaults = RuntimeConfig::default();
        let bcrypt_cost = overrides.bcrypt_cost.or(file.bcrypt_cost).unwrap_or(defaults.bcrypt_cost);
        anyhow::ensure!((4..=31).contains(&bcrypt_cost), "bcrypt cost must be between 4 and 31, not {bcrypt_cost}");
        let workers = overrides
            .workers
            .or(file.workers)
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        anyhow::ensure!(workers > 0, "workers must be at least 1");
        let bind = match overrides.bind.or(file.bind) {
            Some(bind) => bind,
            None => DEFAULT_BIND.parse()?,
        };
        let public_url = overrides.public_url.or(file.public_url).unwrap_or_else(|| format!("http://{bind}"));
        anyhow::ensure!(
            public_url.starts_with("https://") || public_url.starts_with("http://"),
            "the public URL must be an http(s) URL, not `{public_url}`"
        );
        let public_url = public_url.trim_end_matches('/').to_owned();
        let mail_from = overrides.mail_from.or(file.mail_from).filter(|m| !m.trim().is_empty());
        let mail_from = mail_from.unwrap_or_else(|| format!("Keygate <noreply@{}>", host_of(&public_url)));
        Ok(Self {
            bind,
            database_url: overrides
                .database_url
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            admin_token: overrides.admin_token.or(file.admin_token).filter(|t| !t.trim().is_empty()),
            workers,
            runtime: RuntimeConfig {
                bcrypt_cost,
                body_limit: file.body_limit.unwrap_or(defaults.body_limit),
                public_url,
                trusted_proxies: file.trusted_proxies.unwrap_or_default(),
                ..defaults
            },
            master_key: overrides.master_key.or(file.master_key).filter(|k| !k.trim().is_empty()),
            master_key_file: file.master_key_file.unwrap_or_else(|| PathBuf::from(DEFAULT_MASTER_KEY_FILE)),
            redis_url: overrides.redis_url.or(file.redis_url).filter(|u| !u.trim().is_empty()),
            shutdown_timeout: Duration::from_secs(
                overrides.shutdown_timeout.or(file.shutdown_timeout).unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT_SECS),
            ),
            smtp_url: overrides.smtp_url.or(file.smtp_url).filter(|u| !u.trim().is_empty()),
            mail_from,
        })
    }
}

/// The host of an http(s) URL, without port or path (`localhost` when there is none).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.split(':').next().unwrap_or(authority),
    };
    if host.is_empty() { "localhost" } else { host }
}

/// Creates the directory of a `sqlite://` file database if it is missing.
pub fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
    let Some(rest) = url.strip_prefix("sqlite://") else { return Ok(()) };
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_environment_beat_the_file_which_beats_defaults() {
        let file: FileSettings = toml::from_str(
            r#"
bind = "0.0.0.0:9000"
database_url = "postgres://file@db/keygate"
bcrypt_cost = 10
body_limit = 1024
trusted_proxies = ["10.0.0.1", "::1"]
"#,
        )
        .unwrap();
        let overrides =
            Overrides { database_url: Some("sqlite://flag.db".into()), bcrypt_cost: Some(11), ..Overrides::default() };
        let settings = Settings::resolve(overrides, file).unwrap();
        assert_eq!(settings.bind.to_string(), "0.0.0.0:9000", "from the file");
        assert_eq!(settings.database_url, "sqlite://flag.db", "flag wins over file");
        assert_eq!(settings.runtime.bcrypt_cost, 11);
        assert_eq!(settings.runtime.body_limit, 1024);
        assert_eq!(
            settings.runtime.trusted_proxies,
            ["10.0.0.1".parse::<std::net::IpAddr>().unwrap(), "::1".parse().unwrap()]
        );
    }

    #[test]
    fn defaults_need_no_setup_and_bad_values_are_refused() {
        let settings = Settings::resolve(Overrides::default(), FileSettings::default()).unwrap();
        assert_eq!(settings.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(settings.bind.to_string(), DEFAULT_BIND);
        assert_eq!(settings.runtime.bcrypt_cost, 12);
        assert!(settings.admin_token.is_none());
        let too_cheap = Overrides { bcrypt_cost: Some(3), ..Overrides::default() };
        assert!(Settings::resolve(too_cheap, FileSettings::default()).is_err());
        assert!(toml::from_str::<FileSettings>("bnid = \"x\"").is_err(), "unknown keys are refused");
    }

    #[test]
    fn listen_addresses_may_be_names() {
        let bind: BindAddress = "localhost:8080".parse().unwrap();
        assert!(bind.resolve().unwrap().iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
        assert!("localhost".parse::<BindAddress>().is_err(), "a port is required");
        assert!("[::1]:80".parse::<BindAddress>().is_ok());
        let file: FileSettings = toml::from_str("bind = \"localhost:9000\"").unwrap();
        assert_eq!(file.bind.unwrap().to_string(), "localhost:9000");
    }

    /// Every key `FileSettings` reads is documented in [`FILE_KEYS`], and nothing else is.
    #[test]
    fn the_documented_keys_are_the_keys_read() {
        let fields: Vec<String> = format!("{:?}", FileSettings::default())
            .trim_start_matches("FileSettings {")
            .trim_end_matches('}')
            .split(',')
            .filter_map(|field| field.split(':').next().map(|name| name.trim().to_owned()))
            .filter(|name| !name.is_empty())
            .collect();
        let documented: Vec<&str> = FILE_KEYS.iter().map(|(key, _)| *key).collect();
        assert_eq!(fields, documented);
    }

    #[test]
    fn sqlite_directories_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/data/k.db?mode=rwc", dir.path().display());
        ensure_sqlite_dir(&url).unwrap();
        assert!(dir.path().join("nested/data").is_dir());
        ensure_sqlite_dir("postgres://x@y/z").unwrap();
    }
}
