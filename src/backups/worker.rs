//! The backup worker (run by `jobs::backups`): claims queued backups (`FOR UPDATE SKIP LOCKED`, with a lease on
//! the repository), fetches the mirror, zips it under `BACKUP_DIR`, records size and
//! SHA-256, and prunes archives beyond `BACKUP_KEEP`.
//!
//! It polls every second and is also woken at once by the webhook of this process
//! (`AppState::backup_wakeup`). On shutdown it stops claiming; a backup in progress is
//! interrupted and put back in the queue. If the process dies instead, the lease expires
//! and any replica retries the backup, at most `MAX_ATTEMPTS` times.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Layout, archive};
use crate::backups;
use crate::git;
use crate::state::AppState;
use crate::store::backups::{self as store, Job};

/// How often the queue is looked at when nothing wakes the worker.
pub const POLL_PERIOD: Duration = Duration::from_secs(1);
/// How long a claim holds a repository before another worker may take the job over.
const LEASE: Duration = Duration::from_secs(120);
/// How often a running backup renews its lease.
const LEASE_RENEWAL: Duration = Duration::from_secs(30);
/// Claims of one backup (crashed workers included) before it is marked failed.
pub const MAX_ATTEMPTS: i32 = 3;

/// Runs backups until the queue has none this worker can claim.
pub async fn drain_queue(state: &AppState) {
    while !state.shutdown.is_cancelled() {
        match store::claim(&state.db, LEASE.as_secs_f64()).await {
            Ok(Some(job)) => run_claimed(state, job).await,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim a backup");
                break;
            }
        }
    }
}

/// Runs one claimed backup while renewing its lease; on shutdown, requeues it.
async fn run_claimed(state: &AppState, job: Job) {
    if job.attempts > MAX_ATTEMPTS {
        let message = format!(
            "Gave up after {MAX_ATTEMPTS} attempts: the worker stopped or timed out each time"
        );
        finish(state, &job, Err(message)).await;
        return;
    }
    let cancelled = Arc::new(AtomicBool::new(false));
    let work = back_up(state, &job, cancelled.clone());
    tokio::pin!(work);
    let mut renewal = tokio::time::interval(LEASE_RENEWAL);
    renewal.tick().await;
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break Some(outcome),
            () = state.shutdown.cancelled() => break None,
            _ = renewal.tick() => {
                if let Err(e) = store::renew_lease(&state.db, job.repository_id, LEASE.as_secs_f64()).await {
                    tracing::warn!(backup_id = job.id, error = %e, "cannot renew a backup lease");
                }
            }
        }
    };
    match outcome {
        Some(outcome) => finish(state, &job, outcome).await,
        None => {
            cancelled.store(true, Ordering::Relaxed);
            tracing::info!(
                backup_id = job.id,
                "shutting down: backup interrupted and requeued"
            );
            if let Err(e) = store::requeue(&state.db, &job).await {
                tracing::warn!(backup_id = job.id, error = %e, "cannot requeue a backup; its lease will expire");
            }
        }
    }
}

/// What a finished backup recorded: (size, sha256) or a message for the report.
type Outcome = Result<(u64, String), String>;

async fn finish(state: &AppState, job: &Job, outcome: Outcome) {
    let keep = i64::from(state.config.backup_keep);
    let layout = Layout::at(&state.paths.backups, &job.storage_dir, &job.repository_name);
    match outcome {
        Ok((size, sha256)) => {
            let size = i64::try_from(size).unwrap_or(i64::MAX);
            match store::complete(&state.db, job, size, &sha256, keep).await {
                Ok(pruned) => {
                    state
                        .metrics
                        .increment("gitpulse_backups_total", &[("status", "done")]);
                    tracing::info!(backup_id = job.id, size, "backup written");
                    for name in pruned {
                        remove_archive(&layout, &name).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(backup_id = job.id, error = %e, "cannot record a finished backup; its lease will expire and it will run again");
                }
            }
        }
        Err(message) => {
            state
                .metrics
                .increment("gitpulse_backups_total", &[("status", "failed")]);
            tracing::warn!(backup_id = job.id, error = %message, "backup failed");
            if let Err(e) = store::fail(&state.db, job, &message).await {
                tracing::warn!(backup_id = job.id, error = %e, "cannot record a failed backup");
            }
        }
    }
}

async fn remove_archive(layout: &Layout, name: &str) {
    match tokio::fs::remove_file(layout.archive(name)).await {
        Ok(()) => tracing::info!(archive = name, "pruned an old archive"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(archive = name, error = %e, "cannot remove a pruned archive"),
    }
}

/// Fetches the mirror (cloning it again if it is gone) and writes the archive.
async fn back_up(state: &AppState, job: &Job, cancelled: Arc<AtomicBool>) -> Outcome {
    let config = &state.config;
    let hide_dir = |message: String| {
        message.replace(&state.paths.backups.display().to_string(), "<BACKUP_DIR>")
    };
    let remote = backups::url_policy(config)
        .check(&job.repository_url)
        .map_err(|e| format!("The repository URL is no longer allowed: it {e}"))?;
    let layout = Layout::at(&state.paths.backups, &job.storage_dir, &job.repository_name);
    let mirror = layout.mirror_dir();
    // Waits for a git permit (GIT_MAX_CONCURRENCY); the lease is renewed meanwhile.
    let permit = state
        .git_permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| "The server is shutting down".to_string())?;
    let timeout = config.git_timeout();
    if tokio::fs::try_exists(&mirror).await.unwrap_or(false) {
        git::fetch_mirror(&mirror, &remote, timeout)
            .await
            .map_err(|e| hide_dir(format!("Fetching the repository failed: {e}")))?;
    } else {
        tracing::warn!(
            backup_id = job.id,
            "the mirror is missing; cloning it again"
        );
        tokio::fs::create_dir_all(&layout.company_dir)
            .await
            .map_err(|e| format!("Cannot create the backup directory: {e}"))?;
        let partial = layout.partial_mirror_dir();
        let cloned = git::clone_mirror(&remote, &partial, timeout).await;
        let moved = match cloned {
            Ok(()) => tokio::fs::rename(&partial, &mirror)
                .await
                .map_err(|e| format!("Cannot move the mirror into place: {e}")),
            Err(e) => Err(hide_dir(format!("Cloning the repository failed: {e}"))),
        };
        if moved.is_err() {
            let _ = tokio::fs::remove_dir_all(&partial).await;
        }
        moved?;
    }
    drop(permit);
    let dest = layout.archive(&job.zip_file_name);
    let written =
        tokio::task::spawn_blocking(move || archive::zip_directory(&mirror, &dest, &cancelled))
            .await
            .map_err(|e| format!("The archive writer stopped: {e}"))?;
    let info = written.map_err(|e| hide_dir(format!("Writing the archive failed: {e}")))?;
    Ok((info.size_bytes, info.sha256))
}
