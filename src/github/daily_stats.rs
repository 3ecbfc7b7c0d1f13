//! What the tracked-accounts feature asks GitHub over REST: an account, the repositories it
//! owns (every page, conditional per page) and one repository's counts (conditional).

use serde::Deserialize;

use super::{GitHubClient, GitHubError};
use crate::store::accounts::AccountRepository;

/// Guards against a `Link` loop: 1,000 pages are 100,000 repositories.
const MAX_PAGES: usize = 1000;

#[derive(Debug, Clone, Deserialize)]
pub struct GitHubUser {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
}

/// `GET /users/{login}`; `login` must already be validated (it goes into the path).
pub async fn fetch_user(client: &GitHubClient, login: &str) -> Result<GitHubUser, GitHubError> {
    client.get(&format!("/users/{login}"), None).await?.json()
}

#[derive(Deserialize)]
struct ListedRepository {
    id: i64,
    name: String,
    owner: ListedOwner,
}

#[derive(Deserialize)]
struct ListedOwner {
    login: String,
}

/// An account's repository list after a walk through its pages.
#[derive(Debug, Default)]
pub struct OwnedRepositories {
    /// Repositories of the pages that changed (all of them on a first load).
    pub changed: Vec<AccountRepository>,
    /// The ETag of every page now, page 1 first.
    pub etags: Vec<Option<String>>,
    /// Whether any page answered 200 (else every page was a free 304).
    pub any_changed: bool,
}

fn page_path(login: &str, page: usize) -> String {
    let base = format!("/users/{login}/repos?per_page=100&type=owner");
    if page == 1 {
        base
    } else {
        format!("{base}&page={page}")
    }
}

/// Walks `GET /users/{login}/repos?per_page=100&type=owner` following `Link`, each page
/// conditional on its ETag from `known_etags`. A 304 page is unchanged: its repositories
/// are stored already, and the walk goes on to the next page.
pub async fn owned_repositories(
    client: &GitHubClient,
    login: &str,
    known_etags: &[Option<String>],
) -> Result<OwnedRepositories, GitHubError> {
    let mut result = OwnedRepositories::default();
    let mut next = Some(page_path(login, 1));
    let mut page = 1;
    while let Some(path) = next.take() {
        if page > MAX_PAGES {
            tracing::warn!(
                login,
                "repository list has more than {MAX_PAGES} pages; stopping"
            );
            break;
        }
        let etag = known_etags.get(page - 1).and_then(Option::as_deref);
        let response = client.get(&path, etag).await?;
        if response.not_modified() {
            result.etags.push(etag.map(str::to_string));
            // A 304 may come without `Link`; the stored page count says whether more follow.
            next = response
                .next_page()
                .or_else(|| (page < known_etags.len()).then(|| page_path(login, page + 1)));
        } else {
            let listed: Vec<ListedRepository> = response.json()?;
            result
                .changed
                .extend(listed.into_iter().map(|r| AccountRepository {
                    github_id: r.id,
                    owner: r.owner.login,
                    name: r.name,
                }));
            result.etags.push(response.etag());
            result.any_changed = true;
            next = response.next_page();
        }
        page += 1;
    }
    Ok(result)
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
