//! A repository's stars gained per week: `GET /repos/{owner}/{name}/stargazers/history`
//! (GitHub, since 2026-09-04), newest week first, 30 weeks per page, at most 100 pages over
//! `Link`. It counts current stargazers only. Missing on older GitHub Enterprise Server (404).

use serde::Deserialize;

use super::page::{self, NextPage, Page};
use super::{GitHubClient, GitHubError, GitHubRequest};

/// The largest `per_page` GitHub accepts here.
pub const WEEKS_PER_PAGE: usize = 30;
/// The largest `page` GitHub serves (422 beyond).
pub const MAX_PAGES: usize = 100;

/// One week of the history.
#[derive(Debug, Clone, Deserialize)]
pub struct StarWeek {
    /// Unix seconds of the week's first day (00:00 UTC).
    pub week: i64,
    /// Stars gained that week.
    #[serde(default)]
    pub total: i64,
    /// Stars gained on each of the week's 7 days, first day first.
    #[serde(default)]
    pub days: Vec<i64>,
}

/// Page 1, conditional on `etag`.
pub async fn stargazer_history(
    client: &GitHubClient,
    owner: &str,
    name: &str,
    etag: Option<&str>,
) -> Result<Page<StarWeek>, GitHubError> {
    let path = format!("/repos/{owner}/{name}/stargazers/history?per_page={WEEKS_PER_PAGE}");
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

/// The page `next` of a history (unconditional).
pub async fn next_stargazer_history(
    client: &GitHubClient,
    next: &NextPage,
) -> Result<Page<StarWeek>, GitHubError> {
    page::follow(client, next).await
}
