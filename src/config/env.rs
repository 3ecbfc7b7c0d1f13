//! Settings from environment variables: each variable overrides its file key.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::{Config, ConfigError, LogFormat, Secret};

impl Config {
    /// Overrides settings from environment variables, looked up through `env`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        macro_rules! set {
            ($field:ident, $name:literal, $parse:expr) => {
                if let Some(raw) = get($name) {
                    self.$field = $parse(raw.trim())
                        .map_err(|e: String| ConfigError(format!("{}: {e}", $name)))?;
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
        set!(data_dir, "DATA_DIR", path);
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
        set!(token_encryption_key_file, "TOKEN_ENCRYPTION_KEY_FILE", path);
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
        set!(star_history_enabled, "STAR_HISTORY_ENABLED", boolean);
        set!(pull_sync_interval_secs, "PULL_SYNC_INTERVAL_SECS", parse);
        set!(pull_mirror_dir, "PULL_MIRROR_DIR", path);
        set!(
            integration_sync_interval_secs,
            "INTEGRATION_SYNC_INTERVAL_SECS",
            parse
        );
        set!(
            integration_full_sync_interval_secs,
            "INTEGRATION_FULL_SYNC_INTERVAL_SECS",
            parse
        );
        set!(rate_limit_enabled, "RATE_LIMIT_ENABLED", boolean);
        set!(rate_limit_per_hour, "RATE_LIMIT_PER_HOUR", parse);
        set!(rate_limit_per_day, "RATE_LIMIT_PER_DAY", parse);
        set!(
            sync_rate_limit_per_minute,
            "SYNC_RATE_LIMIT_PER_MINUTE",
            parse
        );
        set!(backup_dir, "BACKUP_DIR", path);
        set!(backup_keep, "BACKUP_KEEP", parse);
        set!(backup_allowed_hosts, "BACKUP_ALLOWED_HOSTS", |v| Ok(list(
            v
        )));
        set!(backup_allow_local, "BACKUP_ALLOW_LOCAL", boolean);
        set!(git_max_concurrency, "GIT_MAX_CONCURRENCY", parse);
        set!(git_timeout_secs, "GIT_TIMEOUT_SECS", parse);
        set!(cors_origins, "CORS_ORIGINS", |v| Ok(list(v)));
        set!(frontend_urls, "FRONTEND_URLS", |v| Ok(list(v)));
        set!(log_format, "LOG_FORMAT", |v: &str| match v {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("expected `text` or `json`, got `{other}`")),
        });
        Ok(())
    }
}

fn parse<T: FromStr>(raw: &str) -> Result<T, String>
where
    T::Err: fmt::Display,
{
    raw.parse::<T>().map_err(|e| format!("{e} (got `{raw}`)"))
}

fn path(raw: &str) -> Result<Option<PathBuf>, String> {
    Ok(Some(PathBuf::from(raw)))
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

pub(super) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
