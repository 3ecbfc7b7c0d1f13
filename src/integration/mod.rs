//! The GitHub integration's sync ("Sign in with GitHub"), the whole feature: claiming
//! one sync per integration, running it (`run`), and what it reports. The routes are in
//! `http::integration` and `http::github_oauth`; the GitHub lists in `github::integration`.
//!
//! Syncing a GitHub integration: organizations, their members and repositories, the user's
//! repositories, and per repository its commits, pull requests, issues and issue events,
//! stored as raw JSON in `github_documents`.
//!
//! One sync per integration at a time (a lease on the integration row, renewed as pages
//! arrive). Syncs are incremental unless `full`: list first pages are conditional (ETag),
//! commits are asked `since` the previous sync, and the lists sorted newest-updated first
//! (issues, pull requests, issue events) stop at the newest `updated_at`/`created_at` seen
//! before. Every page is fetched (`Link: rel="next"`). Calls use the user's own token.
//! A `full` sync writes every document GitHub still lists, so at its end the documents it did
//! not write (older than its start) are gone from GitHub and are removed (`stats.removed`).
//! Every sync ends by scheduling the next background one (`schedule`).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::github::GitHubError;
use crate::state::AppState;

mod run;
pub mod schedule;

use crate::store::integrations;
use run::SyncRun;

/// Documents written per collection by one sync.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct SyncStats {
    pub organizations: u64,
    pub repositories: u64,
    pub commits: u64,
    pub pulls: u64,
    pub issues: u64,
    pub users: u64,
    pub changelogs: u64,
    /// Documents a full pass removed because GitHub no longer lists them.
    pub removed: u64,
}

impl SyncStats {
    fn add(&mut self, collection: &str, n: u64) {
        let field = match collection {
            "github_organizations" => &mut self.organizations,
            "github_repos" => &mut self.repositories,
            "github_commits" => &mut self.commits,
            "github_pulls" => &mut self.pulls,
            "github_issues" => &mut self.issues,
            "github_users" => &mut self.users,
            _ => &mut self.changelogs,
        };
        *field += n;
    }

    pub fn from_json(value: Option<&Value>) -> Self {
        value
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl<'de> serde::Deserialize<'de> for SyncStats {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, u64>::deserialize(d)?;
        let get = |k: &str| map.get(k).copied().unwrap_or(0);
        Ok(Self {
            organizations: get("organizations"),
            repositories: get("repositories"),
            commits: get("commits"),
            pulls: get("pulls"),
            issues: get("issues"),
            users: get("users"),
            changelogs: get("changelogs"),
            removed: get("removed"),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "GitHub refused the stored token (401 {message}): it was revoked or has expired; sign in with GitHub again to reconnect"
    )]
    Revoked { message: String },
    #[error("{0}")]
    GitHub(GitHubError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the stored GitHub token cannot be decrypted; sign in with GitHub again")]
    Token,
    #[error("interrupted by shutdown")]
    Interrupted,
    #[error("the integration was removed")]
    Removed,
}

impl From<GitHubError> for SyncError {
    fn from(error: GitHubError) -> Self {
        match error {
            GitHubError::Status {
                status: 401,
                message,
            } => Self::Revoked { message },
            other => Self::GitHub(other),
        }
    }
}

/// A sync whose lease is held; `run` it now or `spawn` it in the background.
pub struct ClaimedSync {
    state: AppState,
    integration: integrations::Integration,
    full: bool,
}

/// Takes the integration's sync lease; `None` when another sync holds it.
pub async fn claim(
    state: &AppState,
    integration_id: i64,
    full: bool,
) -> Result<Option<ClaimedSync>, sqlx::Error> {
    Ok(integrations::claim_sync(&state.db, integration_id, full)
        .await?
        .map(|integration| ClaimedSync::new(state, integration)))
}

impl ClaimedSync {
    /// A sync of `integration`, whose lease was just taken (`sync_full` says how).
    fn new(state: &AppState, integration: integrations::Integration) -> Self {
        Self {
            state: state.clone(),
            full: integration.sync_full,
            integration,
        }
    }

    /// Runs the sync in the background (the initial sync after sign-in, `?wait=false`),
    /// tracked so that shutdown waits for it.
    pub fn spawn(self) {
        let background = self.state.background.clone();
        background.spawn(async move {
            let integration_id = self.integration.id;
            if let Err(e) = self.run().await {
                tracing::warn!(integration_id, error = %e, "integration sync failed");
            }
        });
    }

    /// Runs the sync to the end and releases the lease; returns what it wrote and when it finished.
    pub async fn run(self) -> Result<(SyncStats, DateTime<Utc>), SyncError> {
        let state = &self.state;
        let integration_id = self.integration.id;
        let full = self.full;
        let mut sync = SyncRun {
            state,
            integration_id,
            github_id: self.integration.github_id,
            token: String::new(),
            full,
            started: Utc::now(),
            stats: SyncStats::default(),
            repos_seen: HashSet::new(),
            progress: json!({"repositories_done": 0, "repositories_total": null}),
        };
        let result = match state
            .token_cipher
            .decrypt(&self.integration.token_ciphertext)
        {
            Ok(token) => {
                sync.token = token;
                sync.everything().await
            }
            Err(_) => Err(SyncError::Token),
        };
        let result = match result {
            Ok(()) if full => sync.remove_unseen().await,
            other => other,
        };
        let error = result.as_ref().err().map(|e| (e, e.to_string()));
        let finish = schedule::finish(
            &state.config,
            self.integration.sync_failures,
            error.as_ref().map(|(e, message)| (*e, message.as_str())),
        );
        let counts = sync.stats.to_json();
        let finished =
            integrations::finish_sync(&state.db, integration_id, &counts, &finish).await?;
        if finish.needs_reconnect {
            tracing::warn!(
                integration_id,
                "GitHub refused the integration's token; background syncs stop until the user reconnects"
            );
        }
        let outcome = if error.is_some() {
            "failed"
        } else {
            "finished"
        };
        state
            .metrics
            .increment("gitpulse_integration_syncs_total", &[("outcome", outcome)]);
        match (result, finished) {
            (Err(e), _) => Err(e),
            (Ok(()), None) => Err(SyncError::Removed),
            (Ok(()), Some(finished_at)) => {
                tracing::info!(integration_id, full, stats = ?sync.stats, "integration sync finished");
                Ok((sync.stats, finished_at))
            }
        }
    }
}
