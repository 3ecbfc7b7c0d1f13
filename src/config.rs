//! Settings: built-in defaults, then a TOML file, then environment variables.
//!
//! Every key of the TOML file is the lowercase name of its environment variable
//! (`LISTEN_ADDR` ↔ `listen_addr`), so one table in the README documents both.
//! Unknown keys and bad values are errors that name the offending key.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A string that must never be printed: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Serialized as `[redacted]`: settings can be dumped without leaking secrets.
impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A configuration problem, reported as one line naming the key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database_url: Secret,
    pub database_max_connections: u32,
    pub listen_addr: SocketAddr,
    pub public_url: Option<String>,
    pub jwt_secret: Option<Secret>,
    pub access_token_expire_minutes: i64,
    pub max_body_bytes: usize,

    pub github_api_url: String,
    pub github_web_url: String,
    pub github_tokens: Vec<Secret>,
    pub github_max_requests_per_minute: u32,
    pub github_max_concurrency: usize,
    pub github_client_id: Option<String>,
    pub github_client_secret: Option<Secret>,
    pub token_encryption_key: Option<Secret>,
    pub token_encryption_key_file: PathBuf,

    pub scheduler_enabled: bool,
    pub events_poll_interval_secs: u64,
    pub events_keep_per_repo: i64,
    /// The longest one repository's poll may take (all its pages); then it is abandoned,
    /// recorded as a failure and retried with back-off.
    pub events_poll_timeout_secs: u64,
    pub daily_stats_at: String,
    pub stats_interval_secs: Option<u64>,
    pub pull_sync_interval_secs: u64,
    pub pull_mirror_dir: PathBuf,

    pub rate_limit_enabled: bool,
    pub rate_limit_per_hour: u32,
    pub rate_limit_per_day: u32,
    pub sync_rate_limit_per_minute: u32,

    pub backup_dir: PathBuf,
    pub backup_keep: u32,
    pub backup_allowed_hosts: Vec<String>,
    pub backup_allow_local: bool,
    pub git_max_concurrency: usize,
    pub git_timeout_secs: u64,

    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: Secret::new("postgres://postgres@localhost:5432/gitpulse"),
            database_max_connections: 20,
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            jwt_secret: None,
            access_token_expire_minutes: 60,
            max_body_bytes: 4 * 1024 * 1024,
            github_api_url: "https://api.github.com".into(),
            github_web_url: "https://github.com".into(),
            github_tokens: Vec::new(),
            github_max_requests_per_minute: 720,
            github_max_concurrency: 8,
            github_client_id: None,
            github_client_secret: None,
            token_encryption_key: None,
            token_encryption_key_file: PathBuf::from("./data/token-encryption.key"),
            scheduler_enabled: true,
            events_poll_interval_secs: 300,
            events_keep_per_repo: 500,
            events_poll_timeout_secs: 120,
            daily_stats_at: "00:10".into(),
            stats_interval_secs: None,
            pull_sync_interval_secs: 300,
            pull_mirror_dir: PathBuf::from("./data/mirrors"),
            rate_limit_enabled: true,
            rate_limit_per_hour: 1000,
            rate_limit_per_day: 10_000,
            sync_rate_limit_per_minute: 100,
            backup_dir: PathBuf::from("./data/backups"),
            backup_keep: 30,
            backup_allowed_hosts: vec!["github.com".into()],
            backup_allow_local: false,
            git_max_concurrency: 4,
            git_timeout_secs: 300,
            cors_origins: Vec::new(),
            log_format: LogFormat::Text,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(self.database_url.expose()))
            .field("listen_addr", &self.listen_addr)
            .field("public_url", &self.public_url())
            .field("github_api_url", &self.github_api_url)
            .field("github_web_url", &self.github_web_url)
            .field("github_tokens", &self.github_tokens.len())
            .field("rate_limit_enabled", &self.rate_limit_enabled)
            .finish_non_exhaustive()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:[redacted]@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:[redacted]@{host}"),
        None => url.to_string(),
    }
}

impl Config {
    /// Loads the settings the way `gitpulse serve` does: defaults, then the TOML file
    /// (`path`, else `GITPULSE_CONFIG`, else `./config.toml` if present), then the environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let file = match path {
            Some(p) => Some(p.to_path_buf()),
            None => match env("GITPULSE_CONFIG") {
                Some(p) => Some(PathBuf::from(p)),
                None => Some(PathBuf::from("config.toml")).filter(|p| p.exists()),
            },
        };
        let mut config = match file {
            Some(file) => Self::from_toml_file(&file)?,
            None => Self::default(),
        };
        config.apply_env(env)?;
        config.validate()?;
        Ok(config)
    }

    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        Self::from_toml(&text)
            .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))
    }

    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError(one_line(e.message())))
    }

    /// Overrides settings from environment variables, looked up through `env`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        macro_rules! set {
            ($field:ident, $name:literal, $parse:expr) => {
                if let Some(raw) = get($name) {
                    self.$field = $parse(raw.trim()).map_err(|e: String| {
                        ConfigError(format!("invalid value for {}: {e}", $name))
                    })?;
                }
            };
        }
        set!(database_url, "DATABASE_URL", secret);
        set!(database_max_connections, "DATABASE_MAX_CONNECTIONS", parse);
        set!(listen_addr, "LISTEN_ADDR", parse);
        set!(public_url, "PUBLIC_URL", |v: &str| Ok(Some(v.to_string())));
        set!(jwt_secret, "JWT_SECRET", |v| secret(v).map(Some));
        set!(
            access_token_expire_minutes,
            "ACCESS_TOKEN_EXPIRE_MINUTES",
            parse
        );
        set!(max_body_bytes, "MAX_BODY_BYTES", parse);
        set!(github_api_url, "GITHUB_API_URL", text);
        set!(github_web_url, "GITHUB_WEB_URL", text);
        set!(github_tokens, "GITHUB_TOKENS", |v: &str| Ok(list(v)
            .into_iter()
            .map(Secret::new)
            .collect()));
        set!(
            github_max_requests_per_minute,
            "GITHUB_MAX_REQUESTS_PER_MINUTE",
            parse
        );
        set!(github_max_concurrency, "GITHUB_MAX_CONCURRENCY", parse);
        set!(github_client_id, "GITHUB_CLIENT_ID", |v: &str| Ok(Some(
            v.to_string()
        )));
        set!(github_client_secret, "GITHUB_CLIENT_SECRET", |v| secret(v)
            .map(Some));
        set!(token_encryption_key, "TOKEN_ENCRYPTION_KEY", |v| secret(v)
            .map(Some));
        set!(
            token_encryption_key_file,
            "TOKEN_ENCRYPTION_KEY_FILE",
            |v: &str| Ok(PathBuf::from(v))
        );
        set!(scheduler_enabled, "SCHEDULER_ENABLED", boolean);
        set!(
            events_poll_interval_secs,
            "EVENTS_POLL_INTERVAL_SECS",
            parse
        );
        set!(events_keep_per_repo, "EVENTS_KEEP_PER_REPO", parse);
        set!(events_poll_timeout_secs, "EVENTS_POLL_TIMEOUT_SECS", parse);
        set!(daily_stats_at, "DAILY_STATS_AT", text);
        set!(stats_interval_secs, "STATS_INTERVAL_SECS", |v| parse(v)
            .map(Some));
        set!(pull_sync_interval_secs, "PULL_SYNC_INTERVAL_SECS", parse);
        set!(pull_mirror_dir, "PULL_MIRROR_DIR", |v: &str| Ok(
            PathBuf::from(v)
        ));
        set!(rate_limit_enabled, "RATE_LIMIT_ENABLED", boolean);
        set!(rate_limit_per_hour, "RATE_LIMIT_PER_HOUR", parse);
        set!(rate_limit_per_day, "RATE_LIMIT_PER_DAY", parse);
        set!(
            sync_rate_limit_per_minute,
            "SYNC_RATE_LIMIT_PER_MINUTE",
            parse
        );
        set!(backup_dir, "BACKUP_DIR", |v: &str| Ok(PathBuf::from(v)));
        set!(backup_keep, "BACKUP_KEEP", parse);
        set!(backup_allowed_hosts, "BACKUP_ALLOWED_HOSTS", |v| Ok(list(
            v
        )));
        set!(backup_allow_local, "BACKUP_ALLOW_LOCAL", boolean);
        set!(git_max_concurrency, "GIT_MAX_CONCURRENCY", parse);
        set!(git_timeout_secs, "GIT_TIMEOUT_SECS", parse);
        set!(cors_origins, "CORS_ORIGINS", |v| Ok(list(v)));
        set!(log_format, "LOG_FORMAT", |v: &str| match v {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("expected `text` or `json`, got `{other}`")),
        });
        Ok(())
    }

    /// Checks the relations between settings that parsing alone cannot see.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail =
            |key: &str, why: &str| Err(ConfigError(format!("invalid value for {key}: {why}")));
        let url = self.database_url.expose();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return fail("DATABASE_URL", "expected a postgres:// URL");
        }
        for (key, value) in [
            ("GITHUB_API_URL", &self.github_api_url),
            ("GITHUB_WEB_URL", &self.github_web_url),
        ] {
            if !(value.starts_with("http://") || value.starts_with("https://")) {
                return fail(key, "expected an http:// or https:// URL");
            }
        }
        if let Some(public) = &self.public_url
            && !(public.starts_with("http://") || public.starts_with("https://"))
        {
            return fail("PUBLIC_URL", "expected an http:// or https:// URL");
        }
        if !(1..=525_600).contains(&self.access_token_expire_minutes) {
            return fail(
                "ACCESS_TOKEN_EXPIRE_MINUTES",
                "must be between 1 and 525600",
            );
        }
        if let Some(secret) = &self.jwt_secret
            && secret.expose().len() < 32
        {
            return fail("JWT_SECRET", "must be at least 32 characters long");
        }
        if let Some(key) = &self.token_encryption_key
            && let Err(why) = crate::crypto::parse_key(key.expose())
        {
            return fail("TOKEN_ENCRYPTION_KEY", &why);
        }
        if self.database_max_connections == 0 {
            return fail("DATABASE_MAX_CONNECTIONS", "must be at least 1");
        }
        if self.max_body_bytes < 1024 {
            return fail("MAX_BODY_BYTES", "must be at least 1024");
        }
        if self.github_max_requests_per_minute == 0 || self.github_max_concurrency == 0 {
            return fail(
                "GITHUB_MAX_REQUESTS_PER_MINUTE / GITHUB_MAX_CONCURRENCY",
                "must be at least 1",
            );
        }
        if !(1..=100_000).contains(&self.events_keep_per_repo) {
            return fail("EVENTS_KEEP_PER_REPO", "must be between 1 and 100000");
        }
        if !(1..=240).contains(&self.events_poll_timeout_secs) {
            return fail("EVENTS_POLL_TIMEOUT_SECS", "must be between 1 and 240");
        }
        if parse_hh_mm(&self.daily_stats_at).is_none() {
            return fail("DAILY_STATS_AT", "expected a UTC time as HH:MM");
        }
        if self.stats_interval_secs == Some(0) {
            return fail("STATS_INTERVAL_SECS", "must be at least 1 (or unset)");
        }
        if self.rate_limit_per_hour == 0
            || self.rate_limit_per_day == 0
            || self.sync_rate_limit_per_minute == 0
        {
            return fail(
                "RATE_LIMIT_PER_HOUR / RATE_LIMIT_PER_DAY / SYNC_RATE_LIMIT_PER_MINUTE",
                "must be at least 1 (set RATE_LIMIT_ENABLED=false to switch limits off)",
            );
        }
        if self.pull_sync_interval_secs == 0 {
            return fail("PULL_SYNC_INTERVAL_SECS", "must be at least 1");
        }
        if self.backup_keep == 0 {
            return fail("BACKUP_KEEP", "must be at least 1");
        }
        if !(1..=1024).contains(&self.git_max_concurrency) {
            return fail("GIT_MAX_CONCURRENCY", "must be between 1 and 1024");
        }
        if !(1..=86_400).contains(&self.git_timeout_secs) {
            return fail("GIT_TIMEOUT_SECS", "must be between 1 and 86400");
        }
        Ok(())
    }

    /// How long one git command may run (`GIT_TIMEOUT_SECS`).
    pub fn git_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.git_timeout_secs)
    }

    /// The external base URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen_addr),
        }
    }
}

/// Parses `HH:MM` (24-hour clock) into hours and minutes.
pub fn parse_hh_mm(value: &str) -> Option<(u32, u32)> {
    let (h, m) = value.split_once(':')?;
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h < 24 && m < 60 && value.len() == 5).then_some((h, m))
}

fn parse<T: FromStr>(raw: &str) -> Result<T, String>
where
    T::Err: fmt::Display,
{
    raw.parse::<T>().map_err(|e| format!("`{raw}`: {e}"))
}

fn text(raw: &str) -> Result<String, String> {
    Ok(raw.to_string())
}

fn secret(raw: &str) -> Result<Secret, String> {
    Ok(Secret::new(raw))
}

fn boolean(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got `{raw}`")),
    }
}

fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_match_the_design() {
        let c = Config::default();
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url(), "http://127.0.0.1:8080");
        assert_eq!(c.events_keep_per_repo, 500);
        assert_eq!(c.github_max_requests_per_minute, 720);
        assert_eq!(c.git_max_concurrency, 4);
        assert_eq!(c.git_timeout_secs, 300);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c =
            Config::from_toml("listen_addr = \"127.0.0.1:9000\"\nrate_limit_per_hour = 15\n")
                .expect("valid toml");
        c.apply_env(env_of(&[
            ("LISTEN_ADDR", "0.0.0.0:7000"),
            ("GITHUB_TOKENS", "a, b ,,c"),
            ("RATE_LIMIT_ENABLED", "off"),
        ]))
        .expect("valid env");
        assert_eq!(c.listen_addr.to_string(), "0.0.0.0:7000");
        assert_eq!(c.rate_limit_per_hour, 15);
        assert_eq!(c.github_tokens.len(), 3);
        assert!(!c.rate_limit_enabled);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let err = Config::from_toml("listen_adr = \"x\"").expect_err("unknown key");
        assert!(err.to_string().contains("listen_adr"), "{err}");
        let mut c = Config::default();
        let err = c
            .apply_env(env_of(&[("EVENTS_POLL_INTERVAL_SECS", "soon")]))
            .expect_err("bad number");
        assert!(
            err.to_string().contains("EVENTS_POLL_INTERVAL_SECS"),
            "{err}"
        );
        c.daily_stats_at = "25:00".into();
        let err = c.validate().expect_err("bad time");
        assert!(err.to_string().contains("DAILY_STATS_AT"), "{err}");
    }

    #[test]
    fn secrets_are_redacted() {
        let c = Config {
            database_url: Secret::new("postgres://u:hunter2@db/x"),
            jwt_secret: Some(Secret::new("s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t")),
            ..Config::default()
        };
        let shown = format!("{c:?} {:?}", c.jwt_secret);
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        assert!(shown.contains("postgres://u:[redacted]@db/x"));
    }

    #[test]
    fn hh_mm_parsing() {
        assert_eq!(parse_hh_mm("00:10"), Some((0, 10)));
        assert_eq!(parse_hh_mm("23:59"), Some((23, 59)));
        assert_eq!(parse_hh_mm("24:00"), None);
        assert_eq!(parse_hh_mm("7:00"), None);
    }
}
