//! API key usage is counted in this process's memory (`ApiKeyAuth`) and written out every
//! few seconds: even when the scheduler is off, since no other process can write it.

use std::time::Duration;

use super::Job;
use crate::config::Config;
use crate::state::AppState;

pub struct KeyUsageFlush;

impl Job for KeyUsageFlush {
    const NAME: &'static str = "api_key_usage";
    const ALWAYS_ON: bool = true;

    fn period(_: &Config) -> Duration {
        Duration::from_secs(5)
    }

    async fn run_once(state: &AppState) {
        if let Err(e) = state.api_keys.flush_usage(&state.db).await {
            tracing::warn!(error = %e, "writing API key usage failed");
        }
    }
}
