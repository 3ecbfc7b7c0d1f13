//! The caller's GitHub integration: its status, resyncs and removal (seed 001).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{Json, Query};
use crate::integration::{SyncError, SyncStats};
use crate::state::AppState;
use crate::store::audit::{self, AuditEntry};
use crate::store::integrations::{self, Integration};

/// How long `POST /integration/resync` waits for a sync that was already running.
const WAIT_FOR_RUNNING_SYNC: Duration = Duration::from_secs(600);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(resync))
        .routes(routes!(remove))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct StatusParams {
    /// The GitHub account id of the caller's integration (optional; must be the caller's own).
    #[param(nullable = false, minimum = 1)]
    pub user_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ResyncParams {
    /// The GitHub account id of the caller's integration (optional; must be the caller's own).
    #[param(nullable = false, minimum = 1)]
    pub user_id: Option<i64>,
    /// Wait for the sync to finish (default true); `false` answers 202 at once.
    #[param(nullable = false)]
    pub wait: Option<bool>,
    /// Refetch everything, ignoring ETags and cursors (default false).
    #[param(nullable = false)]
    pub full: Option<bool>,
}

/// `{"user_id": <GitHub id>}`, optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct IntegrationTarget {
    #[schema(minimum = 1)]
    #[serde(
        default,
        deserialize_with = "crate::json_number::optional_whole_number"
    )]
    pub user_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IntegrationSyncStatus)]
pub struct SyncStatus {
    /// `idle`, `running`, `finished`, `failed` or `interrupted` (a sync whose process died).
    pub state: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Documents written so far by the current (or last) sync.
    pub counts: Option<SyncStats>,
    /// `{"repositories_done", "repositories_total"}` while syncing.
    #[schema(value_type = Option<Object>)]
    pub progress: Option<Value>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationStatus {
    /// `connected`, `syncing`, `error` (the last sync failed) or `not_connected`.
    pub status: &'static str,
    /// The GitHub profile.
    #[schema(value_type = Option<Object>)]
    pub user: Option<Value>,
    pub connected_at: Option<DateTime<Utc>>,
    /// When the last successful sync finished.
    pub last_sync: Option<DateTime<Utc>>,
    /// When the next background resync is due; `null` while GitHub refuses the token
    /// (sign in with GitHub again to reconnect) or when not connected.
    pub next_sync_at: Option<DateTime<Utc>>,
    pub sync: Option<SyncStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResyncDone {
    #[schema(example = "Resync completed successfully")]
    pub message: &'static str,
    pub stats: SyncStats,
    pub sync_time: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResyncAccepted {
    pub message: &'static str,
    #[schema(example = "syncing")]
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Removed {
    #[schema(example = "Integration removed successfully")]
    pub message: &'static str,
    /// `github_integration` (the token) and every collection that had documents.
    pub removed_collections: Vec<String>,
    pub total_removed: i64,
}

/// The caller's integration; 404 if there is none or `user_id` names another account.
async fn own_integration(
    state: &AppState,
    auth: AuthUser,
    github_id: Option<i64>,
) -> AppResult<Option<Integration>> {
    let integration = integrations::find_for_user(&state.db, auth.user_id).await?;
    match (github_id, &integration) {
        (Some(wanted), Some(found)) if found.github_id != wanted => {
            Err(AppError::not_found("Integration not found"))
        }
        (Some(_), None) => Err(AppError::not_found("Integration not found")),
        _ => Ok(integration),
    }
}

/// `user_id` from the query, else from an optional JSON body.
fn target(query_id: Option<i64>, body: &Bytes) -> AppResult<Option<i64>> {
    if query_id.is_some() || body.iter().all(u8::is_ascii_whitespace) {
        return Ok(query_id);
    }
    let target: Option<IntegrationTarget> = serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("Malformed JSON: {e}")))?;
    Ok(target.and_then(|t| t.user_id))
}

/// The state of the caller's GitHub integration and of its sync.
#[utoipa::path(get, path = "/integration/status", tag = "integration", params(StatusParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Integration status (`not_connected` when there is none)", body = IntegrationStatus),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "`user_id` is not the caller's GitHub account", body = ErrorBody),
    ))]
async fn status(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(params): Query<StatusParams>,
) -> AppResult<Json<IntegrationStatus>> {
    let Some(integration) = own_integration(&state, auth, params.user_id).await? else {
        return Ok(Json(IntegrationStatus {
            status: "not_connected",
            user: None,
            connected_at: None,
            last_sync: None,
            next_sync_at: None,
            sync: None,
        }));
    };
    let interrupted = integration.sync_state == "running" && !integration.is_syncing();
    let status = if integration.is_syncing() {
        "syncing"
    } else if integration.sync_state == "failed" || interrupted {
        "error"
    } else {
        "connected"
    };
    let sync = SyncStatus {
        state: if interrupted {
            "interrupted".into()
        } else {
            integration.sync_state.clone()
        },
        started_at: integration.sync_started_at,
        finished_at: integration.sync_finished_at,
        counts: integration
            .sync_counts
            .as_ref()
            .map(|c| SyncStats::from_json(Some(c))),
        progress: integration.sync_progress.clone(),
        error: integration.sync_error.clone(),
    };
    let next_sync_at = next_sync_at(&integration);
    Ok(Json(IntegrationStatus {
        status,
        user: Some(integration.profile),
        connected_at: Some(integration.connected_at),
        last_sync: integration.last_sync,
        next_sync_at,
        sync: Some(sync),
    }))
}

/// When the background resync is due: now if never scheduled, never while the token is refused.
fn next_sync_at(integration: &Integration) -> Option<DateTime<Utc>> {
    (!integration.needs_reconnect)
        .then(|| integration.next_sync_at.unwrap_or(integration.connected_at))
}

/// Sync the caller's GitHub data again (incremental unless `full=true`).
///
/// A full pass also removes the documents GitHub no longer lists (`stats.removed`). Every
/// sync moves the next background resync `INTEGRATION_SYNC_INTERVAL_SECS` ahead.
///
/// Waits for the sync by default. If a sync of this integration is already running,
/// `wait=true` waits for that one and answers its result, and `wait=false` answers 202
/// without starting another.
#[utoipa::path(post, path = "/integration/resync", tag = "integration", params(ResyncParams),
    request_body(content = Option<IntegrationTarget>, description = "Optional `{\"user_id\": <GitHub id>}`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sync finished", body = ResyncDone),
        (status = 202, description = "The sync runs in the background (`wait=false`); see /integration/status", body = ResyncAccepted),
        (status = 400, description = "Malformed body, or the stored token no longer works", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No integration, or not the caller's", body = ErrorBody),
        (status = 503, description = "GitHub is unavailable, unreachable or rate-limiting (`Resync failed: GitHub is unavailable; try again later`, with `Retry-After`); a running sync failed or outlasted the wait; or the database is unavailable", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    ))]
async fn resync(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(params): Query<ResyncParams>,
    body: Bytes,
) -> AppResult<Response> {
    let github_id = target(params.user_id, &body)?;
    let integration = own_integration(&state, auth, github_id)
        .await?
        .ok_or_else(|| AppError::not_found("Integration not found"))?;
    let claimed =
        crate::integration::claim(&state, integration.id, params.full.unwrap_or(false)).await?;
    if !params.wait.unwrap_or(true) {
        let message = match claimed {
            Some(sync) => {
                sync.spawn();
                "Resync started; follow it at /integration/status"
            }
            None => "A sync is already running; follow it at /integration/status",
        };
        let accepted = ResyncAccepted {
            message,
            status: "syncing",
        };
        return Ok((StatusCode::ACCEPTED, Json(accepted)).into_response());
    }
    let (stats, sync_time) = match claimed {
        Some(sync) => sync.run().await.map_err(sync_failed)?,
        None => wait_for_running_sync(&state, integration.id).await?,
    };
    Ok(Json(ResyncDone {
        message: "Resync completed successfully",
        stats,
        sync_time,
    })
    .into_response())
}

/// Waits until the running sync releases its lease and answers with its outcome.
async fn wait_for_running_sync(
    state: &AppState,
    integration_id: i64,
) -> AppResult<(SyncStats, DateTime<Utc>)> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_RUNNING_SYNC;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let current = integrations::find(&state.db, integration_id)
            .await?
            .ok_or_else(|| AppError::not_found("Integration not found"))?;
        if !current.is_syncing() {
            return match (current.sync_state.as_str(), current.sync_finished_at) {
                ("finished", Some(at)) => {
                    Ok((SyncStats::from_json(current.sync_counts.as_ref()), at))
                }
                _ => Err(AppError::Unavailable(format!(
                    "Resync failed: {}",
                    current
                        .sync_error
                        .unwrap_or_else(|| "the running sync stopped".into())
                ))),
            };
        }
        if tokio::time::Instant::now() > deadline {
            return Err(AppError::Unavailable(
                "A sync is still running; follow it at /integration/status".into(),
            ));
        }
    }
}

fn sync_failed(error: SyncError) -> AppError {
    match error {
        SyncError::Database(e) => AppError::Database(e),
        SyncError::Token | SyncError::Revoked { .. } => AppError::bad_request(
            "GitHub no longer accepts the stored token; sign in with GitHub again",
        ),
        SyncError::Removed => AppError::not_found("Integration not found"),
        SyncError::GitHub(error) => AppError::github_unavailable("Resync failed: ", &error),
        other => AppError::Unavailable(format!("Resync failed: {other}")),
    }
}

/// Remove the caller's integration: the stored token and every synced document.
#[utoipa::path(post, path = "/integration/remove", tag = "integration", params(StatusParams),
    request_body(content = Option<IntegrationTarget>, description = "Optional `{\"user_id\": <GitHub id>}`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Removed", body = Removed),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No integration, or not the caller's", body = ErrorBody),
    ))]
async fn remove(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(params): Query<StatusParams>,
    body: Bytes,
) -> AppResult<Json<Removed>> {
    let github_id = target(params.user_id, &body)?;
    let integration = own_integration(&state, auth, github_id)
        .await?
        .ok_or_else(|| AppError::not_found("Integration not found"))?;
    let removed = integrations::remove(&state.db, integration.id)
        .await?
        .ok_or_else(|| AppError::not_found("Integration not found"))?;
    let total: i64 = removed.iter().map(|(_, n)| n).sum();
    let mut collections = vec!["github_integration".to_string()];
    collections.extend(removed.into_iter().map(|(name, _)| name));
    let entry = AuditEntry::new(
        auth.user_id,
        "integration.removed",
        "github_integration",
        integration.id,
    )
    .details(serde_json::json!({"documents_removed": total}));
    audit::record(&state.db, &entry).await?;
    tracing::info!(
        user_id = auth.user_id,
        documents = total,
        "GitHub integration removed"
    );
    Ok(Json(Removed {
        message: "Integration removed successfully",
        removed_collections: collections,
        total_removed: total + 1,
    }))
}
