//! Settings: built-in defaults, then a TOML file, then environment variables.
//!
//! Every key of the TOML file is the lowercase name of its environment variable
//! (`LISTEN_ADDR` ↔ `listen_addr`), so one table in the README documents both.
//! Unknown keys and bad values are errors that name the offending key.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod env;
mod file;
mod paths;
mod validate;

pub use paths::{DataPaths, KEY_FILE_NAME, KeySource, default_data_dir};

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
    /// Where every file gitpulse writes goes unless its own setting says otherwise
    /// (`paths.rs`); `load` fills in the default.
    pub data_dir: Option<PathBuf>,

    pub github_api_url: String,
    pub github_web_url: String,
    pub github_tokens: Vec<Secret>,
    pub github_max_requests_per_minute: u32,
    pub github_max_concurrency: usize,
    pub github_client_id: Option<String>,
    pub github_client_secret: Option<Secret>,
    pub token_encryption_key: Option<Secret>,
    pub token_encryption_key_file: Option<PathBuf>,

    pub scheduler_enabled: bool,
    pub events_poll_interval_secs: u64,
    pub events_keep_per_repo: i64,
    /// The longest one repository's poll may take (all its pages); then it is abandoned,
    /// recorded as a failure and retried with back-off.
    pub events_poll_timeout_secs: u64,
    pub daily_stats_at: String,
    pub stats_interval_secs: Option<u64>,
    /// Backfill each tracked repository's daily stars back to its creation from GitHub's
    /// star history (`star_history`).
    pub star_history_enabled: bool,
    pub pull_sync_interval_secs: u64,
    /// Every GitHub integration is resynced (incrementally) this often in the background.
    pub integration_sync_interval_secs: u64,
    /// A background resync is a full pass (removing what GitHub no longer lists) this often.
    pub integration_full_sync_interval_secs: u64,
    pub pull_mirror_dir: Option<PathBuf>,

    pub rate_limit_enabled: bool,
    pub rate_limit_per_hour: u32,
    pub rate_limit_per_day: u32,
    pub sync_rate_limit_per_minute: u32,

    pub backup_dir: Option<PathBuf>,
    pub backup_keep: u32,
    pub backup_allowed_hosts: Vec<String>,
    pub backup_allow_local: bool,
    pub git_max_concurrency: usize,
    pub git_timeout_secs: u64,

    pub cors_origins: Vec<String>,
    /// Origins that "Sign in with GitHub" may redirect back to (`redirect_to`); empty means
    /// the CORS origins.
    pub frontend_urls: Vec<String>,
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
            data_dir: None,
            github_api_url: "https://api.github.com".into(),
            github_web_url: "https://github.com".into(),
            github_tokens: Vec::new(),
            github_max_requests_per_minute: 720,
            github_max_concurrency: 8,
            github_client_id: None,
            github_client_secret: None,
            token_encryption_key: None,
            token_encryption_key_file: None,
            scheduler_enabled: true,
            events_poll_interval_secs: 300,
            events_keep_per_repo: 500,
            events_poll_timeout_secs: 120,
            daily_stats_at: "00:10".into(),
            stats_interval_secs: None,
            star_history_enabled: true,
            pull_sync_interval_secs: 300,
            integration_sync_interval_secs: 3600,
            integration_full_sync_interval_secs: 7 * 86_400,
            pull_mirror_dir: None,
            rate_limit_enabled: true,
            rate_limit_per_hour: 1000,
            rate_limit_per_day: 10_000,
            sync_rate_limit_per_minute: 100,
            backup_dir: None,
            backup_keep: 30,
            backup_allowed_hosts: vec!["github.com".into()],
            backup_allow_local: false,
            git_max_concurrency: 4,
            git_timeout_secs: 300,
            cors_origins: Vec::new(),
            frontend_urls: Vec::new(),
            log_format: LogFormat::Text,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(self.database_url.expose()))
            .field("listen_addr", &self.listen_addr)
            .field("data_dir", &self.data_dir)
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
    /// (`path`, else `GITPULSE_CONFIG`, else `./config.toml` if present), then the environment;
    /// an unset `DATA_DIR` becomes `$XDG_DATA_HOME/gitpulse` or `$HOME/.local/share/gitpulse`.
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
        if config.data_dir.is_none() {
            config.data_dir = default_data_dir(env);
        }
        config.validate()?;
        Ok(config)
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

    /// The origins `redirect_to` may name: this server's own (`PUBLIC_URL`, where the
    /// dashboard is), then `FRONTEND_URLS`, else the CORS origins (`*`, which would make
    /// gitpulse an open redirect, is never one).
    pub fn frontend_origins(&self) -> Vec<String> {
        let entries = if self.frontend_urls.is_empty() {
            &self.cors_origins
        } else {
            &self.frontend_urls
        };
        let own = url::Url::parse(&self.public_url())
            .ok()
            .map(|url| url.origin().ascii_serialization())
            .filter(|origin| origin != "null");
        let mut origins: Vec<String> = own.into_iter().collect();
        for origin in entries
            .iter()
            .filter_map(|e| crate::auth::redirect::origin_of_setting(e).ok())
        {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins
    }
}

/// Parses `HH:MM` (24-hour clock) into hours and minutes.
pub fn parse_hh_mm(value: &str) -> Option<(u32, u32)> {
    let (h, m) = value.split_once(':')?;
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h < 24 && m < 60 && value.len() == 5).then_some((h, m))
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
    fn frontend_origins_default_to_the_cors_origins_but_never_a_wildcard() {
        let mut c = Config {
            cors_origins: vec!["https://app.example.com".into(), "*".into()],
            ..Config::default()
        };
        assert_eq!(
            c.frontend_origins(),
            ["http://127.0.0.1:8080", "https://app.example.com"]
        );
        c.apply_env(env_of(&[(
            "FRONTEND_URLS",
            "http://localhost:5173, https://dash.example.com/",
        )]))
        .expect("valid env");
        assert!(c.validate().is_ok());
        assert_eq!(
            c.frontend_origins(),
            [
                "http://127.0.0.1:8080",
                "http://localhost:5173",
                "https://dash.example.com"
            ]
        );
        // The dashboard's own origin is always one, whatever the setting's spelling.
        c.public_url = Some("https://Gitpulse.example.com:443/base/".into());
        assert_eq!(c.frontend_origins()[0], "https://gitpulse.example.com");
        c.frontend_urls = vec!["https://dash.example.com/login".into()];
        let err = c.validate().expect_err("a path is not an origin");
        assert!(err.to_string().contains("FRONTEND_URLS"), "{err}");
    }

    #[test]
    fn hh_mm_parsing() {
        assert_eq!(parse_hh_mm("00:10"), Some((0, 10)));
        assert_eq!(parse_hh_mm("23:59"), Some((23, 59)));
        assert_eq!(parse_hh_mm("24:00"), None);
        assert_eq!(parse_hh_mm("7:00"), None);
    }
}
