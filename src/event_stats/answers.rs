//! The event statistics a user sees: one repository's, or all of theirs as one cached
//! answer (`/repository/stats`, `/repository/all/stats`).

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::compute;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::events::{self, StatsRow};

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryStatistics {
    /// `owner/name`.
    pub repository: String,
    /// Per event type: count and mean seconds between consecutive events; null before the first poll.
    #[schema(value_type = Option<Object>)]
    pub statistics: Option<Box<RawValue>>,
    pub last_synchronized: Option<DateTime<Utc>>,
    /// `false` when events were lost inside the statistics' window (more new events
    /// between two polls than GitHub's 300-event window shows; see `GET /repositories`).
    pub complete: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllStatistics {
    pub repositories_statistics: Vec<RepositoryStatistics>,
}

/// Statistics of one repository the user tracks (`None` if it is not theirs).
pub async fn of_repository(
    state: &AppState,
    user_id: i64,
    repository_id: i64,
) -> AppResult<Option<RepositoryStatistics>> {
    let rows = events::stats_rows(&state.db, user_id, Some(repository_id)).await?;
    Ok(with_statistics(state, rows).await?.pop())
}

/// The JSON of `/repository/all/stats` for `user_id`: the last answer while a one-row
/// fingerprint query says nothing it depends on changed, else computed and kept.
pub async fn of_user(state: &AppState, user_id: i64) -> AppResult<Bytes> {
    let (fingerprint, fresh) = events::stats_fingerprint(&state.db, user_id).await?;
    if fresh && let Some(body) = state.stats_answers.get(user_id, &fingerprint) {
        return Ok(body);
    }
    let rows = events::stats_rows(&state.db, user_id, None).await?;
    let repositories_statistics = with_statistics(state, rows).await?;
    let answer = AllStatistics {
        repositories_statistics,
    };
    let body = Bytes::from(serde_json::to_vec(&answer).map_err(AppError::internal)?);
    // Stale statistics were just recomputed: what is stored is current for `fingerprint`
    // or newer, and a newer database state has another fingerprint.
    state.stats_answers.put(user_id, fingerprint, body.clone());
    Ok(body)
}

/// Fills in statistics: cached JSON passes through untouched; missing or stale ones are
/// computed from the newest events (one query for all of them) and cached.
async fn with_statistics(
    state: &AppState,
    rows: Vec<StatsRow>,
) -> AppResult<Vec<RepositoryStatistics>> {
    let stale: Vec<i64> = rows
        .iter()
        .filter(|r| r.last_synchronized.is_some() && r.statistics.is_none())
        .map(|r| r.repository_id)
        .collect();
    let mut newest = if stale.is_empty() {
        Default::default()
    } else {
        events::newest(&state.db, &stale, compute::WINDOW_MAX_EVENTS).await?
    };
    let now = Utc::now();
    let mut answers = Vec::with_capacity(rows.len());
    for row in rows {
        let statistics = match (&row.last_synchronized, row.statistics) {
            (None, _) => None,
            (Some(_), Some(cached)) => {
                Some(RawValue::from_string(cached).map_err(AppError::internal)?)
            }
            (Some(_), None) => {
                let recent = newest.remove(&row.repository_id).unwrap_or_default();
                let (statistics, valid_until) = compute::compute(&recent, now);
                let json =
                    serde_json::value::to_raw_value(&statistics).map_err(AppError::internal)?;
                events::store_stats(
                    &state.db,
                    row.repository_id,
                    row.events_version,
                    &json,
                    valid_until,
                )
                .await?;
                Some(json)
            }
        };
        answers.push(RepositoryStatistics {
            repository: format!("{}/{}", row.owner, row.name),
            statistics,
            last_synchronized: row.last_synchronized,
            complete: row.complete,
        });
    }
    Ok(answers)
}
