//! The running fake: start it, seed it, inject faults, read its request log.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::routes;
use crate::state::State;
use crate::types::{FakeEvent, Fault, RecordedRequest};

/// Aborts the server task when the last [`FakeGitHub`] clone is dropped.
#[derive(Debug)]
struct ServerTask(JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running fake GitHub. Cheap to clone; the server stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct FakeGitHub {
    pub(crate) state: Arc<State>,
    url: String,
    _task: Arc<ServerTask>,
}

impl FakeGitHub {
    /// Binds 127.0.0.1 on a free port and serves in the background.
    pub async fn start() -> FakeGitHub {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(addr)
            .await
            .expect("fake GitHub: binding 127.0.0.1:0 must succeed")
    }

    /// Binds `addr` and serves in the background.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<FakeGitHub> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let url = format!("http://{local}");
        let state = Arc::new(State::new(url.clone()));
        let app = routes::router(state.clone());
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(%err, "fake GitHub server stopped");
            }
        });
        tracing::debug!(%url, "fake GitHub listening");
        Ok(FakeGitHub {
            state,
            url,
            _task: Arc::new(ServerTask(task)),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash: both GITHUB_API_URL and GITHUB_WEB_URL.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The complete app (routes + faults/rate-limit/recording layer) sharing this state.
    pub fn router(&self) -> axum::Router {
        routes::router(self.state.clone())
    }

    // ----- seeding -----

    /// Adds (or renames) a user; returns its id (stable per login, case-insensitive).
    pub fn add_user(&self, login: &str, name: Option<&str>) -> i64 {
        self.state.add_user(login, name)
    }

    /// Adds a repository (idempotent); creates the owner user if missing. Returns its id.
    pub fn add_repo(&self, owner: &str, name: &str) -> i64 {
        self.state.add_repo(owner, name)
    }

    /// Sets stargazers (also `watchers_count`), forks and subscribers (`watchers`) counts.
    /// Panics if the repository does not exist.
    pub fn set_repo_counts(&self, owner: &str, name: &str, stars: i64, forks: i64, watchers: i64) {
        self.state
            .set_repo_counts(owner, name, stars, forks, watchers);
    }

    /// Sets when the repository was created (`created_at` in its JSON; `add_repo` says now).
    /// Panics if the repository does not exist.
    pub fn set_repo_created_at(&self, owner: &str, name: &str, created_at: DateTime<Utc>) {
        self.state.set_repo_created_at(owner, name, created_at);
    }

    /// Sets the repository's primary language (`language` in its JSON).
    pub fn set_repo_language(&self, owner: &str, name: &str, language: &str) {
        self.state.set_repo_language(owner, name, language);
    }

    /// Removes a repository: it answers 404 afterwards. No-op if unknown.
    pub fn remove_repo(&self, owner: &str, name: &str) {
        self.state.remove_repo(owner, name);
    }

    /// Appends events (newest last). Panics if the repository does not exist.
    pub fn push_events(&self, owner: &str, name: &str, events: Vec<FakeEvent>) {
        self.state.push_events(owner, name, events);
    }

    /// Appends `count` events of `event_type` by the owner, at `start`, `start + step_secs`,
    /// ...; returns their ids (oldest first). Panics if the repository does not exist.
    pub fn generate_events(
        &self,
        owner: &str,
        name: &str,
        count: usize,
        event_type: &str,
        start: DateTime<Utc>,
        step_secs: i64,
    ) -> Vec<String> {
        self.state
            .generate_events(owner, name, count, event_type, start, step_secs)
    }

    /// A fresh event id (numeric string, larger than every id handed out before).
    pub fn next_event_id(&self) -> String {
        self.state.next_event_id()
    }

    // ----- fault injection -----

    /// The next request whose path starts with `path_prefix` gets `fault` (FIFO, once).
    pub fn fail_next(&self, path_prefix: &str, fault: Fault) {
        self.state.fail_next(path_prefix, fault);
    }

    /// `X-Poll-Interval` on events responses (default 60).
    pub fn set_poll_interval(&self, secs: u64) {
        self.state.set_poll_interval(secs);
    }

    /// Sets the core budget of every token (each token then spends its own, as on GitHub).
    pub fn set_rate_limit(&self, limit: i64, remaining: i64, reset_epoch: i64) {
        self.state
            .set_rate_limit(true, limit, remaining, reset_epoch);
    }

    /// Sets the unauthenticated budget (default 60/hour).
    pub fn set_anonymous_rate_limit(&self, limit: i64, remaining: i64, reset_epoch: i64) {
        self.state
            .set_rate_limit(false, limit, remaining, reset_epoch);
    }

    // ----- observation -----

    /// Every request received, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.log.requests()
    }

    /// Number of recorded requests whose path starts with `path_prefix`.
    pub fn request_count(&self, path_prefix: &str) -> usize {
        self.state.log.count(path_prefix)
    }

    pub fn clear_requests(&self) {
        self.state.log.clear();
    }
}
