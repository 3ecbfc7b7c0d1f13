//! The background resync of GitHub integrations: its place among the jobs; the schedule,
//! claims and back-off are `integration::schedule`.

use std::time::Duration;

use super::Job;
use crate::config::Config;
use crate::integration::schedule;
use crate::state::AppState;

/// Looks for due integrations every [`schedule::tick_period`] and syncs them.
pub struct IntegrationResync;

impl Job for IntegrationResync {
    const NAME: &'static str = "integration_resync";

    fn period(config: &Config) -> Duration {
        schedule::tick_period(config)
    }

    async fn run_once(state: &AppState) {
        let synced = schedule::run_due(state).await;
        if synced > 0 {
            tracing::debug!(synced, "background integration syncs done");
        }
    }
}
