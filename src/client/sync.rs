//! `gitpulse client sync`: for each configured repository, ask the server where it got
//! to, read the newer local commits with git, and send them oldest first in batches.
//!
//! Resuming: commits go out in topological order, every batch is stored atomically,
//! and the server remembers the last commit of the last stored batch
//! (`last_ingested_sha`). Everything before that commit in history is therefore stored,
//! so a rerun sends only `last_ingested_sha..branch`. If that commit is not an ancestor
//! of the branch (history rewritten, another machine pushed), or with `--full`, the whole
//! history is sent and the server skips what it already has. A batch whose answer was
//! lost is simply sent again: the server skips its commits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::{ClientConfig, ClientError, RemoteStatus, api_for, status_path};
use crate::commit_batch;
use crate::commit_batch::PushResult;
use crate::git;

const GIT_TIMEOUT: Duration = Duration::from_secs(1800);

#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub dry_run: bool,
    /// Ignore the server's `last_ingested_sha` and send the whole history.
    pub full: bool,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// First retry delay (doubled on each retry).
    pub backoff_base: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            full: false,
            progress: false,
            backoff_base: Duration::from_secs(1),
        }
    }
}

/// What happened to one configured repository.
#[derive(Debug, Clone, Default)]
pub struct RepoReport {
    pub project_id: i64,
    pub repo_id: i64,
    pub path: PathBuf,
    /// Commits found locally that the server may not have.
    pub pending: usize,
    /// Commits sent (and acknowledged).
    pub sent: usize,
    pub inserted: usize,
    pub skipped: usize,
    pub error: Option<String>,
}

/// Syncs every configured repository; one failing does not stop the others.
pub async fn sync(config: &ClientConfig, options: &SyncOptions) -> Vec<RepoReport> {
    let mut reports = Vec::new();
    let api = match api_for(config, options.backoff_base) {
        Ok(api) => api,
        Err(e) => {
            return vec![RepoReport {
                error: Some(e.to_string()),
                ..RepoReport::default()
            }];
        }
    };
    for project in &config.projects {
        for repo in &project.repos {
            let mut report = RepoReport {
                project_id: project.project_id,
                repo_id: repo.repo_id,
                path: repo.path.clone(),
                ..RepoReport::default()
            };
            let branch = repo.branch.as_deref().unwrap_or("HEAD");
            if let Err(e) = sync_repo(&api, config, options, branch, &mut report).await {
                report.error = Some(e.to_string());
            }
            reports.push(report);
        }
    }
    reports
}

async fn sync_repo(
    api: &super::api::Api,
    config: &ClientConfig,
    options: &SyncOptions,
    branch: &str,
    report: &mut RepoReport,
) -> Result<(), ClientError> {
    let path = report.path.clone();
    check_local_path(&path)?;
    let failed = |e: git::GitError| ClientError::Failed(format!("{}: {e}", path.display()));
    if !git::has_commit(&path, branch, GIT_TIMEOUT)
        .await
        .map_err(failed)?
    {
        return Err(ClientError::Failed(format!(
            "{}: no commit '{branch}' (is it a git repository with that branch?)",
            path.display()
        )));
    }
    let status: RemoteStatus = api
        .get(&status_path(report.project_id, report.repo_id))
        .await?;
    let since = match status.last_ingested_sha.as_deref() {
        Some(sha) if !options.full => resume_point(&path, sha, branch).await,
        _ => None,
    };
    let history = git::log(&path, branch, since, GIT_TIMEOUT)
        .await
        .map_err(failed)?;
    report.pending = history.len();
    if options.dry_run || history.is_empty() {
        return Ok(());
    }
    let bar = progress_bar(options.progress, history.len(), report.repo_id);
    let push_path = format!(
        "/api/v1/sync/projects/{}/repos/{}/commits",
        report.project_id, report.repo_id
    );
    // Batches go out in order; one the server finds too large is split in halves (and
    // those again), keeping the order, so a few huge commits never block a sync.
    let mut pending: Vec<&[git::GitCommit]> = history.chunks(config.batch_size).rev().collect();
    while let Some(chunk) = pending.pop() {
        let commits: Vec<_> = chunk.iter().map(commit_batch::from_git).collect();
        let body = json!({
            "commits": commits,
            "client_version": concat!("gitpulse-client ", env!("CARGO_PKG_VERSION")),
        });
        let result: PushResult = match api.post(&push_path, &body).await {
            Ok(result) => result,
            Err(ClientError::TooLarge(_)) if chunk.len() > 1 => {
                let (first, second) = chunk.split_at(chunk.len() / 2);
                pending.push(second);
                pending.push(first);
                continue;
            }
            Err(e) => return Err(e),
        };
        report.sent += result.total;
        report.inserted += result.inserted;
        report.skipped += result.skipped;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// `sha` if the server's last commit is known locally and an ancestor of `branch`.
async fn resume_point<'a>(path: &Path, sha: &'a str, branch: &str) -> Option<&'a str> {
    let known = git::has_commit(path, sha, GIT_TIMEOUT)
        .await
        .unwrap_or(false);
    let ancestor = known
        && git::is_ancestor(path, sha, branch, GIT_TIMEOUT)
            .await
            .unwrap_or(false);
    ancestor.then_some(sha)
}

fn progress_bar(visible: bool, total: usize, repo_id: i64) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} commits ({eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(format!("repo {repo_id}"));
    bar
}

/// A configured `path` that is missing or not a directory, named as such (git would only
/// say it cannot run).
pub(crate) fn check_local_path(path: &Path) -> Result<(), ClientError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(ClientError::Failed(format!(
            "{} is not a directory (check `path` in the client's YAML file)",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ClientError::Failed(format!(
            "{} does not exist (check `path` in the client's YAML file)",
            path.display()
        ))),
        Err(e) => Err(ClientError::Failed(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}
