//! One repository: `GET /repos/{owner}/{name}`, as a lookup (canonical name and id) or as
//! its counts (conditional, for the daily statistics).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{GitHubClient, GitHubError};

/// A repository as GitHub names it.
#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    pub id: i64,
    pub name: String,
    pub owner: Owner,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Owner {
    pub login: String,
}

/// `GET /repos/{owner}/{name}`; `owner` and `name` must already be validated (they go into
/// the path).
pub async fn repository(
    client: &GitHubClient,
    owner: &str,
    name: &str,
) -> Result<Repository, GitHubError> {
    client
        .get(&format!("/repos/{owner}/{name}"), None)
        .await?
        .json()
}

/// A repository's counts over REST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestCounts {
    /// 304: unchanged since the ETag sent.
    NotModified,
    Counts {
        github_id: i64,
        stargazers: i64,
        forks: i64,
        /// `subscribers_count`: people watching. (`watchers_count` is a legacy alias of stars.)
        watchers: i64,
        etag: Option<String>,
    },
}

#[derive(Deserialize)]
struct RestRepository {
    id: i64,
    stargazers_count: i64,
    forks_count: i64,
    subscribers_count: i64,
}

/// `GET /repos/{owner}/{name}`, conditional on `etag`.
pub async fn repository_counts(
    client: &GitHubClient,
    owner: &str,
    name: &str,
    etag: Option<&str>,
) -> Result<RestCounts, GitHubError> {
    let response = client.get(&format!("/repos/{owner}/{name}"), etag).await?;
    if response.not_modified() {
        return Ok(RestCounts::NotModified);
    }
    let repo: RestRepository = response.json()?;
    Ok(RestCounts::Counts {
        github_id: repo.id,
        stargazers: repo.stargazers_count,
        forks: repo.forks_count,
        watchers: repo.subscribers_count,
        etag: response.etag(),
    })
}

/// What the star history is anchored to: the stars now, and since when the repository exists.
#[derive(Debug, Clone, Deserialize)]
pub struct StarCount {
    #[serde(rename = "stargazers_count")]
    pub stargazers: i64,
    pub created_at: DateTime<Utc>,
}

/// `GET /repos/{owner}/{name}` (unconditional), as a [`StarCount`].
pub async fn star_count(
    client: &GitHubClient,
    owner: &str,
    name: &str,
) -> Result<StarCount, GitHubError> {
    client
        .get(&format!("/repos/{owner}/{name}"), None)
        .await?
        .json()
}
