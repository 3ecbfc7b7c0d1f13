//! The caller's audit log, newest first.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{Json, Query};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_logs))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct Page {
    /// 1 to 100 (default 50).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Entries to skip (default 0); not together with `page`.
    #[param(nullable = false, minimum = 0)]
    pub offset: Option<i64>,
    /// 1-based page of `limit` entries; an alternative to `offset`.
    #[param(nullable = false, minimum = 1)]
    pub page: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogOut {
    pub id: i64,
    /// For example `api_key.created`, `api_key.revoked`, `commits.pushed`,
    /// `repo.sync_method_changed`.
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: Value,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    pub limit: i64,
    pub offset: i64,
    pub total: i64,
    pub has_next: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogPage {
    pub data: Vec<AuditLogOut>,
    pub pagination: Pagination,
}

/// The caller's audit log entries, newest first (needs a user session).
#[utoipa::path(get, path = "/api/v1/audit-logs", tag = "api-keys", params(Page),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries", body = AuditLogPage),
        (status = 400, description = "Bad limit, offset or page", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Called with an API key", body = ErrorBody),
    ))]
async fn list_audit_logs(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(page): Query<Page>,
) -> AppResult<Json<AuditLogPage>> {
    let limit = page.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(AppError::bad_request("limit must be between 1 and 100"));
    }
    let offset = match (page.offset, page.page) {
        (Some(_), Some(_)) => return Err(AppError::bad_request("give offset or page, not both")),
        (Some(offset), None) if offset >= 0 => offset,
        (None, Some(page)) if page >= 1 => (page - 1).saturating_mul(limit),
        (None, None) => 0,
        _ => return Err(AppError::bad_request("offset must be ≥ 0 and page ≥ 1")),
    };
    let (rows, total) = audit::list(&state.db, auth.user_id, limit, offset).await?;
    Ok(Json(AuditLogPage {
        pagination: Pagination {
            limit,
            offset,
            total,
            has_next: offset.saturating_add(limit) < total,
        },
        data: rows
            .into_iter()
            .map(|r| AuditLogOut {
                id: r.id,
                action: r.action,
                target_type: r.target_type,
                target_id: r.target_id,
                details: r.details,
                ip: r.ip,
                created_at: r.created_at,
            })
            .collect(),
    }))
}
