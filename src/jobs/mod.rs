//! Background work: one scheduler per process. A job is a type implementing [`Job`]
//! (a name, a period, one round of work), listed once in [`JOBS`]; [`start`] runs each
//! listed job now and then every period. Jobs claim their items from PostgreSQL (leases
//! taken in `store/`, `FOR UPDATE SKIP LOCKED`), so any number of replicas share one
//! database without doing anything twice. Every loop stops when the state's shutdown
//! token is cancelled; `launch` waits for them (and for the integration syncs requests
//! started in the background) before exiting.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::state::AppState;

pub mod backups;
pub mod daily_stats;
pub mod github_usage;
pub mod integration_sync;
pub mod key_usage;
pub mod poller;
pub mod pull_sync;
pub mod star_history;

/// One kind of background work.
pub trait Job {
    /// Names the job in logs.
    const NAME: &'static str;
    /// Runs even when `SCHEDULER_ENABLED=false` (work only this process can do).
    const ALWAYS_ON: bool = false;
    /// How long from the start of one round to the start of the next.
    fn period(config: &Config) -> Duration;
    /// One round. A round running when shutdown comes is allowed to finish: one that
    /// can take long watches `state.shutdown` itself.
    fn run_once(state: &AppState) -> impl Future<Output = ()> + Send;
}

/// Every background job of the process, in the order they start.
const JOBS: [Listed; 8] = [
    Listed::of::<key_usage::KeyUsageFlush>(),
    Listed::of::<github_usage::GitHubUsageFlush>(),
    Listed::of::<poller::EventPoller>(),
    Listed::of::<backups::BackupWorker>(),
    Listed::of::<daily_stats::DailyStatsScan>(),
    Listed::of::<pull_sync::PullSync>(),
    Listed::of::<star_history::StarHistoryBackfill>(),
    Listed::of::<integration_sync::IntegrationResync>(),
];

/// Starts the background jobs of this process (only the always-on ones when
/// `SCHEDULER_ENABLED=false`).
pub fn start(state: &AppState) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    let enabled = state.config.scheduler_enabled;
    for job in JOBS.iter().filter(|job| job.always_on || enabled) {
        job.spawn(&mut tasks, state);
    }
    if !enabled {
        tracing::info!("background jobs are disabled (SCHEDULER_ENABLED=false)");
    }
    tasks
}

type Round = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A [`Job`] as the table holds it.
struct Listed {
    name: &'static str,
    always_on: bool,
    period: fn(&Config) -> Duration,
    run_once: fn(AppState) -> Round,
}

impl Listed {
    const fn of<J: Job>() -> Self {
        Self {
            name: J::NAME,
            always_on: J::ALWAYS_ON,
            period: J::period,
            run_once: round::<J>,
        }
    }

    /// Runs the job now and then every period until shutdown. A round that is running
    /// when shutdown comes is allowed to finish.
    fn spawn(&self, tasks: &mut JoinSet<()>, state: &AppState) {
        let (name, run_once) = (self.name, self.run_once);
        let period = (self.period)(&state.config);
        let state = state.clone();
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
                    () = state.shutdown.cancelled() => break,
                    _ = interval.tick() => run_once(state.clone()).await,
                }
            }
            tracing::info!(job = name, "background job stopped");
        });
    }
}

fn round<J: Job>(state: AppState) -> Round {
    Box::pin(async move { J::run_once(&state).await })
}

/// Waits, at most `grace`, for the job loops and the work requests left running in
/// `background` (integration syncs, which stop at their next step once shutdown is
/// cancelled and record themselves interrupted). Job loops still running then are
/// aborted; the rest is left to the runtime's end (their leases expire).
pub async fn stop(mut jobs: JoinSet<()>, background: &TaskTracker, grace: Duration) {
    background.close();
    let drained = tokio::time::timeout(grace, async {
        while jobs.join_next().await.is_some() {}
        background.wait().await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            background = background.len(),
            "background work did not stop within {grace:?}; aborting the jobs"
        );
        jobs.abort_all();
    }
}
