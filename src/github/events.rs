//! A repository's public events: `GET /repos/{owner}/{name}/events`, newest first, at most
//! 300 over `Link` pages.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::page::{self, NextPage, Page};
use super::{GitHubClient, GitHubError, GitHubRequest};

/// GitHub serves at most 100 events per page.
const PER_PAGE: usize = 100;

#[derive(Debug, Deserialize)]
pub struct Event {
    /// Numeric, but sent as a string.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub actor: Option<Actor>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
pub struct Actor {
    pub login: Option<String>,
}

/// `GET /repos/{owner}/{name}/events?per_page=100`, conditional on `etag`.
pub async fn repo_events(
    client: &GitHubClient,
    owner: &str,
    name: &str,
    etag: Option<&str>,
) -> Result<Page<Event>, GitHubError> {
    let path = format!("/repos/{owner}/{name}/events?per_page={PER_PAGE}");
    page::fetch(
        client,
        GitHubRequest {
            path_or_url: &path,
            etag,
            ..GitHubRequest::default()
        },
    )
    .await
}

/// The page `next` of an event list (unconditional). Past the 300-event window GitHub
/// answers 422 (`GitHubError::Status`).
pub async fn next_events(
    client: &GitHubClient,
    next: &NextPage,
) -> Result<Page<Event>, GitHubError> {
    page::follow(client, next).await
}
