//! The daily history of a repository the caller tracks, directly or through an account
//! (`GET /repositories/{owner}/{name}/history`).

use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::accounts::date_range;
use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::store::daily_stats;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(repository_history))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryRange {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    #[param(format = Date, nullable = false)]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`, inclusive (default: today, UTC); not before `from`.
    #[param(format = Date, nullable = false)]
    pub to: Option<String>,
}

/// Where a day's counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DaySource {
    /// The daily scan: stargazers, forks and watchers as GitHub counted them that day.
    Snapshot,
    /// GitHub's star history (days before tracking, or missed by the scan): stargazers
    /// only, counting current stargazers; forks and watchers are `null`.
    Backfill,
}

impl DaySource {
    pub(super) fn of_stored(source: &str) -> Self {
        if source == "backfill" {
            Self::Backfill
        } else {
            Self::Snapshot
        }
    }
}

/// How far a repository's star history is loaded (in `GET /repositories`).
#[derive(Debug, Serialize, ToSchema)]
pub struct StarHistoryView {
    pub state: StarHistoryState,
    /// The first day of the history (the repository's creation when `complete`); `null`
    /// until loaded.
    #[schema(value_type = Option<String>, format = Date, example = "2019-03-14", required = true)]
    pub since: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StarHistoryState {
    /// Not loaded yet (it is, in the background, soon after tracking).
    Pending,
    /// Every day back to the repository's creation.
    Complete,
    /// GitHub's 100 pages (about 57 years of weeks) did not reach the creation: from `since` on.
    Truncated,
    /// GitHub has no star history for it (older GitHub Enterprise Server, or refused); asked
    /// again daily. The daily scan still records its counts.
    Unavailable,
}

impl StarHistoryView {
    pub(super) fn of_stored(state: &str, since: Option<NaiveDate>) -> Self {
        let state = match state {
            "complete" => StarHistoryState::Complete,
            "truncated" => StarHistoryState::Truncated,
            "unavailable" => StarHistoryState::Unavailable,
            _ => StarHistoryState::Pending,
        };
        Self { state, since }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPoint {
    #[schema(value_type = String, format = Date, example = "2022-06-10")]
    pub date: NaiveDate,
    pub stargazers: i64,
    /// `null` on backfilled days.
    #[schema(required = true)]
    pub forks: Option<i64>,
    /// People watching the repository; `null` on backfilled days.
    #[schema(required = true)]
    pub watchers: Option<i64>,
    pub source: DaySource,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryHistory {
    /// `owner/name`.
    pub repository: String,
    pub history: Vec<HistoryPoint>,
}

/// Daily stargazers, forks and watchers of a repository you track (directly or through an account).
///
/// Stars go back to the repository's creation (`source: backfill`: GitHub's star history,
/// current stargazers only; forks and watchers `null`); the days of the daily scan are
/// `source: snapshot`.
#[utoipa::path(get, path = "/repositories/{owner}/{name}/history", tag = "accounts",
    params(
        ("owner" = String, Path, pattern = "^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$"),
        ("name" = String, Path, pattern = "^([A-Za-z0-9_-][A-Za-z0-9._-]{0,99}|\\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,98}|\\.\\.[A-Za-z0-9._-]{1,98})$"),
        HistoryRange,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, body = RepositoryHistory),
        (status = 400, description = "Bad dates, or from after to", body = ErrorBody),
        (status = 404, description = "Not a repository you track", body = ErrorBody),
    ))]
async fn repository_history(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((owner, name)): Path<(String, String)>,
    Query(range): Query<HistoryRange>,
) -> AppResult<Json<RepositoryHistory>> {
    let (from, to) = date_range(("from", range.from.as_deref()), ("to", range.to.as_deref()))?;
    let repository = daily_stats::visible_repository(&state.db, auth.user_id, &owner, &name)
        .await?
        .ok_or_else(|| AppError::not_found("repository not found in your list"))?;
    let history = daily_stats::history(&state.db, repository.id, from, to)
        .await?
        .into_iter()
        .map(|r| HistoryPoint {
            date: r.date,
            stargazers: r.stargazers,
            forks: r.forks,
            watchers: r.watchers,
            source: DaySource::of_stored(&r.source),
        })
        .collect();
    Ok(Json(RepositoryHistory {
        repository: format!("{}/{}", repository.owner, repository.name),
        history,
    }))
}
