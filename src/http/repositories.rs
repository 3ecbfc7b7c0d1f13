//! Tracked repositories and their event statistics (seed 000).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::event_stats::{self, AllStatistics, RepositoryStatistics};
use crate::github::{self, GitHubError};
use crate::http::Message;
use crate::http::extract::{Json, Path, Query, require_fields};
use crate::http::history::StarHistoryView;
use crate::state::AppState;
use crate::store::repositories;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            add_repository,
            remove_repository,
            list_repositories
        ))
        .routes(routes!(add_repository_alias, remove_repository_alias))
        .routes(routes!(remove_repository_by_path))
        .routes(routes!(repository_stats))
        .routes(routes!(all_repository_stats))
}

/// A repository named by owner and name, as in `octocat/Hello-World`.
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
pub struct RepositoryName {
    /// 1–100 letters, digits, `-` or `_`, not starting with `-`.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$", example = "octocat")]
    #[param(
        nullable = false,
        pattern = "^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$",
        example = "octocat"
    )]
    pub owner: Option<String>,
    /// 1–100 letters, digits, `-`, `_` or `.`, not `.` or `..`.
    #[schema(value_type = String, required = true, pattern = "^([A-Za-z0-9_-][A-Za-z0-9._-]{0,99}|\\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,98}|\\.\\.[A-Za-z0-9._-]{1,98})$", example = "Hello-World")]
    #[param(
        nullable = false,
        pattern = "^([A-Za-z0-9_-][A-Za-z0-9._-]{0,99}|\\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,98}|\\.\\.[A-Za-z0-9._-]{1,98})$",
        example = "Hello-World"
    )]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedRepositoryView {
    pub owner: String,
    pub name: String,
    pub full_name: String,
    pub added_at: DateTime<Utc>,
    /// When events were last fetched successfully (a 304 counts).
    pub last_synchronized: Option<DateTime<Utc>>,
    /// The last polling problem, if the latest poll failed.
    pub last_error: Option<String>,
    /// GitHub answered 404 for this repository; it is retried with back-off.
    pub unavailable: bool,
    pub events_stored: i64,
    /// Seconds between polls now: shorter than usual while the repository is busy (after
    /// a gap), never below GitHub's `X-Poll-Interval` or 60 s.
    pub poll_interval_secs: i64,
    /// Polls that found more new events than GitHub's 300-event window shows: events
    /// between two polls were lost.
    pub event_gaps: i64,
    /// The newest gap, if any.
    pub last_gap: Option<EventGapView>,
    /// How far the daily star history (`/repositories/{owner}/{name}/history`) reaches back.
    pub star_history: StarHistoryView,
}

/// Events between `from` (the newest event stored before the poll) and `to` (the oldest
/// one it fetched) may be missing.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventGapView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// About how many events fell into it, at the rate of the events around it.
    pub estimated_missing: Option<i32>,
    pub detected_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryList {
    pub repositories: Vec<TrackedRepositoryView>,
}

/// Add a GitHub repository to your list (it must exist on GitHub).
#[utoipa::path(post, path = "/repositories", tag = "repositories", request_body = RepositoryName,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Added", body = Message),
        (status = 400, description = "Missing or invalid fields, already added, or not on GitHub", body = ErrorBody),
        (status = 503, description = "GitHub is unavailable, unreachable or rate-limiting (`GitHub is unavailable; try again later`; `Retry-After` says when to come back), or the database is unavailable. A repository someone already tracks is added without asking GitHub", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    ))]
async fn add_repository(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<RepositoryName>,
) -> AppResult<Json<Message>> {
    let (owner, name) = validated(&body)?;
    if repositories::tracked(&state.db, auth.user_id, owner, name)
        .await?
        .is_some()
    {
        return Err(AppError::bad_request("Repository is already added"));
    }
    let repository = match repositories::find(&state.db, owner, name).await? {
        // Someone already tracks it and GitHub has it: no need to ask again.
        Some(known) if !known.unavailable => known,
        _ => {
            let (owner, name, github_id) = look_up_on_github(&state, owner, name).await?;
            repositories::upsert(&state.db, &owner, &name, Some(github_id)).await?
        }
    };
    if !repositories::track(&state.db, auth.user_id, repository.id).await? {
        return Err(AppError::bad_request("Repository is already added"));
    }
    tracing::info!(user_id = auth.user_id, repository = %format!("{}/{}", repository.owner, repository.name), "repository added");
    Ok(Json(Message {
        message: "Repository was added".into(),
    }))
}

/// Alias of `POST /repositories` (the original service's code used it).
#[utoipa::path(post, path = "/repository", tag = "repositories", request_body = RepositoryName,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Added", body = Message),
        (status = 400, description = "Missing or invalid fields, already added, or not on GitHub", body = ErrorBody),
        (status = 503, description = "GitHub is unavailable, unreachable or rate-limiting (`GitHub is unavailable; try again later`; `Retry-After` says when to come back), or the database is unavailable. A repository someone already tracks is added without asking GitHub", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    ))]
async fn add_repository_alias(
    state: State<AppState>,
    auth: AuthUser,
    body: Json<RepositoryName>,
) -> AppResult<Json<Message>> {
    add_repository(state, auth, body).await
}

/// Remove a repository from your list.
#[utoipa::path(delete, path = "/repositories", tag = "repositories", request_body = RepositoryName,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Removed", body = Message),
        (status = 400, description = "Missing fields, or not in your list", body = ErrorBody),
    ))]
async fn remove_repository(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<RepositoryName>,
) -> AppResult<Json<Message>> {
    let (owner, name) = validated(&body)?;
    remove(&state, auth, owner, name).await
}

/// Alias of `DELETE /repositories`.
#[utoipa::path(delete, path = "/repository", tag = "repositories", request_body = RepositoryName,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Removed", body = Message),
        (status = 400, description = "Missing fields, or not in your list", body = ErrorBody),
    ))]
async fn remove_repository_alias(
    state: State<AppState>,
    auth: AuthUser,
    body: Json<RepositoryName>,
) -> AppResult<Json<Message>> {
    remove_repository(state, auth, body).await
}

/// Remove a repository from your list, named in the path.
#[utoipa::path(delete, path = "/repositories/{owner}/{name}", tag = "repositories",
    params(
        ("owner" = String, Path, pattern = "^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$"),
        ("name" = String, Path, pattern = "^([A-Za-z0-9_-][A-Za-z0-9._-]{0,99}|\\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,98}|\\.\\.[A-Za-z0-9._-]{1,98})$"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Removed", body = Message),
        (status = 400, description = "Invalid names, or not in your list", body = ErrorBody),
    ))]
async fn remove_repository_by_path(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((owner, name)): Path<(String, String)>,
) -> AppResult<Json<Message>> {
    let body = RepositoryName {
        owner: Some(owner),
        name: Some(name),
    };
    let (owner, name) = validated(&body)?;
    remove(&state, auth, owner, name).await
}

async fn remove(
    state: &AppState,
    auth: AuthUser,
    owner: &str,
    name: &str,
) -> AppResult<Json<Message>> {
    if !repositories::untrack(&state.db, auth.user_id, owner, name).await? {
        return Err(AppError::bad_request("Repository is not in your list"));
    }
    Ok(Json(Message {
        message: "Repository was removed".into(),
    }))
}

/// Your repositories with their sync state.
#[utoipa::path(get, path = "/repositories", tag = "repositories", security(("bearer" = [])),
    responses((status = 200, body = RepositoryList), (status = 401, body = ErrorBody)))]
async fn list_repositories(
    State(state): State<AppState>,
    auth: AuthUser,
) -> AppResult<Json<RepositoryList>> {
    let rows = repositories::list_tracked(&state.db, auth.user_id).await?;
    let repositories = rows
        .into_iter()
        .map(|r| TrackedRepositoryView {
            full_name: format!("{}/{}", r.owner, r.name),
            owner: r.owner,
            name: r.name,
            added_at: r.added_at,
            last_synchronized: r.last_synchronized,
            last_error: r.last_error,
            unavailable: r.unavailable,
            events_stored: r.events_stored,
            poll_interval_secs: crate::event_gaps::current_interval(
                state.config.events_poll_interval_secs,
                r.poll_interval_secs,
                r.busy_interval_secs,
            ),
            event_gaps: r.event_gaps,
            last_gap: match (r.gap_started_at, r.gap_ended_at, r.gap_detected_at) {
                (Some(from), Some(to), Some(detected_at)) => Some(EventGapView {
                    from,
                    to,
                    estimated_missing: r.gap_estimated_missing,
                    detected_at,
                }),
                _ => None,
            },
            star_history: StarHistoryView::of_stored(&r.star_history_state, r.star_history_since),
        })
        .collect();
    Ok(Json(RepositoryList { repositories }))
}

/// Event statistics of one of your repositories (`owner` and `name` in the query, or a JSON body).
#[utoipa::path(get, path = "/repository/stats", tag = "repositories", params(RepositoryName),
    request_body(content = Option<RepositoryName>, description = "Instead of the query parameters"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = RepositoryStatistics),
        (status = 400, description = "Missing fields, not in your list, or no data yet", body = ErrorBody),
    ))]
async fn repository_stats(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<RepositoryName>,
    body: Bytes,
) -> AppResult<Json<RepositoryStatistics>> {
    let named = if query.owner.is_none() && query.name.is_none() && !body.is_empty() {
        serde_json::from_slice::<Option<RepositoryName>>(&body)
            .map_err(|e| AppError::bad_request(format!("Malformed JSON: {e}")))?
            .unwrap_or_default()
    } else {
        query
    };
    let (owner, name) = validated(&named)?;
    let repository = repositories::tracked(&state.db, auth.user_id, owner, name)
        .await?
        .ok_or_else(|| AppError::bad_request("Repository is not in your list"))?;
    let answer = event_stats::of_repository(&state, auth.user_id, repository.id).await?;
    match answer {
        Some(answer) if answer.last_synchronized.is_some() => Ok(Json(answer)),
        _ => Err(AppError::bad_request(
            "We don't have any data for this repository yet",
        )),
    }
}

/// Event statistics of all your repositories (never-synchronized ones with nulls).
#[utoipa::path(get, path = "/repository/all/stats", tag = "repositories", security(("bearer" = [])),
    responses((status = 200, body = AllStatistics), (status = 401, body = ErrorBody)))]
async fn all_repository_stats(
    State(state): State<AppState>,
    auth: AuthUser,
) -> AppResult<Response> {
    let body = event_stats::of_user(&state, auth.user_id).await?;
    Ok(json_bytes(body))
}

fn json_bytes(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Owner and name, present and shaped like GitHub's, before anything asks GitHub.
fn validated(body: &RepositoryName) -> AppResult<(&str, &str)> {
    require_fields(&[
        ("owner", body.owner.as_deref()),
        ("name", body.name.as_deref()),
    ])?;
    let owner = body.owner.as_deref().unwrap_or_default().trim();
    let name = body.name.as_deref().unwrap_or_default().trim();
    let owner_ok = (1..=100).contains(&owner.len())
        && owner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !owner.starts_with('-');
    if !owner_ok {
        return Err(AppError::bad_request(
            "Invalid owner: use letters, digits, '-' and '_' (at most 100, not starting with '-')",
        ));
    }
    let name_ok = (1..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name != "."
        && name != "..";
    if !name_ok {
        return Err(AppError::bad_request(
            "Invalid name: use letters, digits, '-', '_' and '.' (at most 100)",
        ));
    }
    Ok((owner, name))
}

/// The repository's canonical owner, name and id, as GitHub has them.
async fn look_up_on_github(
    state: &AppState,
    owner: &str,
    name: &str,
) -> AppResult<(String, String, i64)> {
    match github::repos::repository(&state.github, owner, name).await {
        Ok(repo) => Ok((repo.owner.login, repo.name, repo.id)),
        Err(GitHubError::NotFound) => Err(AppError::bad_request("Repository does not exist")),
        Err(GitHubError::Status { status, message }) => {
            tracing::info!(status, %message, "GitHub refused a repository lookup");
            Err(AppError::bad_request("Repository cannot be accessed"))
        }
        Err(error) => Err(error.into()),
    }
}
