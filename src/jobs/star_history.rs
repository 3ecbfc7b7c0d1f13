//! The star history backfill's place among the background jobs; the work is `star_history`.

use std::time::Duration;

use super::Job;
use crate::config::Config;
use crate::star_history::{run_due, tick_period};
use crate::state::AppState;

/// Loads the star history of newly tracked repositories and refreshes the others daily.
pub struct StarHistoryBackfill;

impl Job for StarHistoryBackfill {
    const NAME: &'static str = "star-history";

    fn period(config: &Config) -> Duration {
        tick_period(config)
    }

    async fn run_once(state: &AppState) {
        match run_due(state).await {
            Ok(summary) if summary != Default::default() => {
                tracing::info!(?summary, "star history round finished");
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "star history round failed"),
        }
    }
}
