//! Accounts: a user or organization by login, the repositories it owns (every page,
//! conditional per page), and the user a token belongs to (`GET /user`).

use serde::Deserialize;
use serde_json::Value;

use super::{GitHubClient, GitHubError, GitHubRequest};
use crate::store::accounts::AccountRepository;

/// Guards against a `Link` loop: 1,000 pages are 100,000 repositories.
const MAX_PAGES: usize = 1000;

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
}

/// `GET /users/{login}`; `login` must already be validated (it goes into the path).
pub async fn user(client: &GitHubClient, login: &str) -> Result<User, GitHubError> {
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
pub async fn user_repos(
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

/// The profile of a token's user, as GitHub sent it (stored with the integration).
#[derive(Debug, Clone)]
pub struct Profile(pub Value);

impl Profile {
    /// GitHub's user id and login, when the profile has both.
    pub fn identity(&self) -> Option<(i64, &str)> {
        Some((self.0["id"].as_i64()?, self.0["login"].as_str()?))
    }
}

/// `GET /user` with a user's own token.
pub async fn authenticated_user(
    client: &GitHubClient,
    token: &str,
) -> Result<Profile, GitHubError> {
    let response = client
        .send(GitHubRequest {
            path_or_url: "/user",
            token: Some(token),
            ..GitHubRequest::default()
        })
        .await?;
    Ok(Profile(response.json()?))
}
