//! The backup worker's place among the background jobs; the work itself is
//! `backups::worker`.

use std::time::Duration;

use crate::backups::worker::{POLL_PERIOD, drain_queue};
use crate::config::Config;
use crate::state::AppState;

/// The worker: drains the queue every [`POLL_PERIOD`], and at once when this process's
/// webhook queues a backup.
pub struct BackupWorker;

impl super::Job for BackupWorker {
    const NAME: &'static str = "backups";

    fn period(_: &Config) -> Duration {
        POLL_PERIOD
    }

    async fn run_once(state: &AppState) {
        drain_queue(state).await;
        // Until the next poll, a webhook of this process wakes the worker at once.
        // The round lasts a whole period, so the next one starts right after it.
        let next_poll = tokio::time::Instant::now() + POLL_PERIOD;
        loop {
            tokio::select! {
                () = state.backup_wakeup.notified() => drain_queue(state).await,
                () = state.shutdown.cancelled() => break,
                () = tokio::time::sleep_until(next_poll) => break,
            }
        }
    }
}
