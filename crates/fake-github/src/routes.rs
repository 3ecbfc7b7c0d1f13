//! The router and the endpoint handlers.
//!
//! To add an endpoint: add a `.route(..)` line in [`router`] and a handler taking
//! `State<Arc<State>>`, `Path<..>` and [`Req`]; answer with `http::ok_json` (object) or
//! `http::list_json` (paginated list) and `http::not_found()`. Faults, rate limits and the
//! request log apply to every route through `layer::github_layer`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State as AxumState};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderName};
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};

use super::{integration, oauth, star_history};

use super::fixtures::{event_json, rate_limit_json, repo_json, user_json};
use super::http::{ListOpts, Req, list_json, not_found, ok_json, put};
use super::layer::github_layer;
use super::state::State;

/// Only the newest 300 events of a repository timeline are reachable.
pub(crate) const EVENTS_WINDOW: usize = 300;

type St = AxumState<Arc<State>>;

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/rate_limit", get(rate_limit))
        .route("/users/{login}", get(get_user))
        .route("/users/{login}/repos", get(user_repos))
        .route("/repos/{owner}/{repo}", get(get_repo))
        .route("/repos/{owner}/{repo}/events", get(repo_events))
        .route("/graphql", axum::routing::post(super::graphql::answer))
        .route(
            "/repos/{owner}/{repo}/stargazers/history",
            get(star_history::stargazers_history),
        )
        .route("/login/oauth/authorize", get(oauth::authorize))
        .route("/login/oauth/access_token", post(oauth::access_token))
        .route("/user", get(integration::authenticated_user))
        .route("/user/orgs", get(integration::user_orgs))
        .route("/user/repos", get(integration::authenticated_user_repos))
        .route("/orgs/{org}/repos", get(integration::org_repos))
        .route("/orgs/{org}/members", get(integration::org_members))
        .route("/repos/{owner}/{repo}/commits", get(integration::commits))
        .route("/repos/{owner}/{repo}/pulls", get(integration::pulls))
        .route("/repos/{owner}/{repo}/issues", get(integration::issues))
        .route(
            "/repos/{owner}/{repo}/issues/events",
            get(integration::issue_events),
        )
        .fallback(fallback)
        .method_not_allowed_fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), github_layer))
        .with_state(state)
}

async fn fallback() -> Response {
    not_found()
}

/// `GET /rate_limit` (never charged).
async fn rate_limit(AxumState(state): St, req: Req) -> Response {
    let who = req
        .headers
        .get(AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let budget = state.budget(who.as_deref());
    let mut resp = ok_json(&req, &rate_limit_json(budget), None, HeaderMap::new());
    // A rate-limit status must never be served from a cache.
    resp.headers_mut().remove(axum::http::header::ETAG);
    resp
}

/// `GET /users/{login}`.
async fn get_user(AxumState(state): St, Path(login): Path<String>, req: Req) -> Response {
    match state.user(&login) {
        Some((user, public_repos)) => ok_json(
            &req,
            &user_json(&req.base, &user, public_repos),
            None,
            HeaderMap::new(),
        ),
        None => not_found(),
    }
}

/// `GET /users/{login}/repos?per_page=&page=`: repositories the user owns, by full name.
async fn user_repos(AxumState(state): St, Path(login): Path<String>, req: Req) -> Response {
    match state.user_repos(&login) {
        Some(repos) => list_json(&req, &repos, ListOpts::default(), |r| {
            repo_json(&req.base, r)
        }),
        None => not_found(),
    }
}

/// `GET /repos/{owner}/{repo}`.
async fn get_repo(
    AxumState(state): St,
    Path((owner, repo)): Path<(String, String)>,
    req: Req,
) -> Response {
    match state.repo(&owner, &repo) {
        Some(repo) => ok_json(&req, &repo_json(&req.base, &repo), None, HeaderMap::new()),
        None => not_found(),
    }
}

/// `GET /repos/{owner}/{repo}/events`: newest first, newest 300 reachable, `X-Poll-Interval`,
/// ETag over the whole reachable timeline (plus the page asked for).
async fn repo_events(
    AxumState(state): St,
    Path((owner, repo)): Path<(String, String)>,
    req: Req,
) -> Response {
    let Some((repo, events)) = state.repo_timeline(&owner, &repo, EVENTS_WINDOW) else {
        return not_found();
    };
    let mut seed = format!("repo:{}", repo.id);
    for e in &events {
        seed.push(',');
        seed.push_str(&e.id);
    }
    let mut headers = HeaderMap::new();
    put(
        &mut headers,
        HeaderName::from_static("x-poll-interval"),
        &state.poll_interval().to_string(),
    );
    let opts = ListOpts {
        window: Some(EVENTS_WINDOW),
        etag_seed: Some(seed),
        headers,
        ..ListOpts::default()
    };
    list_json(&req, &events, opts, |e| event_json(&req.base, &repo, e))
}
