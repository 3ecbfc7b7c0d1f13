//! Daily repository statistics, the whole feature: the scan (scheduled by
//! `jobs::daily_stats`), recording an account's counts at once when it is tracked
//! (`record_counts`, used by `PUT /v1/users`) and asking GitHub for counts (`record`).
//! The routes are in `http::accounts` and `http::history`, the SQL in `store::daily_stats`.
//!
//! The daily repository statistics scan.
//!
//! Once per UTC day after `DAILY_STATS_AT` (or once per `STATS_INTERVAL_SECS` period) one
//! replica claims the run in `scheduled_runs` and scans: it first refreshes the repository
//! list of every tracked account (conditional requests per page, so unchanged lists cost
//! nothing), then records today's stargazers, forks and watchers of every repository
//! someone tracks, directly or through an account. With a token it asks GraphQL for 100
//! repositories per request; without one it asks REST per repository with ETags (a 304
//! re-records the previous counts). Rows are upserts on (repository, date): reruns the
//! same day update them. A rate limit ends the run early; it is claimed again after the
//! reset and redoes the day.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::config::{Config, parse_hh_mm};
use crate::github::GitHubError;
use crate::github::users as gh;
use crate::state::AppState;
use crate::store::accounts::{self, AccountToRefresh};
use crate::store::daily_stats::{self, StatsTarget};

mod record;
mod track;

pub use track::{Tracked, track};

/// The `scheduled_runs.name` of the scan.
pub const RUN_NAME: &str = "daily-stats";
/// A claimed run is someone else's for this long unless renewed (it is, while working).
const LEASE_SECS: i64 = 600;
const RENEW_EVERY: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// What one scan did, for logs, tests and benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanSummary {
    pub accounts_refreshed: usize,
    pub repositories: usize,
    /// Rows written for the day (304s included).
    pub recorded: usize,
    pub not_modified: usize,
    /// Repositories GitHub no longer resolves.
    pub missing: usize,
    pub failed: usize,
    /// Set when GitHub's rate limit stopped the scan early.
    pub rate_limited_until: Option<DateTime<Utc>>,
}

impl ScanSummary {
    fn add(&mut self, other: ScanSummary) {
        self.recorded += other.recorded;
        self.not_modified += other.not_modified;
        self.missing += other.missing;
        self.failed += other.failed;
        self.rate_limited_until = self.rate_limited_until.or(other.rate_limited_until);
    }
}

/// How often the loop checks whether a scan is due.
pub fn tick_period(config: &Config) -> Duration {
    match config.stats_interval_secs {
        Some(secs) => Duration::from_secs(secs.clamp(1, 30)),
        None => Duration::from_secs(30),
    }
}

/// The run due at `now`, if any: its period key and the day it records.
pub fn due_period(config: &Config, now: DateTime<Utc>) -> Option<(String, NaiveDate)> {
    let today = now.date_naive();
    if let Some(secs) = config.stats_interval_secs.filter(|s| *s > 0) {
        let period = now.timestamp().div_euclid(secs as i64);
        return Some((format!("every-{secs}s-{period}"), today));
    }
    let (hour, minute) = parse_hh_mm(&config.daily_stats_at)?;
    let at = NaiveTime::from_hms_opt(hour, minute, 0)?;
    (now.time() >= at).then(|| (today.to_string(), today))
}

/// Runs the scan due at `now` if no replica has claimed it; `None` when nothing was run.
pub async fn run_if_due(
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<Option<ScanSummary>, ScanError> {
    let Some((period_key, date)) = due_period(&state.config, now) else {
        return Ok(None);
    };
    run_claimed(state, &period_key, date).await
}

/// Claims the run `period_key` and scans `date`; `None` if another replica has it or
/// it is done already.
pub async fn run_claimed(
    state: &AppState,
    period_key: &str,
    date: NaiveDate,
) -> Result<Option<ScanSummary>, ScanError> {
    if !daily_stats::claim_run(&state.db, RUN_NAME, period_key, LEASE_SECS).await? {
        return Ok(None);
    }
    daily_stats::prune_runs(&state.db, RUN_NAME).await?;
    let lease = Lease {
        period_key,
        renewed: std::sync::Mutex::new(Instant::now()),
    };
    let result = scan(state, date, Some(&lease)).await;
    let (finished, retry_secs, outcome) = match &result {
        // Stopped by shutdown part-way: another replica (or the next start) redoes it.
        Ok(_) if state.shutdown.is_cancelled() => (false, 0, "interrupted"),
        Ok(summary) => match summary.rate_limited_until {
            Some(until) => (
                false,
                (until - Utc::now()).num_seconds().max(1),
                "rate_limited",
            ),
            None => (true, 0, "finished"),
        },
        // Let another attempt happen in a minute.
        Err(_) => (false, 60, "failed"),
    };
    state
        .metrics
        .increment("gitpulse_daily_stats_scans_total", &[("outcome", outcome)]);
    daily_stats::end_run(&state.db, RUN_NAME, period_key, finished, retry_secs).await?;
    result.map(Some)
}

/// Scans `date` now, unconditionally (tests and manual runs; the loop uses `run_if_due`).
pub async fn run_daily_scan(state: &AppState, date: NaiveDate) -> Result<ScanSummary, ScanError> {
    scan(state, date, None).await
}

pub(crate) struct Lease<'a> {
    period_key: &'a str,
    renewed: std::sync::Mutex<Instant>,
}

impl Lease<'_> {
    pub(crate) async fn keep(&self, state: &AppState) -> Result<(), sqlx::Error> {
        let due = {
            let mut renewed = self.renewed.lock().unwrap_or_else(|p| p.into_inner());
            let due = renewed.elapsed() >= RENEW_EVERY;
            if due {
                *renewed = Instant::now();
            }
            due
        };
        if due {
            daily_stats::renew_run(&state.db, RUN_NAME, self.period_key, LEASE_SECS).await?;
        }
        Ok(())
    }
}

async fn scan(
    state: &AppState,
    date: NaiveDate,
    lease: Option<&Lease<'_>>,
) -> Result<ScanSummary, ScanError> {
    let mut summary = ScanSummary::default();
    for account in accounts::to_refresh(&state.db).await? {
        if state.shutdown.is_cancelled() {
            return Ok(summary);
        }
        match refresh_account(state, &account).await {
            Ok(_) => summary.accounts_refreshed += 1,
            Err(ScanError::GitHub(GitHubError::RateLimited { until })) => {
                summary.rate_limited_until = Some(until);
                return Ok(summary);
            }
            Err(ScanError::GitHub(error)) => {
                summary.failed += 1;
                tracing::warn!(login = %account.login, %error, "refreshing an account's repositories failed");
            }
            Err(error) => return Err(error),
        }
        if let Some(lease) = lease {
            lease.keep(state).await?;
        }
    }
    let targets = daily_stats::scan_targets(&state.db).await?;
    summary.repositories = targets.len();
    let recorded = record(state, targets, date, lease).await?;
    summary.add(recorded);
    Ok(summary)
}

/// Reloads the account's repository list (only the pages that changed) and stores it;
/// returns how many repositories the account has.
pub async fn refresh_account(
    state: &AppState,
    account: &AccountToRefresh,
) -> Result<i64, ScanError> {
    let listed = gh::user_repos(&state.github, &account.login, &account.repos_etags).await?;
    if listed.any_changed {
        Ok(
            accounts::store_repositories(&state.db, account.id, &listed.changed, &listed.etags)
                .await?,
        )
    } else {
        accounts::mark_refreshed(&state.db, account.id).await?;
        Ok(accounts::repository_count(&state.db, account.id).await?)
    }
}

/// Asks GitHub for the counts of `targets` and records them for `date`.
pub async fn record_counts(
    state: &AppState,
    targets: Vec<StatsTarget>,
    date: NaiveDate,
) -> Result<ScanSummary, ScanError> {
    record(state, targets, date, None).await
}

async fn record(
    state: &AppState,
    targets: Vec<StatsTarget>,
    date: NaiveDate,
    lease: Option<&Lease<'_>>,
) -> Result<ScanSummary, ScanError> {
    if state.config.github_tokens.is_empty() {
        record::record_over_rest(state, targets, date, lease).await
    } else {
        record::record_over_graphql(state, targets, date, lease).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("valid time")
            .with_timezone(&Utc)
    }

    #[test]
    fn daily_run_is_due_after_its_time_once_per_day() {
        let config = Config {
            daily_stats_at: "00:10".into(),
            ..Config::default()
        };
        assert_eq!(due_period(&config, at("2026-03-01T00:09:59Z")), None);
        let due = due_period(&config, at("2026-03-01T00:10:00Z")).expect("due");
        assert_eq!(due.0, "2026-03-01");
        assert_eq!(
            due_period(&config, at("2026-03-01T23:00:00Z")).map(|d| d.0),
            Some(due.0)
        );
    }

    #[test]
    fn interval_runs_have_one_key_per_period() {
        let config = Config {
            stats_interval_secs: Some(60),
            ..Config::default()
        };
        let a = due_period(&config, at("2026-03-01T10:00:05Z")).expect("due");
        let b = due_period(&config, at("2026-03-01T10:00:55Z")).expect("due");
        let c = due_period(&config, at("2026-03-01T10:01:00Z")).expect("due");
        assert_eq!(a, b);
        assert_ne!(a.0, c.0);
    }
}
