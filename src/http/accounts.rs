//! Tracked GitHub accounts and daily repository statistics (seed 004), plus the daily
//! history of one repository for star-history charts.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::daily_stats::{ScanError, track};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::github::GitHubError;
use crate::http::Message;
use crate::http::extract::{Json, Path, Query, require_fields};
use crate::http::history::DaySource;
use crate::state::AppState;
use crate::store::accounts::{self, Account};
use crate::store::daily_stats;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(track_account, list_accounts))
        .routes(routes!(get_account, remove_account))
        .routes(routes!(account_stats))
}

/// Days covered when no range is given: the last 30, today included.
const DEFAULT_DAYS: u64 = 30;

#[derive(Debug, Deserialize, ToSchema)]
pub struct TrackAccount {
    /// The GitHub login of a user or organization: 1–39 letters, digits or `-`, not
    /// starting with `-`.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9][A-Za-z0-9-]{0,38}$", example = "octocat")]
    pub login: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    /// GitHub's user id.
    #[schema(example = 1428904)]
    pub id: i64,
    #[schema(example = "octocat")]
    pub login: String,
    #[schema(example = "The Octocat")]
    pub name: Option<String>,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        Self {
            id: a.id,
            login: a.login,
            name: a.name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedAccount {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    /// Public repositories the account owns.
    pub repositories: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsRange {
    /// First day, `YYYY-MM-DD` (default: 29 days before `date_to`).
    #[param(format = Date, nullable = false)]
    pub date_from: Option<String>,
    /// Last day, `YYYY-MM-DD`, inclusive (default: today, UTC); not before `date_from`.
    #[param(format = Date, nullable = false)]
    pub date_to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DailyStat {
    /// GitHub's repository id.
    #[schema(example = 7329078)]
    pub repo_id: i64,
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
pub struct AccountStats {
    pub user: AccountView,
    pub stats: Vec<DailyStat>,
}

/// Track a GitHub account: loads all its public repositories and records today's statistics.
#[utoipa::path(put, path = "/v1/users", tag = "accounts", request_body = TrackAccount,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Now tracked", body = TrackedAccount),
        (status = 200, description = "Already tracked (refreshed)", body = TrackedAccount),
        (status = 400, description = "Missing or invalid login", body = ErrorBody),
        (status = 404, description = "No such GitHub account", body = ErrorBody),
        (status = 503, description = "GitHub is unavailable, unreachable or rate-limiting (`GitHub is unavailable; try again later`; `Retry-After` says when to come back), or the database is unavailable", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    ))]
async fn track_account(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<TrackAccount>,
) -> AppResult<(StatusCode, Json<TrackedAccount>)> {
    let login = validated_login(body.login.as_deref())?;
    let tracked = track(&state, auth.user_id, login)
        .await
        .map_err(|e| match e {
            ScanError::GitHub(e) => github_error(e),
            ScanError::Database(e) => e.into(),
        })?;
    let (account, repositories, created) = (tracked.account, tracked.repositories, tracked.created);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(TrackedAccount {
            id: account.id,
            login: account.login,
            name: account.name,
            repositories,
        }),
    ))
}

/// The GitHub accounts you track.
#[utoipa::path(get, path = "/v1/users", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = [AccountView]), (status = 401, body = ErrorBody)))]
async fn list_accounts(
    State(state): State<AppState>,
    auth: AuthUser,
) -> AppResult<Json<Vec<AccountView>>> {
    let rows = accounts::list_tracked(&state.db, auth.user_id).await?;
    Ok(Json(rows.into_iter().map(AccountView::from).collect()))
}

/// One account you track, by GitHub user id.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "accounts",
    params(("id" = i64, Path, description = "GitHub user id", minimum = 1)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = AccountView),
        (status = 404, description = "Not an account you track", body = ErrorBody),
    ))]
async fn get_account(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> AppResult<Json<AccountView>> {
    Ok(Json(tracked(&state, auth, id).await?.into()))
}

/// Stop tracking an account: its statistics leave your view (others who track it keep them).
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "accounts",
    params(("id" = i64, Path, description = "GitHub user id", minimum = 1)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "No longer tracked", body = Message),
        (status = 404, description = "Not an account you track", body = ErrorBody),
    ))]
async fn remove_account(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Message>> {
    if !accounts::untrack(&state.db, auth.user_id, id).await? {
        return Err(AppError::not_found("user not found"));
    }
    Ok(Json(Message {
        message: "user removed".into(),
    }))
}

/// Daily statistics of the account's repositories, by repository id then date.
///
/// Stars go back to each repository's creation (`source: backfill`, forks and watchers
/// `null`); the days of the daily scan are `source: snapshot`.
#[utoipa::path(get, path = "/v1/users/{id}/stats", tag = "accounts",
    params(("id" = i64, Path, description = "GitHub user id", minimum = 1), StatsRange),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Rows in the range (maybe none)", body = AccountStats),
        (status = 400, description = "Bad dates, or date_from after date_to", body = ErrorBody),
        (status = 404, description = "Not an account you track", body = ErrorBody),
    ))]
async fn account_stats(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    Query(range): Query<StatsRange>,
) -> AppResult<Json<AccountStats>> {
    let (from, to) = date_range(
        ("date_from", range.date_from.as_deref()),
        ("date_to", range.date_to.as_deref()),
    )?;
    let account = tracked(&state, auth, id).await?;
    let stats = daily_stats::account_stats(&state.db, account.id, from, to)
        .await?
        .into_iter()
        .map(|r| DailyStat {
            repo_id: r.repo_id,
            date: r.date,
            stargazers: r.stargazers,
            forks: r.forks,
            watchers: r.watchers,
            source: DaySource::of_stored(&r.source),
        })
        .collect();
    Ok(Json(AccountStats {
        user: account.into(),
        stats,
    }))
}

async fn tracked(state: &AppState, auth: AuthUser, id: i64) -> AppResult<Account> {
    accounts::tracked(&state.db, auth.user_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("user not found"))
}

/// A GitHub login: 1 to 39 letters, digits or hyphens, not starting with a hyphen.
fn validated_login(login: Option<&str>) -> AppResult<&str> {
    require_fields(&[("login", login)])?;
    let login = login.unwrap_or_default().trim();
    let valid = (1..=39).contains(&login.len())
        && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !login.starts_with('-');
    if !valid {
        return Err(AppError::bad_request(
            "Invalid login: use 1 to 39 letters, digits or '-' (not starting with '-')",
        ));
    }
    Ok(login)
}

/// An inclusive range of days; missing ends default to the last 30 days up to today (UTC).
pub(super) fn date_range(
    from: (&str, Option<&str>),
    to: (&str, Option<&str>),
) -> AppResult<(NaiveDate, NaiveDate)> {
    let parse = |(field, value): (&str, Option<&str>)| -> AppResult<Option<NaiveDate>> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    AppError::bad_request(format!("Invalid {field}: expected a date as YYYY-MM-DD"))
                }),
        }
    };
    let (from_name, to_name) = (from.0, to.0);
    let (from, to) = (parse(from)?, parse(to)?);
    let to = to.unwrap_or_else(|| Utc::now().date_naive());
    let from = match from {
        Some(from) => from,
        None => to
            .checked_sub_days(Days::new(DEFAULT_DAYS - 1))
            .unwrap_or(NaiveDate::MIN),
    };
    if from > to {
        return Err(AppError::bad_request(format!(
            "{from_name} must not be after {to_name}"
        )));
    }
    Ok((from, to))
}

/// GitHub's answer about an account, as the API's.
fn github_error(error: GitHubError) -> AppError {
    match error {
        GitHubError::NotFound => AppError::not_found("user not found on GitHub"),
        error => error.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_ranges_default_to_the_last_30_days() {
        let (from, to) = date_range(("from", None), ("to", Some("2026-03-31"))).expect("valid");
        assert_eq!(from.to_string(), "2026-03-02");
        assert_eq!(to.to_string(), "2026-03-31");
        assert!(date_range(("from", Some("2026-02-30")), ("to", None)).is_err());
        assert!(date_range(("from", Some("2026-03-02")), ("to", Some("2026-03-01"))).is_err());
        assert!(date_range(("from", Some("yesterday")), ("to", None)).is_err());
    }

    #[test]
    fn logins_look_like_github_logins() {
        assert!(validated_login(Some("octo-cat")).is_ok());
        assert!(validated_login(Some("-x")).is_err());
        assert!(validated_login(Some("a/b")).is_err());
        assert!(validated_login(Some(&"a".repeat(40))).is_err());
        assert!(validated_login(None).is_err());
    }
}
