//! Running one sync: every list, every page, into `github_documents`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{SyncError, SyncStats};
use crate::github::integration::{self as gh, IntegrationList};
use crate::github::{GitHubError, NextPage};
use crate::state::AppState;
use crate::store::{documents, integrations};

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
    /// What the original service's documents said beside GitHub's own fields.
    context: Context,
}

/// The fields seed 001's documents carried beside GitHub's JSON, which its clients filter
/// on: `integration_user_id` (the GitHub id of the integration's user) on every document,
/// `repository` ("owner/name") on commits, pulls, issues and changelogs, `organization`
/// (login) on members and `primary_language` on repositories.
#[derive(Debug, Clone, Default)]
struct Context {
    repository: Option<String>,
    organization: Option<String>,
}

impl Context {
    fn repository(full_name: &str) -> Self {
        Self {
            repository: Some(full_name.to_string()),
            organization: None,
        }
    }

    fn annotate(&self, item: &mut Value, collection: &str, integration_user_id: i64) {
        let Some(fields) = item.as_object_mut() else {
            return;
        };
        fields.insert("integration_user_id".into(), integration_user_id.into());
        if let Some(repository) = &self.repository {
            fields.insert("repository".into(), repository.as_str().into());
        }
        if let Some(organization) = &self.organization {
            fields.insert("organization".into(), organization.as_str().into());
        }
        if collection == "github_repos" {
            let language = fields.get("language").cloned().unwrap_or(Value::Null);
            fields.insert("primary_language".into(), language);
        }
    }
}

pub(super) struct SyncRun<'a> {
    pub(super) state: &'a AppState,
    pub(super) integration_id: i64,
    /// The GitHub id of the integration's user (`integration_user_id` of every document).
    pub(super) github_id: i64,
    pub(super) token: String,
    pub(super) full: bool,
    pub(super) started: DateTime<Utc>,
    pub(super) stats: SyncStats,
    pub(super) repos_seen: HashSet<String>,
    pub(super) progress: Value,
}

fn keep_all(_: &Value) -> bool {
    true
}

fn not_a_pull_request(item: &Value) -> bool {
    item.get("pull_request").is_none()
}

impl SyncRun<'_> {
    pub(super) async fn everything(&mut self) -> Result<(), SyncError> {
        let db = &self.state.db;
        let id = self.integration_id;
        self.list(plain(
            "user/orgs",
            IntegrationList::UserOrgs,
            "github_organizations",
        ))
        .await?;
        for org in documents::strings(db, id, "github_organizations", "login").await? {
            let mut members = plain(
                &format!("org:{org}:members"),
                IntegrationList::OrgMembers { org: org.clone() },
                "github_users",
            );
            members.context.organization = Some(org.clone());
            self.list(members).await?;
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
                context: Context::repository(full_name),
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
                context: Context::repository(full_name),
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
                context: Context::repository(full_name),
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
                context: Context::repository(full_name),
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
            for mut item in page.items {
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
                list.context
                    .annotate(&mut item, list.collection, self.github_id);
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

    /// Ends a successful full pass: every document still on GitHub was written again during
    /// it, so those older than the sync's start are gone from GitHub and are removed.
    pub(super) async fn remove_unseen(&mut self) -> Result<(), SyncError> {
        let removed = integrations::remove_unseen(&self.state.db, self.integration_id).await?;
        for (collection, n) in &removed {
            tracing::info!(
                integration_id = self.integration_id,
                collection,
                removed = n,
                "documents no longer on GitHub removed"
            );
        }
        self.stats.removed = removed.iter().map(|(_, n)| n.unsigned_abs()).sum();
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
        context: Context::default(),
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
