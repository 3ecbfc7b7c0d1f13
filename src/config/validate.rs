//! The relations between settings that parsing alone cannot see.

use super::{Config, ConfigError, parse_hh_mm};

impl Config {
    /// Checks the relations between settings that parsing alone cannot see.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
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
        if self.integration_sync_interval_secs == 0 {
            return fail("INTEGRATION_SYNC_INTERVAL_SECS", "must be at least 1");
        }
        if self.integration_full_sync_interval_secs == 0 {
            return fail("INTEGRATION_FULL_SYNC_INTERVAL_SECS", "must be at least 1");
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
        for entry in &self.frontend_urls {
            if let Err(why) = crate::auth::redirect::origin_of_setting(entry) {
                return fail("FRONTEND_URLS", &why);
            }
        }
        self.validate_paths()
    }
}
