//! The fake's data (users, repositories, timelines, budgets, faults).
//!
//! One `std::sync::Mutex` guards everything; every critical section is short and never spans
//! an `.await`. Handlers copy what they need out (`snapshot_*`) and render outside the lock.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, SubsecRound, Utc};

use super::budget::{ANON_LIMIT, AUTH_LIMIT, Budget};
use super::log::RequestLog;
use crate::types::{FakeEvent, Fault};

const FIRST_USER_ID: i64 = 1000;
const FIRST_REPO_ID: i64 = 100_000;
const FIRST_EVENT_ID: u64 = 30_000_000_000;

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub id: String,
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    pub actor_id: i64,
    pub actor_login: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Repo {
    pub id: i64,
    pub owner: User,
    pub name: String,
    pub stars: i64,
    pub forks: i64,
    pub watchers: i64,
    pub open_issues: i64,
    /// GitHub's `language`: the primary language, `null` until set.
    pub language: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub pushed_at: DateTime<Utc>,
}

impl Repo {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner.login, self.name)
    }
}

#[derive(Debug)]
struct RepoData {
    repo: Repo,
    events: Vec<Event>,
}

#[derive(Debug)]
struct Inner {
    users: BTreeMap<String, User>,
    repos: BTreeMap<String, RepoData>,
    next_user_id: i64,
    next_repo_id: i64,
    next_event_id: u64,
    faults: Vec<(String, Fault)>,
    poll_interval: u64,
    /// The budget every token starts with (each token has its own, as on GitHub).
    auth: Budget,
    /// Each token's budget, by its `Authorization` value.
    tokens: BTreeMap<String, Budget>,
    anon: Budget,
}

#[derive(Debug)]
pub(crate) struct State {
    pub base_url: String,
    pub log: RequestLog,
    pub(crate) integration: super::integration::IntegrationData,
    pub(crate) oauth: super::oauth::OAuthData,
    pub(crate) star_history: super::star_history::StarHistory,
    inner: Mutex<Inner>,
}

fn key(owner: &str, name: &str) -> String {
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
    fn ensure_user(&mut self, login: &str) -> User {
        let k = login.to_ascii_lowercase();
        if let Some(u) = self.users.get(&k) {
            return u.clone();
        }
        let t = now();
        let user = User {
            id: self.next_user_id,
            login: login.to_string(),
            name: None,
            created_at: t,
            updated_at: t,
        };
        self.next_user_id += 1;
        self.users.insert(k, user.clone());
        user
    }

    fn repo_mut(&mut self, owner: &str, name: &str) -> &mut RepoData {
        match self.repos.get_mut(&key(owner, name)) {
            Some(data) => data,
            None => panic!("fake GitHub: no repository {owner}/{name}; call add_repo first"),
        }
    }

    fn take_event_id(&mut self) -> String {
        let id = self.next_event_id;
        self.next_event_id += 1;
        id.to_string()
    }
}

impl State {
    pub fn new(base_url: String) -> State {
        let t = Utc::now().timestamp();
        State {
            base_url,
            log: RequestLog::default(),
            integration: Default::default(),
            oauth: Default::default(),
            star_history: Default::default(),
            inner: Mutex::new(Inner {
                users: BTreeMap::new(),
                repos: BTreeMap::new(),
                next_user_id: FIRST_USER_ID,
                next_repo_id: FIRST_REPO_ID,
                next_event_id: FIRST_EVENT_ID,
                faults: Vec::new(),
                poll_interval: 60,
                auth: Budget::fresh(AUTH_LIMIT, t),
                tokens: BTreeMap::new(),
                anon: Budget::fresh(ANON_LIMIT, t),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .expect("fake GitHub state mutex poisoned (a panic happened while holding it)")
    }

    // ----- seeding -----

    pub fn add_user(&self, login: &str, name: Option<&str>) -> i64 {
        let mut g = self.lock();
        let mut user = g.ensure_user(login);
        user.name = name.map(str::to_string);
        user.updated_at = now().max(user.created_at);
        let id = user.id;
        // Keep the owner copies inside repositories in step.
        for data in g.repos.values_mut() {
            if data.repo.owner.id == id {
                data.repo.owner = user.clone();
            }
        }
        g.users.insert(login.to_ascii_lowercase(), user);
        id
    }

    pub fn add_repo(&self, owner: &str, name: &str) -> i64 {
        let mut g = self.lock();
        if let Some(data) = g.repos.get(&key(owner, name)) {
            return data.repo.id;
        }
        let owner = g.ensure_user(owner);
        let id = g.next_repo_id;
        g.next_repo_id += 1;
        let t = now();
        let repo = Repo {
            id,
            owner,
            name: name.to_string(),
            stars: 0,
            forks: 0,
            watchers: 0,
            open_issues: 0,
            language: None,
            created_at: t,
            updated_at: t,
            pushed_at: t,
        };
        g.repos.insert(
            key(&repo.owner.login, name),
            RepoData {
                repo,
                events: Vec::new(),
            },
        );
        id
    }

    pub fn set_repo_counts(&self, owner: &str, name: &str, stars: i64, forks: i64, watchers: i64) {
        let mut g = self.lock();
        let r = &mut g.repo_mut(owner, name).repo;
        r.stars = stars;
        r.forks = forks;
        r.watchers = watchers;
        r.updated_at = now().max(r.updated_at);
    }

    /// Sets when the repository was created (`created_at` in its JSON).
    pub fn set_repo_created_at(&self, owner: &str, name: &str, created_at: DateTime<Utc>) {
        let mut g = self.lock();
        g.repo_mut(owner, name).repo.created_at = created_at.trunc_subsecs(0);
    }

    /// Sets the repository's primary language (`language` in its JSON).
    pub fn set_repo_language(&self, owner: &str, name: &str, language: &str) {
        let mut g = self.lock();
        let r = &mut g.repo_mut(owner, name).repo;
        r.language = Some(language.to_string());
        r.updated_at = now().max(r.updated_at);
    }

    /// Renames a repository (same id, new `name`, `updated_at` now); false if unknown.
    pub fn rename_repo(&self, owner: &str, name: &str, new_name: &str) -> bool {
        let mut g = self.lock();
        let Some(mut data) = g.repos.remove(&key(owner, name)) else {
            return false;
        };
        data.repo.name = new_name.to_string();
        data.repo.updated_at = now().max(data.repo.updated_at);
        g.repos.insert(key(owner, new_name), data);
        true
    }

    pub fn remove_repo(&self, owner: &str, name: &str) {
        self.lock().repos.remove(&key(owner, name));
    }

    pub fn push_events(&self, owner: &str, name: &str, events: Vec<FakeEvent>) {
        let mut g = self.lock();
        let actors: Vec<User> = events
            .iter()
            .map(|e| g.ensure_user(&e.actor_login))
            .collect();
        let data = g.repo_mut(owner, name);
        for (e, actor) in events.into_iter().zip(actors) {
            let r = &mut data.repo;
            if e.event_type == "PushEvent" {
                r.pushed_at = r.pushed_at.max(e.created_at);
            }
            r.updated_at = r.updated_at.max(e.created_at);
            data.events.push(Event {
                id: e.id,
                event_type: e.event_type,
                created_at: e.created_at,
                actor_id: actor.id,
                actor_login: actor.login,
            });
        }
    }

    pub fn generate_events(
        &self,
        owner: &str,
        name: &str,
        count: usize,
        event_type: &str,
        start: DateTime<Utc>,
        step_secs: i64,
    ) -> Vec<String> {
        let (actor, ids) = {
            let mut g = self.lock();
            let login = g.repo_mut(owner, name).repo.owner.login.clone();
            let ids: Vec<String> = (0..count).map(|_| g.take_event_id()).collect();
            (login, ids)
        };
        let mut at = start;
        let events = ids
            .iter()
            .map(|id| {
                let e = FakeEvent {
                    id: id.clone(),
                    event_type: event_type.to_string(),
                    created_at: at,
                    actor_login: actor.clone(),
                };
                at += Duration::seconds(step_secs);
                e
            })
            .collect();
        self.push_events(owner, name, events);
        ids
    }

    pub fn next_event_id(&self) -> String {
        self.lock().take_event_id()
    }

    // ----- knobs -----

    pub fn fail_next(&self, prefix: &str, fault: Fault) {
        self.lock().faults.push((prefix.to_string(), fault));
    }

    /// Removes and returns the oldest queued fault whose prefix matches `path`.
    pub fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut g = self.lock();
        let pos = g.faults.iter().position(|(p, _)| path.starts_with(p))?;
        Some(g.faults.remove(pos).1)
    }

    pub fn set_poll_interval(&self, secs: u64) {
        self.lock().poll_interval = secs;
    }

    pub fn poll_interval(&self) -> u64 {
        self.lock().poll_interval
    }

    /// Sets the budget of every token (`authenticated`) or of anonymous callers.
    pub fn set_rate_limit(&self, authenticated: bool, limit: i64, remaining: i64, reset: i64) {
        let mut g = self.lock();
        let budget = Budget {
            limit,
            remaining,
            reset,
        };
        if authenticated {
            g.auth = budget;
            g.tokens.clear();
        } else {
            g.anon = budget;
        }
    }

    /// The budget of `who` (an `Authorization` value; `None`: anonymous), after a reset if due.
    pub fn budget(&self, who: Option<&str>) -> Budget {
        self.with_budget(who, |_| {})
    }

    /// Charges one request to `who` and returns the budget afterwards.
    pub fn charge(&self, who: Option<&str>) -> Budget {
        self.with_budget(who, |b| b.remaining = (b.remaining - 1).max(0))
    }

    fn with_budget(&self, who: Option<&str>, change: impl FnOnce(&mut Budget)) -> Budget {
        let t = Utc::now().timestamp();
        let mut g = self.lock();
        let template = g.auth;
        let b = match who {
            Some(who) => g.tokens.entry(who.to_string()).or_insert(template),
            None => &mut g.anon,
        };
        b.refresh(t);
        change(b);
        *b
    }

    // ----- reads for handlers -----

    pub fn repo(&self, owner: &str, name: &str) -> Option<Repo> {
        Some(self.lock().repos.get(&key(owner, name))?.repo.clone())
    }

    /// The repository and its newest `max` events, newest first.
    pub fn repo_timeline(&self, owner: &str, name: &str, max: usize) -> Option<(Repo, Vec<Event>)> {
        let g = self.lock();
        let data = g.repos.get(&key(owner, name))?;
        let repo = data.repo.clone();
        Some((repo, data.events.iter().rev().take(max).cloned().collect()))
    }

    pub fn user(&self, login: &str) -> Option<(User, i64)> {
        let g = self.lock();
        let user = g.users.get(&login.to_ascii_lowercase())?.clone();
        let count = g.repos.values().filter(|d| owned_by(d, user.id)).count();
        Some((user, i64::try_from(count).unwrap_or(i64::MAX)))
    }

    /// The user's repositories sorted by full name (GitHub's default for this list).
    pub fn user_repos(&self, login: &str) -> Option<Vec<Repo>> {
        let g = self.lock();
        let user = g.users.get(&login.to_ascii_lowercase())?;
        let mut repos: Vec<Repo> = g
            .repos
            .values()
            .filter(|d| owned_by(d, user.id))
            .map(|d| d.repo.clone())
            .collect();
        repos.sort_by_key(|r| r.name.to_ascii_lowercase());
        Some(repos)
    }
}

fn owned_by(d: &RepoData, user_id: i64) -> bool {
    d.repo.owner.id == user_id
}
