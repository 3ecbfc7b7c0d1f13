//! The lists an integration sync reads with the user's own token, 100 items a page, every
//! page (`Link: rel="next"`), the first page conditional on its ETag. Items stay raw JSON:
//! the sync stores them as documents.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::page::{self, NextPage, Page};
use super::{GitHubClient, GitHubError, GitHubRequest};

/// One list endpoint. Repositories are named `owner/name` (`full_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrationList {
    /// `GET /user/orgs`: the user's organizations.
    UserOrgs,
    /// `GET /orgs/{org}/members`.
    OrgMembers { org: String },
    /// `GET /orgs/{org}/repos`.
    OrgRepos { org: String },
    /// `GET /user/repos`: the repositories the user can access.
    UserRepos,
    /// `GET /repos/{repo}/commits`, `since` a time. GitHub answers 409 for an empty repository.
    Commits { repo: String },
    /// `GET /repos/{repo}/pulls`, every state, most recently updated first.
    Pulls { repo: String },
    /// `GET /repos/{repo}/issues`, every state, most recently updated first, `since` a time
    /// (pull requests are listed too).
    Issues { repo: String },
    /// `GET /repos/{repo}/issues/events`, newest first.
    IssueEvents { repo: String },
}

impl IntegrationList {
    /// Whether the list narrows to items changed `since` a time.
    pub fn takes_since(&self) -> bool {
        matches!(self, Self::Commits { .. } | Self::Issues { .. })
    }

    /// The first page's path and query string.
    fn path(&self, since: Option<DateTime<Utc>>) -> String {
        let mut path = match self {
            Self::UserOrgs => "/user/orgs?per_page=100".to_string(),
            Self::OrgMembers { org } => format!("/orgs/{org}/members?per_page=100"),
            Self::OrgRepos { org } => format!("/orgs/{org}/repos?per_page=100"),
            Self::UserRepos => "/user/repos?per_page=100".to_string(),
            Self::Commits { repo } => format!("/repos/{repo}/commits?per_page=100"),
            Self::Pulls { repo } => {
                format!("/repos/{repo}/pulls?state=all&sort=updated&direction=desc&per_page=100")
            }
            Self::Issues { repo } => {
                format!("/repos/{repo}/issues?state=all&sort=updated&direction=desc&per_page=100")
            }
            Self::IssueEvents { repo } => format!("/repos/{repo}/issues/events?per_page=100"),
        };
        if let (true, Some(since)) = (self.takes_since(), since) {
            path.push_str("&since=");
            path.push_str(&since.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        path
    }
}

/// The first page of `list` with the user's `token`: `since` where the list takes it,
/// conditional on `etag`.
pub async fn first_page(
    client: &GitHubClient,
    token: &str,
    list: &IntegrationList,
    since: Option<DateTime<Utc>>,
    etag: Option<&str>,
) -> Result<Page<Value>, GitHubError> {
    let path = list.path(since);
    page::fetch(
        client,
        GitHubRequest {
            path_or_url: &path,
            etag,
            token: Some(token),
            ..GitHubRequest::default()
        },
    )
    .await
}

/// The page `next` of a list (unconditional), with the user's `token`.
pub async fn next_page(
    client: &GitHubClient,
    token: &str,
    next: &NextPage,
) -> Result<Page<Value>, GitHubError> {
    page::fetch(
        client,
        GitHubRequest {
            path_or_url: next.path_or_url(),
            token: Some(token),
            ..GitHubRequest::default()
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_pages_ask_since_only_where_the_list_takes_it() {
        let since = DateTime::from_timestamp(1_700_000_000, 0);
        let commits = IntegrationList::Commits { repo: "o/r".into() };
        assert_eq!(
            commits.path(since),
            "/repos/o/r/commits?per_page=100&since=2023-11-14T22:13:20Z"
        );
        assert_eq!(commits.path(None), "/repos/o/r/commits?per_page=100");
        let pulls = IntegrationList::Pulls { repo: "o/r".into() };
        assert_eq!(
            pulls.path(since),
            "/repos/o/r/pulls?state=all&sort=updated&direction=desc&per_page=100"
        );
        assert_eq!(
            IntegrationList::UserOrgs.path(since),
            "/user/orgs?per_page=100"
        );
    }
}
