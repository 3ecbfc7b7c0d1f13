//! Star history back to a repository's creation, from GitHub's
//! `GET /repos/{owner}/{repo}/stargazers/history` (stars gained per week, current
//! stargazers only). Scheduled by `jobs::star_history`; the SQL is `store::star_history`.
//!
//! Each round leases the repositories whose history is due (new ones are due at once; the
//! loaded ones daily) and loads them a few at a time (`load`): page 1 with its stored ETag
//! (a 304 costs nothing and ends the refresh), else the current `stargazers_count` and as
//! many further pages as needed, then one statement stores every day's cumulative count
//! (`source = 'backfill'`, never over a daily snapshot). No database connection is held
//! across a GitHub call; every call has a deadline ([`CALL_DEADLINE`]).
//!
//! Failures stay with their repository: no history (404, 403) marks it `unavailable` and
//! it is asked again a day later; transient errors back off (5 minutes, doubling, at most a
//! day); a rate limit waits for its reset.

use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::github::GitHubError;
use crate::state::AppState;
use crate::store::star_history::{self as store, Backfill, StarHistoryTarget};

mod load;
mod series;

use load::{LoadError, Loaded};

/// How often the job looks for due repositories (a cheap query when none is).
const TICK: Duration = Duration::from_secs(15);
/// The deadline of one GitHub call (retries and rate-limit waits of the client included).
pub const CALL_DEADLINE: Duration = Duration::from_secs(60);
/// A lease outlives one call; it is renewed after every page.
const LEASE_SECS: i64 = 300;
/// Loaded and unavailable histories are asked again after a day.
const RECHECK_SECS: i64 = 86_400;
/// The first back-off after a transient error (doubles, at most [`RECHECK_SECS`]).
const FIRST_BACKOFF_SECS: i64 = 300;

/// How often the job looks for due repositories: every 15 s, or every
/// `STATS_INTERVAL_SECS` when that is shorter (demos, tests).
pub fn tick_period(config: &Config) -> Duration {
    match config.stats_interval_secs {
        Some(secs) => Duration::from_secs(secs.clamp(1, TICK.as_secs())),
        None => TICK,
    }
}

/// What a round did, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BackfillSummary {
    /// Histories loaded or refreshed (days stored).
    pub loaded: usize,
    /// Refreshes answered 304.
    pub not_modified: usize,
    pub unavailable: usize,
    pub failed: usize,
}

/// Loads every due history until none is due (or shutdown); nothing when
/// `STAR_HISTORY_ENABLED=false`.
pub async fn run_due(state: &AppState) -> Result<BackfillSummary, sqlx::Error> {
    let mut summary = BackfillSummary::default();
    if !state.config.star_history_enabled {
        return Ok(summary);
    }
    let slots = state.config.github_max_concurrency.max(1) as i64;
    while !state.shutdown.is_cancelled() {
        let targets = store::claim_due(&state.db, slots, LEASE_SECS).await?;
        if targets.is_empty() {
            break;
        }
        let mut loads = JoinSet::new();
        for target in targets {
            let state = state.clone();
            loads.spawn(async move {
                let result = load::load(&state, &target).await;
                (target, result)
            });
        }
        while let Some(joined) = loads.join_next().await {
            // A panicked load keeps its lease until it expires.
            let Ok((target, result)) = joined else {
                summary.failed += 1;
                continue;
            };
            record(state, &target, result, &mut summary).await?;
        }
    }
    Ok(summary)
}

async fn record(
    state: &AppState,
    target: &StarHistoryTarget,
    result: Result<Loaded, LoadError>,
    summary: &mut BackfillSummary,
) -> Result<(), sqlx::Error> {
    let db = &state.db;
    let now = Utc::now();
    let recheck = now + chrono::Duration::seconds(RECHECK_SECS);
    let outcome = match result {
        Ok(Loaded::NotModified) => {
            summary.not_modified += 1;
            store::record_not_modified(db, target.id, recheck).await?;
            "not_modified"
        }
        Ok(Loaded::History(history)) => {
            summary.loaded += 1;
            let backfill = Backfill {
                state: history.state,
                etag: history.etag.as_deref(),
                since: history.since,
                days: &history.days,
            };
            store::record_backfill(db, target.id, &backfill, recheck).await?;
            history.state
        }
        Err(LoadError::GitHub(
            error @ (GitHubError::NotFound | GitHubError::Status { status: 403, .. }),
        )) => {
            summary.unavailable += 1;
            tracing::info!(repository = %full_name(target), %error, "no star history on GitHub; asking again in a day");
            store::record_unavailable(db, target.id, &error.to_string(), recheck).await?;
            "unavailable"
        }
        Err(LoadError::Interrupted) => {
            store::record_failure(db, target.id, "interrupted by shutdown", false, now).await?;
            "interrupted"
        }
        Err(LoadError::GitHub(GitHubError::RateLimited { until })) => {
            summary.failed += 1;
            let message = format!("GitHub rate limit reached until {until}");
            store::record_failure(db, target.id, &message, false, until.max(now)).await?;
            "rate_limited"
        }
        Err(error) => {
            summary.failed += 1;
            tracing::warn!(repository = %full_name(target), %error, "loading the star history failed");
            let next = now + backoff(target.failures + 1);
            store::record_failure(db, target.id, &error.to_string(), true, next).await?;
            "failed"
        }
    };
    state
        .metrics
        .increment("gitpulse_star_history_loads_total", &[("outcome", outcome)]);
    Ok(())
}

/// The wait after the `failures`-th transient error in a row.
fn backoff(failures: i32) -> chrono::Duration {
    let exponent = failures.clamp(1, 20) as u32 - 1;
    let secs = FIRST_BACKOFF_SECS.saturating_mul(2i64.saturating_pow(exponent));
    chrono::Duration::seconds(secs.min(RECHECK_SECS))
}

fn full_name(target: &StarHistoryTarget) -> String {
    format!("{}/{}", target.owner, target.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_back_off_up_to_a_day() {
        assert_eq!(backoff(1).num_seconds(), 300);
        assert_eq!(backoff(2).num_seconds(), 600);
        assert_eq!(backoff(9).num_seconds(), 76_800);
        assert_eq!(backoff(10).num_seconds(), RECHECK_SECS);
        assert_eq!(backoff(1000).num_seconds(), RECHECK_SECS);
    }
}
