//! The fake's side of the GitHub integration: `GET /user` by token (tokens come from the
//! OAuth flow in `oauth.rs`), organizations and their members and repositories, and per
//! repository commits (`since`), pull requests, issues (pull requests among them, as GitHub
//! lists them) and issue events. Lists are paginated with `Link` and carry ETags.
//!
//! ```text
//! gh.add_oauth_code("code123", "octocat");   // see oauth.rs
//! gh.add_org("acme"); gh.add_org_member("acme", "octocat");
//! gh.add_repo("acme", "widgets");
//! gh.add_commit("acme", "widgets", "Fix the bug", "Mona", at);
//! ```

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::fixtures::{node_id, repo_json, simple_user, ts, user_json};
use super::http::{DOCS, ListOpts, Req, error_json, list_json, not_found, ok_json};
use super::state::{Repo, State};
use crate::server::FakeGitHub;

type St = AxumState<std::sync::Arc<State>>;

const TEMPLATES: &str = include_str!("fixtures/integration.json");

fn template(name: &str) -> Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    CELL.get_or_init(|| serde_json::from_str(TEMPLATES).expect("bundled fixture JSON is valid"))
        [name]
        .clone()
}

#[derive(Debug, Clone)]
struct Commit {
    sha: String,
    message: String,
    author_name: String,
    author_login: Option<String>,
    date: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub(crate) id: i64,
    pub(crate) number: i64,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) is_pull: bool,
    pub(crate) user_login: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    /// Set once closed (`state: closed`); `merged_at` too for a merged pull request.
    pub(crate) closed_at: Option<DateTime<Utc>>,
    pub(crate) merged_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct IssueEvent {
    id: i64,
    number: i64,
    event: String,
    actor_login: String,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub(crate) struct RepoItems {
    commits: Vec<Commit>,
    pub(crate) issues: Vec<Issue>,
    events: Vec<IssueEvent>,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// org login (lowercase) → (login, description, member logins)
    orgs: BTreeMap<String, (String, String, Vec<String>)>,
    /// "owner/name" (lowercase) → items
    pub(crate) repos: BTreeMap<String, RepoItems>,
    next_id: i64,
}

/// The integration data of the fake, kept beside the core state.
#[derive(Debug, Default)]
pub(crate) struct IntegrationData(Mutex<Inner>);

impl IntegrationData {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0
            .lock()
            .expect("fake GitHub integration mutex poisoned (a panic happened while holding it)")
    }
}

pub(crate) fn repo_key(owner: &str, name: &str) -> String {
    format!(
        "{}/{}",
        owner.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

impl Inner {
    fn take_id(&mut self) -> i64 {
        self.next_id += 1;
        5_000_000 + self.next_id
    }
}

impl FakeGitHub {
    fn data(&self) -> MutexGuard<'_, Inner> {
        self.state.integration.lock()
    }

    pub(crate) fn ensure_user(&self, login: &str) {
        if self.state.user(login).is_none() {
            self.state.add_user(login, None);
        }
    }

    /// Adds an organization (also a user-like owner, so `add_repo(org, ..)` works).
    pub fn add_org(&self, org: &str, description: &str) -> i64 {
        self.ensure_user(org);
        self.data()
            .orgs
            .entry(org.to_ascii_lowercase())
            .or_insert_with(|| (org.to_string(), description.to_string(), Vec::new()));
        self.state.user(org).map_or(0, |(u, _)| u.id)
    }

    /// Makes `login` (created if missing) a member of `org`.
    pub fn add_org_member(&self, org: &str, login: &str) {
        self.add_org(org, "");
        self.ensure_user(login);
        if let Some((_, _, members)) = self.data().orgs.get_mut(&org.to_ascii_lowercase())
            && !members.iter().any(|m| m.eq_ignore_ascii_case(login))
        {
            members.push(login.to_string());
        }
    }

    /// Adds a commit dated `date` by `author_name` (and the user of that login, if one
    /// exists); returns its sha. Panics if the repository does not exist.
    pub fn add_commit(
        &self,
        owner: &str,
        name: &str,
        message: &str,
        author_name: &str,
        date: DateTime<Utc>,
    ) -> String {
        assert!(
            self.state.repo(owner, name).is_some(),
            "fake GitHub: no repository {owner}/{name}; call add_repo first"
        );
        let author_login = self.state.user(author_name).map(|(u, _)| u.login);
        let mut data = self.data();
        let items = data.repos.entry(repo_key(owner, name)).or_default();
        let seed = format!("{owner}/{name}:{}:{message}", items.commits.len());
        let sha = hex::encode(Sha256::digest(seed.as_bytes()))[..40].to_string();
        items.commits.push(Commit {
            sha: sha.clone(),
            message: message.to_string(),
            author_name: author_name.to_string(),
            author_login,
            date: date.trunc_subsecs(0),
        });
        sha
    }

    /// Opens an issue (or, with `pull`, a pull request) by `login`; returns its number.
    pub fn add_issue(&self, owner: &str, name: &str, title: &str, body: &str, login: &str) -> i64 {
        self.add_item(owner, name, title, body, login, false)
    }

    /// Opens a pull request by `login`; returns its number.
    pub fn add_pull(&self, owner: &str, name: &str, title: &str, body: &str, login: &str) -> i64 {
        self.add_item(owner, name, title, body, login, true)
    }

    fn add_item(
        &self,
        owner: &str,
        name: &str,
        title: &str,
        body: &str,
        login: &str,
        is_pull: bool,
    ) -> i64 {
        assert!(
            self.state.repo(owner, name).is_some(),
            "fake GitHub: no repository {owner}/{name}; call add_repo first"
        );
        self.ensure_user(login);
        let mut data = self.data();
        let id = data.take_id();
        let items = data.repos.entry(repo_key(owner, name)).or_default();
        let number = i64::try_from(items.issues.len()).unwrap_or(0) + 1;
        let t = now();
        items.issues.push(Issue {
            id,
            number,
            title: title.to_string(),
            body: body.to_string(),
            is_pull,
            user_login: login.to_string(),
            created_at: t,
            updated_at: t,
            closed_at: None,
            merged_at: None,
        });
        number
    }

    /// Records an event (`closed`, `labeled`...) on issue `number` by `actor`; returns its id.
    pub fn add_issue_event(
        &self,
        owner: &str,
        name: &str,
        number: i64,
        event: &str,
        actor: &str,
    ) -> i64 {
        self.ensure_user(actor);
        let mut data = self.data();
        let id = data.take_id();
        let items = data.repos.entry(repo_key(owner, name)).or_default();
        let t = now();
        if let Some(issue) = items.issues.iter_mut().find(|i| i.number == number) {
            issue.updated_at = t;
        }
        items.events.push(IssueEvent {
            id,
            number,
            event: event.to_string(),
            actor_login: actor.to_string(),
            created_at: t,
        });
        id
    }
}

// ----- rendering -----

/// Replaces `from` with `to` in every string of `v`.
fn rewrite(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) if s.contains(from) => *s = s.replace(from, to),
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite(i, from, to)),
        Value::Object(map) => map.values_mut().for_each(|i| rewrite(i, from, to)),
        _ => {}
    }
}

fn with_fields(mut v: Value, fields: Vec<(&str, Value)>) -> Value {
    if let Value::Object(map) = &mut v {
        for (k, val) in fields {
            map.insert(k.to_string(), val);
        }
    }
    v
}

fn point_at(v: &mut Value, base: &str, full_name: &str) {
    rewrite(v, "octocat/Hello-World", full_name);
    rewrite(v, "https://api.github.com", base);
    rewrite(v, "https://github.com", base);
}

fn user_or_null(state: &State, base: &str, login: Option<&str>) -> Value {
    login
        .and_then(|l| state.user(l))
        .map_or(Value::Null, |(u, _)| simple_user(base, &u))
}

fn org_json(state: &State, base: &str, login: &str, description: &str) -> Value {
    let id = state.user(login).map_or(0, |(u, _)| u.id);
    let mut v = template("organization");
    rewrite(
        &mut v,
        "https://api.github.com/orgs/github",
        &format!("{base}/orgs/{login}"),
    );
    with_fields(
        v,
        vec![
            ("login", json!(login)),
            ("id", json!(id)),
            ("node_id", json!(node_id("Organization", id))),
            (
                "avatar_url",
                json!(format!("https://avatars.githubusercontent.com/u/{id}?v=4")),
            ),
            ("description", json!(description)),
        ],
    )
}

fn commit_json(state: &State, base: &str, repo: &Repo, c: &Commit) -> Value {
    let full_name = repo.full_name();
    let mut v = template("commit");
    rewrite(&mut v, "6dcb09b5b57875f334f61aebed695e2e4193db5e", &c.sha);
    point_at(&mut v, base, &full_name);
    let person = json!({"name": c.author_name, "email": format!("{}@example.com", c.author_name.to_ascii_lowercase().replace(' ', ".")), "date": ts(c.date)});
    let mut commit = v["commit"].clone();
    commit = with_fields(
        commit,
        vec![
            ("message", json!(c.message)),
            ("author", person.clone()),
            ("committer", person),
        ],
    );
    let author = user_or_null(state, base, c.author_login.as_deref());
    with_fields(
        v,
        vec![
            ("sha", json!(c.sha)),
            ("node_id", json!(format!("C_{}", &c.sha[..20]))),
            ("commit", commit),
            ("author", author.clone()),
            ("committer", author),
            ("parents", json!([])),
        ],
    )
}

fn state_of(i: &Issue) -> &'static str {
    if i.closed_at.is_some() {
        "closed"
    } else {
        "open"
    }
}

fn issue_json(state: &State, base: &str, repo: &Repo, i: &Issue) -> Value {
    let mut v = template("issue");
    rewrite(&mut v, "1347", &i.number.to_string());
    point_at(&mut v, base, &repo.full_name());
    let mut fields = vec![
        ("id", json!(i.id)),
        ("node_id", json!(node_id("Issue", i.id))),
        ("number", json!(i.number)),
        ("title", json!(i.title)),
        ("body", json!(i.body)),
        ("state", json!(state_of(i))),
        ("user", user_or_null(state, base, Some(&i.user_login))),
        ("labels", json!([])),
        ("assignee", Value::Null),
        ("assignees", json!([])),
        ("milestone", Value::Null),
        ("closed_by", Value::Null),
        ("closed_at", json!(i.closed_at.map(ts))),
        ("created_at", json!(ts(i.created_at))),
        ("updated_at", json!(ts(i.updated_at))),
    ];
    if !i.is_pull {
        if let Value::Object(map) = &mut v {
            map.remove("pull_request");
        }
    } else {
        fields.push((
            "html_url",
            json!(format!("{base}/{}/pull/{}", repo.full_name(), i.number)),
        ));
    }
    with_fields(v, fields)
}

fn pull_json(state: &State, base: &str, repo: &Repo, i: &Issue) -> Value {
    let mut v = template("pull");
    rewrite(&mut v, "1347", &i.number.to_string());
    point_at(&mut v, base, &repo.full_name());
    let repo_value = repo_json(base, repo);
    let mut head = v["head"].clone();
    let mut base_ref = v["base"].clone();
    for side in [&mut head, &mut base_ref] {
        if let Value::Object(map) = side {
            map.insert("repo".into(), repo_value.clone());
            map.insert("user".into(), simple_user(base, &repo.owner));
        }
    }
    with_fields(
        v,
        vec![
            ("id", json!(i.id)),
            ("node_id", json!(node_id("PullRequest", i.id))),
            ("number", json!(i.number)),
            ("title", json!(i.title)),
            ("body", json!(i.body)),
            ("state", json!(state_of(i))),
            ("user", user_or_null(state, base, Some(&i.user_login))),
            ("labels", json!([])),
            ("assignee", Value::Null),
            ("assignees", json!([])),
            ("requested_reviewers", json!([])),
            ("requested_teams", json!([])),
            ("milestone", Value::Null),
            ("created_at", json!(ts(i.created_at))),
            ("updated_at", json!(ts(i.updated_at))),
            ("closed_at", json!(i.closed_at.map(ts))),
            ("merged_at", json!(i.merged_at.map(ts))),
            ("head", head),
            ("base", base_ref),
        ],
    )
}

fn issue_event_json(
    state: &State,
    base: &str,
    repo: &Repo,
    e: &IssueEvent,
    issue: Option<&Issue>,
) -> Value {
    let mut v = template("issue_event");
    rewrite(
        &mut v,
        "issues/events/1",
        &format!("issues/events/{}", e.id),
    );
    point_at(&mut v, base, &repo.full_name());
    with_fields(
        v,
        vec![
            ("id", json!(e.id)),
            ("node_id", json!(node_id("IssueEvent", e.id))),
            ("event", json!(e.event)),
            ("actor", user_or_null(state, base, Some(&e.actor_login))),
            ("commit_id", Value::Null),
            ("commit_url", Value::Null),
            ("created_at", json!(ts(e.created_at))),
            (
                "issue",
                issue.map_or(Value::Null, |i| issue_json(state, base, repo, i)),
            ),
        ],
    )
}

// ----- handlers -----

fn token_login(state: &State, headers: &HeaderMap) -> Option<String> {
    state.oauth.login_of(headers)
}

fn requires_authentication() -> Response {
    error_json(StatusCode::UNAUTHORIZED, "Requires authentication", DOCS)
}

/// `GET /user`: the token's user, with the private profile fields.
pub(crate) async fn authenticated_user(AxumState(state): St, req: Req) -> Response {
    let Some((user, public_repos)) =
        token_login(&state, &req.headers).and_then(|login| state.user(&login))
    else {
        return requires_authentication();
    };
    let mut v = user_json(&req.base, &user, public_repos);
    let private = template("authenticated_user");
    if let (Value::Object(map), Value::Object(extra)) = (&mut v, private) {
        for key in [
            "private_gists",
            "total_private_repos",
            "owned_private_repos",
            "disk_usage",
            "collaborators",
            "two_factor_authentication",
            "plan",
        ] {
            if let Some(value) = extra.get(key) {
                map.insert(key.to_string(), value.clone());
            }
        }
    }
    ok_json(&req, &v, None, HeaderMap::new())
}

fn member_orgs(state: &State, login: &str) -> Vec<(String, String)> {
    state
        .integration
        .lock()
        .orgs
        .values()
        .filter(|(_, _, members)| members.iter().any(|m| m.eq_ignore_ascii_case(login)))
        .map(|(org, description, _)| (org.clone(), description.clone()))
        .collect()
}

/// `GET /user/orgs`.
pub(crate) async fn user_orgs(AxumState(state): St, req: Req) -> Response {
    let Some(login) = token_login(&state, &req.headers) else {
        return requires_authentication();
    };
    let orgs = member_orgs(&state, &login);
    list_json(&req, &orgs, ListOpts::default(), |(org, description)| {
        org_json(&state, &req.base, org, description)
    })
}

/// `GET /user/repos`: owned repositories and those of the user's organizations, by full name.
pub(crate) async fn authenticated_user_repos(AxumState(state): St, req: Req) -> Response {
    let Some(login) = token_login(&state, &req.headers) else {
        return requires_authentication();
    };
    let mut repos = state.user_repos(&login).unwrap_or_default();
    for (org, _) in member_orgs(&state, &login) {
        repos.extend(state.user_repos(&org).unwrap_or_default());
    }
    repos.sort_by_key(|r| r.full_name().to_ascii_lowercase());
    list_json(&req, &repos, ListOpts::default(), |r| {
        repo_json(&req.base, r)
    })
}

/// `GET /orgs/{org}/repos`.
pub(crate) async fn org_repos(AxumState(state): St, Path(org): Path<String>, req: Req) -> Response {
    if !state
        .integration
        .lock()
        .orgs
        .contains_key(&org.to_ascii_lowercase())
    {
        return not_found();
    }
    let repos = state.user_repos(&org).unwrap_or_default();
    list_json(&req, &repos, ListOpts::default(), |r| {
        repo_json(&req.base, r)
    })
}

/// `GET /orgs/{org}/members`.
pub(crate) async fn org_members(
    AxumState(state): St,
    Path(org): Path<String>,
    req: Req,
) -> Response {
    let Some((_, _, members)) = state
        .integration
        .lock()
        .orgs
        .get(&org.to_ascii_lowercase())
        .cloned()
    else {
        return not_found();
    };
    let users: Vec<_> = members
        .iter()
        .filter_map(|m| state.user(m))
        .map(|(u, _)| u)
        .collect();
    list_json(&req, &users, ListOpts::default(), |u| {
        simple_user(&req.base, u)
    })
}

fn since(req: &Req) -> Option<DateTime<Utc>> {
    req.param("since")
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Items of a repository, with the repository; `None` if it does not exist.
fn repo_items<T>(
    state: &State,
    owner: &str,
    name: &str,
    pick: impl Fn(&RepoItems) -> Vec<T>,
) -> Option<(Repo, Vec<T>)> {
    let repo = state.repo(owner, name)?;
    let data = state.integration.lock();
    let items = data
        .repos
        .get(&repo_key(owner, name))
        .map(pick)
        .unwrap_or_default();
    Some((repo, items))
}

/// `GET /repos/{owner}/{repo}/commits?since=`: newest first; 409 for an empty repository.
pub(crate) async fn commits(
    AxumState(state): St,
    Path((owner, name)): Path<(String, String)>,
    req: Req,
) -> Response {
    let Some((repo, mut list)) = repo_items(&state, &owner, &name, |i| i.commits.clone()) else {
        return not_found();
    };
    if list.is_empty() {
        return error_json(StatusCode::CONFLICT, "Git Repository is empty.", DOCS);
    }
    if let Some(since) = since(&req) {
        list.retain(|c| c.date >= since);
    }
    list.sort_by_key(|c| std::cmp::Reverse(c.date));
    list_json(&req, &list, ListOpts::default(), |c| {
        commit_json(&state, &req.base, &repo, c)
    })
}

/// Issues or pull requests in GitHub's order: `sort=created|updated`, `direction`, `since`.
fn ordered(req: &Req, mut list: Vec<Issue>) -> Vec<Issue> {
    if let Some(since) = since(req) {
        list.retain(|i| i.updated_at >= since);
    }
    let by_updated = req.param("sort") == Some("updated");
    list.sort_by_key(|i| {
        (
            if by_updated {
                i.updated_at
            } else {
                i.created_at
            },
            i.id,
        )
    });
    if req.param("direction") != Some("asc") {
        list.reverse();
    }
    list
}

/// `GET /repos/{owner}/{repo}/pulls?state=all&sort=&direction=`.
pub(crate) async fn pulls(
    AxumState(state): St,
    Path((owner, name)): Path<(String, String)>,
    req: Req,
) -> Response {
    let Some((repo, list)) = repo_items(&state, &owner, &name, |i| {
        i.issues.iter().filter(|x| x.is_pull).cloned().collect()
    }) else {
        return not_found();
    };
    let list = ordered(&req, list);
    list_json(&req, &list, ListOpts::default(), |i| {
        pull_json(&state, &req.base, &repo, i)
    })
}

/// `GET /repos/{owner}/{repo}/issues?state=all&sort=&direction=&since=`: pull requests included.
pub(crate) async fn issues(
    AxumState(state): St,
    Path((owner, name)): Path<(String, String)>,
    req: Req,
) -> Response {
    let Some((repo, list)) = repo_items(&state, &owner, &name, |i| i.issues.clone()) else {
        return not_found();
    };
    let list = ordered(&req, list);
    list_json(&req, &list, ListOpts::default(), |i| {
        issue_json(&state, &req.base, &repo, i)
    })
}

/// `GET /repos/{owner}/{repo}/issues/events`: newest first.
pub(crate) async fn issue_events(
    AxumState(state): St,
    Path((owner, name)): Path<(String, String)>,
    req: Req,
) -> Response {
    let Some((repo, (mut events, issues))) = repo_items(&state, &owner, &name, |i| {
        vec![(i.events.clone(), i.issues.clone())]
    })
    .map(|(r, mut v)| (r, v.pop().unwrap_or_default())) else {
        return not_found();
    };
    events.sort_by_key(|e| std::cmp::Reverse((e.created_at, e.id)));
    list_json(&req, &events, ListOpts::default(), |e| {
        let issue = issues.iter().find(|i| i.number == e.number);
        issue_event_json(&state, &req.base, &repo, e, issue)
    })
}
