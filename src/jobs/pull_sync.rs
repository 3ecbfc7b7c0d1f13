//! `pull` repositories: the server keeps a bare mirror of each one's `remote_url`,
//! fetches it every `PULL_SYNC_INTERVAL_SECS`, and stores new commits through the same
//! ingestion as pushes. Due repositories are claimed with a lease (`store::pull_sync`), so
//! replicas never fetch the same repository at once.

use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Job;
use crate::commit_batch::{self, MAX_BATCH};
use crate::config::Config;
use crate::git::{self, GitError};
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::commits;
use crate::store::pull_sync::{self as store, PullTarget};

/// Repositories claimed per round.
const CLAIM_BATCH: i64 = 8;

/// The background job: a round every `PULL_SYNC_INTERVAL_SECS`.
pub struct PullSync;

impl Job for PullSync {
    const NAME: &'static str = "pull_sync";

    fn period(config: &Config) -> Duration {
        Duration::from_secs(config.pull_sync_interval_secs.max(1))
    }

    async fn run_once(state: &AppState) {
        if let Err(e) = run_due(state).await {
            tracing::warn!(error = %e, "pull sync round failed");
        }
    }
}

/// Claims the due `pull` repositories and syncs them; returns how many were synced
/// (successfully or not). Stops early, releasing its claims, when the process shuts down.
pub async fn run_due(state: &AppState) -> Result<usize, sqlx::Error> {
    let mut done = 0;
    loop {
        let targets = store::claim_due(&state.db, CLAIM_BATCH).await?;
        if targets.is_empty() {
            return Ok(done);
        }
        for target in targets {
            let id = target.id;
            commits::mark_syncing(&state.db, id).await?;
            tokio::select! {
                () = state.shutdown.cancelled() => {
                    store::release(&state.db, id).await?;
                    continue;
                }
                result = pull_one(state, &target) => {
                    if let Err(message) = result {
                        tracing::warn!(repo_id = id, error = %message, "pull sync failed");
                        commits::mark_error(&state.db, id, &message).await?;
                    }
                }
            }
            store::finish(&state.db, id, state.config.pull_sync_interval_secs).await?;
            done += 1;
        }
        if state.shutdown.is_cancelled() {
            return Ok(done);
        }
    }
}

/// Fetches the mirror and ingests what is new; the error is a message for the repo's owner.
async fn pull_one(state: &AppState, target: &PullTarget) -> Result<(), String> {
    let config = &state.config;
    let url = target.remote_url.as_deref().unwrap_or_default();
    let remote = git::UrlPolicy::from_config(config)
        .check(url)
        .map_err(|why| format!("remote_url refused: {why}"))?;
    let mirror = mirror_path(&state.paths.mirrors, target.id, url);
    let timeout = config.git_timeout();
    // Waits for a git permit (GIT_MAX_CONCURRENCY), released once the fetch is done.
    let permit = state
        .git_permits
        .acquire()
        .await
        .map_err(|_| "the server is shutting down".to_string())?;
    git::update_mirror(&remote, &mirror, timeout)
        .await
        .map_err(|e| format!("fetching {url} failed: {}", git_message(&e)))?;
    drop(permit);
    if !git::has_commit(&mirror, "HEAD", timeout)
        .await
        .map_err(|e| git_message(&e))?
    {
        // An empty repository: nothing to ingest yet.
        return ingest(state, target, &[]).await;
    }
    let since = match target.last_ingested_sha.as_deref() {
        Some(sha) if is_known_ancestor(&mirror, sha, timeout).await => Some(sha),
        _ => None,
    };
    let history = git::log(&mirror, "HEAD", since, timeout)
        .await
        .map_err(|e| git_message(&e))?;
    if history.is_empty() {
        return ingest(state, target, &[]).await;
    }
    for chunk in history.chunks(MAX_BATCH) {
        let entries = chunk
            .iter()
            .map(|c| commit_batch::from_git(c).into())
            .collect();
        let batch = commit_batch::validate_batch(Some(entries))
            .map_err(|e| format!("git history did not validate: {e}"))?;
        ingest(state, target, &batch).await?;
    }
    Ok(())
}

async fn ingest(
    state: &AppState,
    target: &PullTarget,
    batch: &[commits::NewCommit],
) -> Result<(), String> {
    let audit = (!batch.is_empty())
        .then(|| AuditEntry::new(target.user_id, "commits.pulled", "repo", target.id));
    commits::ingest(&state.db, target.id, batch, audit)
        .await
        .map_err(|e| {
            tracing::error!(repo_id = target.id, error = %e, "storing pulled commits failed");
            "storing commits failed (database error)".to_string()
        })?;
    if !batch.is_empty() {
        state
            .metrics
            .increment("gitpulse_commit_batches_total", &[("source", "pull")]);
    }
    Ok(())
}

async fn is_known_ancestor(mirror: &std::path::Path, sha: &str, timeout: Duration) -> bool {
    let known = git::has_commit(mirror, sha, timeout).await.unwrap_or(false);
    known
        && git::is_ancestor(mirror, sha, "HEAD", timeout)
            .await
            .unwrap_or(false)
}

/// One mirror per repository and URL: a changed URL starts a fresh mirror.
fn mirror_path(base: &std::path::Path, repo_id: i64, url: &str) -> PathBuf {
    let digest = hex::encode(Sha256::digest(url.as_bytes()));
    base.join(format!("repo-{repo_id}-{}.git", &digest[..16]))
}

fn git_message(error: &GitError) -> String {
    error.to_string()
}
