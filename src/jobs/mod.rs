//! Background work: one scheduler per process. Each kind of work is a loop started here
//! that claims its items from PostgreSQL (`FOR UPDATE SKIP LOCKED`), so any number of
//! replicas share one database without doing anything twice. Every loop stops when the
//! state's shutdown token is cancelled; `launch` waits for them before exiting.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

pub mod backups;
pub mod daily_stats;
pub mod integration_sync;
pub mod poller;
pub mod pull_sync;

/// Starts every background loop of this process (none when `SCHEDULER_ENABLED=false`).
pub fn start(state: &AppState) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    // API key usage is counted in this process's memory: it is written out even when the
    // scheduler is off.
    spawn_key_usage_flush(&mut tasks, state);
    if !state.config.scheduler_enabled {
        tracing::info!("background jobs are disabled (SCHEDULER_ENABLED=false)");
        return tasks;
    }
    let poller_state = state.clone();
    spawn_periodic(
        &mut tasks,
        "event-poller",
        poller::TICK,
        state.shutdown.clone(),
        move || poller::tick(poller_state.clone()),
    );
    backups::spawn(&mut tasks, state);
    daily_stats::spawn(&mut tasks, state);
    spawn_pull_sync(&mut tasks, state);
    tasks
}

/// `pull` repositories are fetched every `PULL_SYNC_INTERVAL_SECS`; API key usage
/// gathered in memory is written every few seconds.
fn spawn_pull_sync(tasks: &mut JoinSet<()>, state: &AppState) {
    let pull_state = state.clone();
    let period = Duration::from_secs(state.config.pull_sync_interval_secs.max(1));
    spawn_periodic(
        tasks,
        "pull_sync",
        period,
        state.shutdown.clone(),
        move || {
            let state = pull_state.clone();
            async move {
                if let Err(e) = pull_sync::run_due(&state).await {
                    tracing::warn!(error = %e, "pull sync round failed");
                }
            }
        },
    );
}

fn spawn_key_usage_flush(tasks: &mut JoinSet<()>, state: &AppState) {
    let usage_state = state.clone();
    spawn_periodic(
        tasks,
        "api_key_usage",
        Duration::from_secs(5),
        state.shutdown.clone(),
        move || {
            let state = usage_state.clone();
            async move {
                if let Err(e) = state.api_keys.flush_usage(&state.db).await {
                    tracing::warn!(error = %e, "writing API key usage failed");
                }
            }
        },
    );
}

/// Runs `tick` now and then every `period` until `shutdown` is cancelled. A tick that is
/// running when shutdown comes is allowed to finish (it should watch the token itself
/// if it can take long).
pub fn spawn_periodic<F, Fut>(
    tasks: &mut JoinSet<()>,
    name: &'static str,
    period: Duration,
    shutdown: CancellationToken,
    mut tick: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tasks.spawn(async move {
        tracing::info!(
            job = name,
            every_secs = period.as_secs_f64(),
            "background job started"
        );
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = interval.tick() => tick().await,
            }
        }
        tracing::info!(job = name, "background job stopped");
    });
}

/// Waits for the background loops to stop, at most `grace`; the rest are aborted.
pub async fn stop(mut tasks: JoinSet<()>, grace: Duration) {
    let drained =
        tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!("background jobs did not stop within {grace:?}; aborting them");
        tasks.abort_all();
    }
}
