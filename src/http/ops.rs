//! Operational routes: liveness, readiness and metrics. They are not rate limited.

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(health))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    pub version: &'static str,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// The process is alive (the original services' spelling of `/healthz`).
#[utoipa::path(get, path = "/health", tag = "ops", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    healthz().await
}

/// The process can serve requests: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, body = Health),
    (status = 503, description = "The database is unreachable", body = ErrorBody),
))]
async fn readyz(State(state): State<AppState>) -> AppResult<Json<Health>> {
    let ping = sqlx::query_scalar::<_, i32>("select 1").fetch_one(&state.db);
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => Ok(Json(Health {
            status: "ready",
            version: env!("CARGO_PKG_VERSION"),
        })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(AppError::Unavailable("The database is unreachable".into()))
        }
        Err(_) => Err(AppError::Unavailable(
            "The database did not answer within 2 seconds".into(),
        )),
    }
}

/// Prometheus metrics: request counts and latency by route and status, GitHub requests by
/// outcome, the sync lag gauges (`gitpulse_sync_lag_seconds{kind}`,
/// `gitpulse_sync_failing{kind}`) and the polling tokens' budget (`gitpulse_github_token_*`).
#[utoipa::path(get, path = "/metrics", tag = "ops", responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    let gauges = crate::sync_health::gauges(&state);
    match tokio::time::timeout(Duration::from_secs(2), gauges).await {
        Ok(Ok(gauges)) => text.push_str(&gauges),
        Ok(Err(e)) => tracing::warn!(error = %e, "reading the sync lag gauges failed"),
        Err(_) => tracing::warn!("reading the sync lag gauges took over 2 seconds"),
    }
    let budget = crate::github_budget::budget(&state);
    match tokio::time::timeout(Duration::from_secs(2), budget).await {
        Ok(Ok(budget)) => text.push_str(&crate::github_budget::gauges(&budget)),
        Ok(Err(e)) => tracing::warn!(error = %e, "reading the GitHub budget failed"),
        Err(_) => tracing::warn!("reading the GitHub budget took over 2 seconds"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
