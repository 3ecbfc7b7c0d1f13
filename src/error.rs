//! The one error type of the HTTP API and the JSON shape every error answers with.
//!
//! Client errors carry a human sentence that is safe to show. Database and internal
//! errors log their detail and answer a generic message, so nothing internal leaks.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::github::GitHubError;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A human sentence describing the problem.
    pub message: String,
    /// Per-field problems, when the request had invalid fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    Invalid {
        message: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// 503 with `Retry-After`: come back in that many seconds (the git permits are all taken,
    /// or GitHub is unavailable or rate-limits us).
    #[error("{message}")]
    Busy {
        message: String,
        retry_after_secs: u64,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// `Retry-After` when GitHub failed or was unreachable (the client already retried twice).
pub const GITHUB_RETRY_AFTER_SECS: u64 = 30;

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    /// 400 `Invalid fields: a must ...; b must ...` with each field in `errors`.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let message = errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::Invalid {
            message: format!("Invalid fields: {message}"),
            errors,
        }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// The sentence the client is shown. Database and internal errors are logged here with
    /// their detail and shown as a generic sentence.
    pub fn client_message(&self) -> String {
        match self {
            Self::Database(e) if self.status() == StatusCode::SERVICE_UNAVAILABLE => {
                tracing::error!(error = %e, "database unavailable");
                "The database is unavailable; try again shortly".into()
            }
            Self::Database(e) => {
                tracing::error!(error = ?e, "database error");
                "Internal server error".into()
            }
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "Internal server error".into()
            }
            Self::TooManyRequests { retry_after_secs } => {
                format!("Too many requests; retry in {}", seconds(*retry_after_secs))
            }
            other => other.to_string(),
        }
    }

    /// 503 with `Retry-After` for a GitHub request that could not be answered: GitHub's rate
    /// limit (until its reset) or an outage, an unreachable host or an unexpected answer (the
    /// detail goes to the log). `context` (such as `"Resync failed: "`) starts the message.
    pub fn github_unavailable(context: &str, error: &GitHubError) -> Self {
        match error {
            GitHubError::RateLimited { until } => Self::Busy {
                message: format!(
                    "{context}GitHub's rate limit is reached until {}; try again then",
                    until.to_rfc3339()
                ),
                retry_after_secs: u64::try_from((*until - chrono::Utc::now()).num_seconds())
                    .unwrap_or(0)
                    .max(1),
            },
            error => {
                tracing::warn!(%error, "GitHub request failed");
                Self::Busy {
                    message: format!("{context}GitHub is unavailable; try again later"),
                    retry_after_secs: GITHUB_RETRY_AFTER_SECS,
                }
            }
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(e) if is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// `1 second`, `30 seconds`.
pub fn seconds(n: u64) -> String {
    if n == 1 {
        "1 second".into()
    } else {
        format!("{n} seconds")
    }
}

/// Pool exhaustion and lost connections mean the database is down, not that we have a bug.
fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
    )
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, errors) = match self {
            Self::Invalid { message, errors } => (message, errors),
            Self::TooManyRequests { retry_after_secs } => {
                let body = ErrorBody {
                    message: Self::TooManyRequests { retry_after_secs }.client_message(),
                    errors: Vec::new(),
                };
                let mut response = (status, axum::Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                return response;
            }
            Self::Busy {
                message,
                retry_after_secs,
            } => {
                let body = ErrorBody {
                    message,
                    errors: Vec::new(),
                };
                let mut response = (status, axum::Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                return response;
            }
            other => (other.client_message(), Vec::new()),
        };
        let mut response = (status, axum::Json(ErrorBody { message, errors })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"gitpulse\""),
            );
        }
        response
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(format!(
            "Invalid query string: {}",
            tail(&rejection.body_text())
        ))
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(format!(
            "Invalid path parameter: {}",
            tail(&rejection.body_text())
        ))
    }
}

/// GitHub's failures as API answers: its rate limit and its outages are 503s with
/// `Retry-After` ([`AppError::github_unavailable`]), a missing resource a 404. Routes that
/// answer their own sentence for a missing or refused resource match those variants first
/// and `?` the rest.
impl From<GitHubError> for AppError {
    fn from(error: GitHubError) -> Self {
        match error {
            GitHubError::NotFound => Self::not_found("not found on GitHub"),
            error => Self::github_unavailable("", &error),
        }
    }
}

/// axum's rejection texts repeat a generic prefix ("Failed to deserialize ...: ");
/// the part after the last `: ` is the useful one.
fn tail(text: &str) -> &str {
    text.rsplit_once(": ").map_or(text, |(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body_of(error: AppError) -> (StatusCode, serde_json::Value, Response) {
        let response = error.into_response();
        let status = response.status();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, 1 << 16).await.expect("body");
        let json = serde_json::from_slice(&bytes).expect("json");
        (
            status,
            json,
            Response::from_parts(parts, axum::body::Body::empty()),
        )
    }

    #[test]
    fn one_second_is_singular() {
        assert_eq!(seconds(1), "1 second");
        assert_eq!(seconds(0), "0 seconds");
        let one = AppError::TooManyRequests {
            retry_after_secs: 1,
        };
        assert_eq!(one.client_message(), "Too many requests; retry in 1 second");
    }

    #[tokio::test]
    async fn internal_errors_do_not_leak() {
        let (status, json, _) = body_of(AppError::internal("secret table xyz exploded")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(json["message"], "Internal server error");
    }

    #[tokio::test]
    async fn unauthorized_carries_www_authenticate() {
        let (status, json, response) =
            body_of(AppError::Unauthorized("Missing bearer token".into())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(json["message"], "Missing bearer token");
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    }

    #[tokio::test]
    async fn github_outages_say_when_to_come_back() {
        let down = GitHubError::Unavailable("network error".into());
        let (status, json, response) = body_of(down.into()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(json["message"], "GitHub is unavailable; try again later");
        assert_eq!(response.headers()[header::RETRY_AFTER], "30");

        let until = chrono::Utc::now() + chrono::Duration::seconds(120);
        let limited =
            AppError::github_unavailable("Resync failed: ", &GitHubError::RateLimited { until });
        let (status, json, response) = body_of(limited).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            json["message"].as_str().is_some_and(
                |m| m.starts_with("Resync failed: GitHub's rate limit is reached until")
            ),
            "{json}"
        );
        let wait: u64 = response.headers()[header::RETRY_AFTER]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((100..=120).contains(&wait), "{wait}");
    }

    #[tokio::test]
    async fn rate_limited_carries_retry_after() {
        let (status, _, response) = body_of(AppError::TooManyRequests {
            retry_after_secs: 42,
        })
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
    }
}
