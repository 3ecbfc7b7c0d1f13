//! Changes made "on GitHub" after a sync: issues and pull requests closed, merged, edited or
//! deleted, repositories renamed, tokens revoked; and per-token request counts read back
//! from the request log.
//!
//! ```text
//! gh.close_issue("acme", "widgets", 1);       // state closed, closed_at and updated_at now
//! gh.delete_issue("acme", "widgets", 1);      // gone from every list
//! gh.revoke_tokens_of("octocat");             // every request with them: 401 Bad credentials
//! gh.requests_with_token("ghp_abc")           // what that token asked, with the statuses
//! ```

use chrono::{SubsecRound, Utc};

use crate::integration::{Issue, repo_key};
use crate::server::FakeGitHub;
use crate::types::RecordedRequest;

impl FakeGitHub {
    /// Applies `change` to issue (or pull request) `number` and moves its `updated_at` to now.
    /// Panics if there is no such issue.
    fn change_issue(&self, owner: &str, name: &str, number: i64, change: impl FnOnce(&mut Issue)) {
        let mut data = self.state.integration.lock();
        let issue = data
            .repos
            .get_mut(&repo_key(owner, name))
            .and_then(|items| items.issues.iter_mut().find(|i| i.number == number))
            .unwrap_or_else(|| panic!("fake GitHub: no issue {owner}/{name}#{number}"));
        change(issue);
        issue.updated_at = Utc::now().trunc_subsecs(0).max(issue.updated_at);
    }

    /// Closes issue or pull request `number` (`state: closed`, `closed_at` now).
    pub fn close_issue(&self, owner: &str, name: &str, number: i64) {
        self.change_issue(owner, name, number, |i| {
            i.closed_at = Some(Utc::now().trunc_subsecs(0));
        });
    }

    /// Merges pull request `number` (closed, `merged_at` now).
    pub fn merge_pull(&self, owner: &str, name: &str, number: i64) {
        self.change_issue(owner, name, number, |i| {
            let now = Utc::now().trunc_subsecs(0);
            i.closed_at = Some(now);
            i.merged_at = Some(now);
        });
    }

    /// Changes the title of issue or pull request `number`.
    pub fn edit_issue(&self, owner: &str, name: &str, number: i64, title: &str) {
        self.change_issue(owner, name, number, |i| i.title = title.to_string());
    }

    /// Deletes issue or pull request `number`: no list shows it any more. No-op if unknown.
    pub fn delete_issue(&self, owner: &str, name: &str, number: i64) {
        if let Some(items) = self
            .state
            .integration
            .lock()
            .repos
            .get_mut(&repo_key(owner, name))
        {
            items.issues.retain(|i| i.number != number);
        }
    }

    /// Renames repository `owner/name` to `owner/new_name`, keeping its id and items.
    /// Panics if the repository does not exist.
    pub fn rename_repo(&self, owner: &str, name: &str, new_name: &str) {
        assert!(
            self.state.rename_repo(owner, name, new_name),
            "fake GitHub: no repository {owner}/{name}"
        );
        let mut data = self.state.integration.lock();
        if let Some(items) = data.repos.remove(&repo_key(owner, name)) {
            data.repos.insert(repo_key(owner, new_name), items);
        }
    }

    /// Revokes `token`: from now on every request with it is answered 401 `Bad credentials`.
    pub fn revoke_token(&self, token: &str) {
        self.state.oauth.revoke(token);
    }

    /// Revokes every OAuth token issued to `login` (the user revoked the app); returns them.
    pub fn revoke_tokens_of(&self, login: &str) -> Vec<String> {
        self.state.oauth.revoke_login(login)
    }

    /// The core budget of `token` as its next answer would report it: (limit, remaining, reset).
    pub fn rate_limit_of(&self, token: &str) -> (i64, i64, i64) {
        let b = self.state.budget(Some(&format!("Bearer {token}")));
        (b.limit, b.remaining, b.reset)
    }

    /// The recorded requests that carried `token` (`Authorization: token|Bearer <token>`).
    pub fn requests_with_token(&self, token: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| {
                r.header("authorization")
                    .and_then(|v| v.split_once(' '))
                    .is_some_and(|(_, t)| t.trim() == token)
            })
            .collect()
    }
}
