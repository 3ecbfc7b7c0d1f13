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

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPoint {
    #[schema(value_type = String, format = Date, example = "2022-06-10")]
    pub date: NaiveDate,
    pub stargazers: i64,
    pub forks: i64,
    pub watchers: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryHistory {
    /// `owner/name`.
    pub repository: String,
    pub history: Vec<HistoryPoint>,
}

/// Daily stargazers, forks and watchers of a repository you track (directly or through an account).
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
        })
        .collect();
    Ok(Json(RepositoryHistory {
        repository: format!("{}/{}", repository.owner, repository.name),
        history,
    }))
}
