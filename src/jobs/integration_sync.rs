//! Syncing a GitHub integration: organizations, their members and repositories, the user's
//! repositories, and per repository its commits, pull requests, issues and issue events,
//! stored as raw JSON in `github_documents`.
//!
//! One sync per integration at a time (a lease on the integration row, renewed as pages
//! arrive). Syncs are incremental unless `full`: list first pages are conditional (ETag),
//! commits are asked `since` the previous sync, and the lists sorted newest-updated first
//! (issues, pull requests, issue events) stop at the newest `updated_at`/`created_at` seen
//! before. Every page is fetched (`Link: rel="next"`). Calls use the user's own token.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::github::integration::{self as gh, IntegrationList};
use crate::github::{GitHubError, NextPage};
use crate::state::AppState;
use crate::store::{documents, integrations};

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
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}")]
    GitHub(#[from] GitHubError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the stored GitHub token cannot be decrypted; sign in with GitHub again")]
    Token,
    #[error("interrupted by shutdown")]
    Interrupted,
    #[error("the integration was removed")]
    Removed,
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
        .map(|integration| ClaimedSync {
            state: state.clone(),
            integration,
            full,
        }))
}

impl ClaimedSync {
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
        let error = result.as_ref().err().map(ToString::to_string);
        let counts = sync.stats.to_json();
        let finished =
            integrations::finish_sync(&state.db, integration_id, &counts, error.as_deref()).await?;
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

/// How a list is walked.
struct List<'a> {
    /// Names the list's cursor (`user/repos`, `repo:42:commits`).
    key: String,
    endpoint: IntegrationList,
    collection: &'static str,
    /// The document key: `id` or `sha`.
    key_field: &'static str,
    /// The list is sorted by this timestamp, newest first: stop at the cursor, and move the
    /// cursor to the newest value seen. Without it the cursor becomes the sync's start time.
    newest_first_by: Option<&'static str>,
    /// Items to keep (issues drop pull requests).
    keep: &'a (dyn Fn(&Value) -> bool + Sync),
}

struct SyncRun<'a> {
    state: &'a AppState,
    integration_id: i64,
    token: String,
    full: bool,
    started: DateTime<Utc>,
    stats: SyncStats,
    repos_seen: HashSet<String>,
    progress: Value,
}

fn keep_all(_: &Value) -> bool {
    true
}

fn not_a_pull_request(item: &Value) -> bool {
    item.get("pull_request").is_none()
}

impl SyncRun<'_> {
    async fn everything(&mut self) -> Result<(), SyncError> {
        let db = &self.state.db;
        let id = self.integration_id;
        self.list(plain(
            "user/orgs",
            IntegrationList::UserOrgs,
            "github_organizations",
        ))
        .await?;
        for org in documents::strings(db, id, "github_organizations", "login").await? {
            self.list(plain(
                &format!("org:{org}:members"),
                IntegrationList::OrgMembers { org: org.clone() },
                "github_users",
            ))
            .await?;
            self.list(plain(
                &format!("org:{org}:repos"),
                IntegrationList::OrgRepos { org: org.clone() },
                "github_repos",
            ))
            .await?;
        }
        self.list(plain(
            "user/repos",
            IntegrationList::UserRepos,
            "github_repos",
        ))
        .await?;

        let repos = documents::strings(db, id, "github_repos", "full_name").await?;
        self.progress = json!({"repositories_done": 0, "repositories_total": repos.len()});
        for (done, full_name) in repos.iter().enumerate() {
            if self.state.shutdown.is_cancelled() {
                return Err(SyncError::Interrupted);
            }
            self.repository(full_name).await?;
            self.progress =
                json!({"repositories_done": done + 1, "repositories_total": repos.len()});
            self.report().await?;
        }
        Ok(())
    }

    async fn repository(&mut self, full_name: &str) -> Result<(), SyncError> {
        let lists = [
            List {
                key: format!("repo:{full_name}:commits"),
                endpoint: IntegrationList::Commits {
                    repo: full_name.to_string(),
                },
                collection: "github_commits",
                key_field: "sha",
                newest_first_by: None,
                keep: &keep_all,
            },
            List {
                key: format!("repo:{full_name}:pulls"),
                endpoint: IntegrationList::Pulls {
                    repo: full_name.to_string(),
                },
                collection: "github_pulls",
                key_field: "id",
                newest_first_by: Some("updated_at"),
                keep: &keep_all,
            },
            List {
                key: format!("repo:{full_name}:issues"),
                endpoint: IntegrationList::Issues {
                    repo: full_name.to_string(),
                },
                collection: "github_issues",
                key_field: "id",
                newest_first_by: Some("updated_at"),
                keep: &not_a_pull_request,
            },
            List {
                key: format!("repo:{full_name}:issue-events"),
                endpoint: IntegrationList::IssueEvents {
                    repo: full_name.to_string(),
                },
                collection: "github_changelogs",
                key_field: "id",
                newest_first_by: Some("created_at"),
                keep: &keep_all,
            },
        ];
        for list in lists {
            match self.list(list).await {
                // A repository we lost access to, or that vanished, has nothing to sync.
                Err(SyncError::GitHub(GitHubError::NotFound)) => {
                    tracing::info!(
                        repository = full_name,
                        "repository not found on GitHub; skipped"
                    );
                    return Ok(());
                }
                other => other?,
            }
        }
        Ok(())
    }

    /// Fetches every page of a list (or stops at the cursor) and stores its items.
    async fn list(&mut self, list: List<'_>) -> Result<(), SyncError> {
        let db = &self.state.db;
        let (etag, cursor) = if self.full {
            (None, None)
        } else {
            integrations::cursor(db, self.integration_id, &list.key).await?
        };
        let mut next: Option<NextPage> = None;
        let mut first_etag: Option<String> = None;
        let mut newest = cursor;
        let mut page_no = 0;
        loop {
            let github = &self.state.github;
            let fetched = match &next {
                None => {
                    gh::first_page(github, &self.token, &list.endpoint, cursor, etag.as_deref())
                        .await
                }
                Some(next) => gh::next_page(github, &self.token, next).await,
            };
            let page = match fetched {
                Ok(page) => page,
                // GitHub answers 409 for the commits of an empty repository.
                Err(GitHubError::Status { status: 409, .. })
                    if list.collection == "github_commits" =>
                {
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            if page.not_modified {
                return Ok(());
            }
            if page_no == 0 {
                first_etag = page.etag.clone();
            }
            let mut reached_cursor = false;
            let (mut keys, mut docs) = (Vec::new(), Vec::new());
            for item in page.items {
                if let Some(field) = list.newest_first_by {
                    let stamp = timestamp(&item, field);
                    if let (Some(stamp), Some(cursor)) = (stamp, cursor)
                        && stamp < cursor
                    {
                        reached_cursor = true;
                        break;
                    }
                    newest = newest.max(stamp);
                }
                if !(list.keep)(&item) {
                    continue;
                }
                let Some(key) = document_key(&item, list.key_field) else {
                    continue;
                };
                if list.collection == "github_repos" && !self.repos_seen.insert(key.clone()) {
                    // Also listed by an organization: store it again, count it once.
                    documents::upsert(db, self.integration_id, list.collection, &[key], &[item])
                        .await?;
                    continue;
                }
                keys.push(key);
                docs.push(item);
            }
            let written =
                documents::upsert(db, self.integration_id, list.collection, &keys, &docs).await?;
            self.stats.add(list.collection, written);
            self.report().await?;
            page_no += 1;
            match page.next {
                Some(page) if !reached_cursor => next = Some(page),
                _ => break,
            }
        }
        let cursor_at = match list.newest_first_by {
            Some(_) => newest,
            None => Some(self.started),
        };
        integrations::save_cursor(
            db,
            self.integration_id,
            &list.key,
            first_etag.as_deref(),
            cursor_at,
        )
        .await?;
        Ok(())
    }

    /// Publishes the counts so far and renews the lease; a removed integration stops the sync.
    async fn report(&self) -> Result<(), SyncError> {
        integrations::report_progress(
            &self.state.db,
            self.integration_id,
            &self.stats.to_json(),
            &self.progress,
        )
        .await?;
        Ok(())
    }
}

fn plain(key: &str, endpoint: IntegrationList, collection: &'static str) -> List<'static> {
    List {
        key: key.to_string(),
        endpoint,
        collection,
        key_field: "id",
        newest_first_by: None,
        keep: &keep_all,
    }
}

fn timestamp(item: &Value, field: &str) -> Option<DateTime<Utc>> {
    let text = item.get(field)?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn document_key(item: &Value, field: &str) -> Option<String> {
    match item.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
