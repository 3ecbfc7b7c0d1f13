//! One page of a GitHub list, decoded, with what it says about the next request.

use serde::de::DeserializeOwned;

use super::{GitHubClient, GitHubError, GitHubRequest, GitHubResponse};

/// A page of a list: its items and the headers callers act on.
#[derive(Debug)]
pub struct Page<T> {
    /// Empty when `not_modified`.
    pub items: Vec<T>,
    /// 304: unchanged since the ETag sent (it cost no quota).
    pub not_modified: bool,
    pub etag: Option<String>,
    /// `X-Poll-Interval`, in seconds.
    pub poll_interval: Option<u64>,
    /// `Link: rel="next"`, to pass back to the endpoint's "next page" function.
    pub next: Option<NextPage>,
}

/// Where the next page of a list is: the URL GitHub gave in `Link` (or, for a 304 without
/// `Link`, the path `github/` built). Only `github/` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextPage(String);

impl NextPage {
    pub(super) fn path_or_url(&self) -> &str {
        &self.0
    }
}

impl<T: DeserializeOwned> Page<T> {
    /// A 2xx is decoded as a JSON array; a 304 has no items.
    pub(super) fn from_response(response: &GitHubResponse) -> Result<Self, GitHubError> {
        let not_modified = response.not_modified();
        let items = if not_modified {
            Vec::new()
        } else {
            response.json()?
        };
        Ok(Self {
            items,
            not_modified,
            etag: response.etag(),
            poll_interval: response.poll_interval(),
            next: response.next_page().map(NextPage),
        })
    }
}

/// Sends `request` and decodes the answer as a page.
pub(super) async fn fetch<T: DeserializeOwned>(
    client: &GitHubClient,
    request: GitHubRequest<'_>,
) -> Result<Page<T>, GitHubError> {
    Page::from_response(&client.send(request).await?)
}

/// The page `next` of a list, unconditional, with the polling tokens.
pub(super) async fn follow<T: DeserializeOwned>(
    client: &GitHubClient,
    next: &NextPage,
) -> Result<Page<T>, GitHubError> {
    fetch(
        client,
        GitHubRequest {
            path_or_url: next.path_or_url(),
            ..GitHubRequest::default()
        },
    )
    .await
}
