//! Background resyncs: every integration is synced again `INTEGRATION_SYNC_INTERVAL_SECS`
//! after its last sync (any sync, a requested one included, resets the timer), fully every
//! `INTEGRATION_FULL_SYNC_INTERVAL_SECS`. Due integrations are claimed one at a time with
//! the sync lease (`store::integrations::claim_due`, `FOR UPDATE SKIP LOCKED`), so replicas
//! never sync one twice. A token GitHub refuses (401) stops the background syncs of its
//! integration until the user signs in with GitHub again; other failures back off
//! exponentially, at most [`MAX_BACKOFF_SECS`] (or the interval, if longer).

use std::time::Duration;

use tokio::task::JoinSet;

use super::{ClaimedSync, SyncError};
use crate::config::Config;
use crate::state::AppState;
use crate::store::integrations::{self, Finish};

/// Background syncs running at once in one process.
pub const MAX_CONCURRENT_SYNCS: usize = 4;

/// The longest back-off after failures in a row (a day), unless the interval is longer.
pub const MAX_BACKOFF_SECS: u64 = 86_400;

/// What a sync that ended with `error` means for the schedule; `failures` is how many
/// syncs had failed in a row before it.
pub(super) fn finish<'a>(
    config: &Config,
    failures: i32,
    error: Option<(&SyncError, &'a str)>,
) -> Finish<'a> {
    let interval = config.integration_sync_interval_secs.max(1);
    let Some((error, message)) = error else {
        return Finish {
            error: None,
            next_in_secs: interval as f64,
            ..Finish::default()
        };
    };
    match error {
        // Shutdown stopped it: due again at once, not a failure.
        SyncError::Interrupted => Finish {
            error: Some(message),
            next_in_secs: 0.0,
            ..Finish::default()
        },
        e if needs_reconnect(e) => Finish {
            error: Some(message),
            next_in_secs: interval as f64,
            count_failure: true,
            needs_reconnect: true,
        },
        _ => Finish {
            error: Some(message),
            next_in_secs: backoff_secs(interval, failures.saturating_add(1)) as f64,
            count_failure: true,
            needs_reconnect: false,
        },
    }
}

/// GitHub refused the token (revoked, expired) or it cannot be decrypted: only signing in
/// with GitHub again helps.
pub(super) fn needs_reconnect(error: &SyncError) -> bool {
    matches!(error, SyncError::Token | SyncError::Revoked { .. })
}

/// The wait after `failures` failed syncs in a row: the interval doubled per failure, at
/// most a day (or the interval, if longer).
pub fn backoff_secs(interval: u64, failures: i32) -> u64 {
    let doublings = failures.clamp(0, 20).unsigned_abs();
    interval
        .saturating_mul(1u64 << doublings)
        .min(MAX_BACKOFF_SECS.max(interval))
}

/// How often the job looks for due integrations.
pub fn tick_period(config: &Config) -> Duration {
    Duration::from_secs(config.integration_sync_interval_secs.clamp(1, 30))
}

/// Claims due integrations and syncs them, [`MAX_CONCURRENT_SYNCS`] at a time, until none
/// is due (a slow sync never holds back the others). Returns how many syncs ran. A database
/// error stops the claiming; the syncs already running finish.
pub async fn run_due(state: &AppState) -> usize {
    let full_every = state.config.integration_full_sync_interval_secs.max(1) as f64;
    let mut running = JoinSet::new();
    let mut claiming = true;
    let mut done = 0;
    loop {
        while claiming && running.len() < MAX_CONCURRENT_SYNCS && !state.shutdown.is_cancelled() {
            match integrations::claim_due(&state.db, full_every).await {
                Ok(Some(integration)) => {
                    let sync = ClaimedSync::new(state, integration);
                    running.spawn(async move {
                        let id = sync.integration.id;
                        if let Err(e) = sync.run().await {
                            tracing::warn!(integration_id = id, error = %e, "background integration sync failed");
                        }
                    });
                }
                Ok(None) => claiming = false,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming due integration syncs failed");
                    claiming = false;
                }
            }
        }
        if running.join_next().await.is_none() {
            return done;
        }
        done += 1;
        // A slot is free: others may have become due meanwhile.
        claiming = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_and_is_capped() {
        assert_eq!(backoff_secs(3600, 1), 7200);
        assert_eq!(backoff_secs(3600, 2), 14_400);
        assert_eq!(backoff_secs(3600, 10), MAX_BACKOFF_SECS);
        assert_eq!(backoff_secs(1, 3), 8);
        // An interval longer than the cap is never shortened.
        assert_eq!(backoff_secs(200_000, 5), 200_000);
    }
}
