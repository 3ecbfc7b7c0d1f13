//! The polling tokens' request counts are kept in this process's memory (`GitHubClient`)
//! and written out every few seconds: even when the scheduler is off, since no other
//! process can write them.

use std::time::Duration;

use super::Job;
use crate::config::Config;
use crate::github_budget;
use crate::state::AppState;

pub struct GitHubUsageFlush;

impl Job for GitHubUsageFlush {
    const NAME: &'static str = "github_usage";
    const ALWAYS_ON: bool = true;

    fn period(_: &Config) -> Duration {
        Duration::from_secs(5)
    }

    async fn run_once(state: &AppState) {
        if let Err(e) = github_budget::flush(state).await {
            tracing::warn!(error = %e, "writing GitHub token usage failed");
        }
    }
}
