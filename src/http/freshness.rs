//! Freshness: `GET /sync/health` (is every sync of the caller keeping up?) and
//! `GET /github/budget` (the polling tokens' GitHub quota and forecast).

use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::error::{AppResult, ErrorBody};
use crate::github_budget::{self, GitHubBudget};
use crate::http::extract::Json;
use crate::state::AppState;
use crate::sync_health::{self, SyncHealth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(budget))
}

/// Whether every sync that keeps the caller's data fresh is keeping up.
///
/// Each item is `ok`, `stale` (its last success, or its creation if it never synced, is
/// older than twice its interval) or `failing` (its last attempt failed). Sections follow
/// the caller's rights: an API key sees only the sections its scopes read (`read:tracking`:
/// repositories and accounts; `read:data`: the integration; `read:repos`: pull
/// repositories; `read:backups`: backups); the others are `null`.
#[utoipa::path(get, path = "/sync/health", tag = "freshness",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The health of every sync of the caller", body = SyncHealth),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "An API key without any read scope", body = ErrorBody),
    ))]
async fn health(State(state): State<AppState>, auth: AuthUser) -> AppResult<Json<SyncHealth>> {
    Ok(Json(sync_health::for_user(&state, &auth).await?))
}

/// The GitHub budget of each polling token (`GITHUB_TOKENS`).
///
/// Per token (named by its place in `GITHUB_TOKENS` and a short fingerprint, never its
/// value): the limit, remaining quota and reset time GitHub last reported to this server,
/// the requests it made in the last hour by outcome (`200`, `304`, `4xx`, `5xx`; every
/// replica's, written every 5 seconds, plus this server's not yet written), and a forecast
/// at that rate: when the quota runs out before its reset, and how many more repositories
/// it could keep fresh at `EVENTS_POLL_INTERVAL_SECS`.
#[utoipa::path(get, path = "/github/budget", tag = "freshness",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The budget of every polling token", body = GitHubBudget),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "An API key without `read:tracking`", body = ErrorBody),
    ))]
async fn budget(State(state): State<AppState>, _auth: AuthUser) -> AppResult<Json<GitHubBudget>> {
    Ok(Json(github_budget::budget(&state).await?))
}
