//! The daily statistics scan's place among the background jobs; the scan itself is
//! `daily_stats`.

use std::time::Duration;

use chrono::Utc;

use super::Job;
use crate::config::Config;
use crate::daily_stats::{run_if_due, tick_period};
use crate::state::AppState;

/// The scheduler of the scan: checks every [`tick_period`] whether a run is due.
pub struct DailyStatsScan;

impl Job for DailyStatsScan {
    const NAME: &'static str = "daily-stats";

    fn period(config: &Config) -> Duration {
        tick_period(config)
    }

    async fn run_once(state: &AppState) {
        match run_if_due(state, Utc::now()).await {
            Ok(Some(summary)) => tracing::info!(?summary, "daily stats scan finished"),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "daily stats scan failed"),
        }
    }
}
