//! Registering a repository for backups: validation, URL policy and the mirror clone.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::backups::{self, NewBackup};
use crate::crypto::random_secret;
use crate::error::{AppError, AppResult, ErrorBody, FieldError};
use crate::http::extract::{Json, Path, require_fields};
use crate::state::AppState;
use crate::store::audit::{self, AuditEntry};
use crate::store::backups::{self as store, Registration};

/// Longest `org_name`, `data_type` and `created_by`.
const MAX_LABEL_LEN: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRepository {
    /// 1–100 letters, digits, `.`, `_` or `-`, not `.` or `..`.
    #[schema(value_type = String, required = true, pattern = "^([A-Za-z0-9_-][A-Za-z0-9._-]{0,99}|\\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,98}|\\.\\.[A-Za-z0-9._-]{1,98})$", example = "100058-editor")]
    pub repository_name: Option<String>,
    /// An `https://` URL on an allowed host (`BACKUP_ALLOWED_HOSTS`).
    #[schema(value_type = String, required = true, pattern = "\\S", example = "https://github.com/octo-org/100058-editor.git")]
    pub repository_url: Option<String>,
    /// 1–200 characters without control characters.
    #[schema(value_type = String, required = true, max_length = 200, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\x00-\\x1f\\x7f-\\x9f\\s][^\\x00-\\x1f\\x7f-\\x9f]*$", example = "octo-org")]
    pub org_name: Option<String>,
    /// 1–100 letters, digits, `.`, `_` or `-`, not `.` or `..`.
    #[schema(value_type = String, required = true, pattern = "^([A-Za-z0-9_-][A-Za-z0-9._-]{0,99}|\\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,98}|\\.\\.[A-Za-z0-9._-]{1,98})$", example = "6385c0f18eca0fb652c94558")]
    pub company_id: Option<String>,
    /// 1–200 characters without control characters.
    #[schema(value_type = String, required = true, max_length = 200, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\x00-\\x1f\\x7f-\\x9f\\s][^\\x00-\\x1f\\x7f-\\x9f]*$", example = "real_data")]
    pub data_type: Option<String>,
    /// 1–200 characters without control characters.
    #[schema(value_type = String, required = true, max_length = 200, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\x00-\\x1f\\x7f-\\x9f\\s][^\\x00-\\x1f\\x7f-\\x9f]*$", example = "alice")]
    pub created_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    #[schema(example = "100058-editor has been cloned.")]
    pub status: String,
    /// The payload URL to give GitHub (content type `application/json`, push events).
    pub webhook_link: String,
    /// The secret to give GitHub with the webhook. Shown only here, once.
    pub webhook_secret: String,
}

/// Register a repository for backups: clones a mirror and returns the webhook to give GitHub.
#[utoipa::path(post, path = "/backup/repositoryClone/", tag = "backups",
    request_body = RegisterRepository, security(("bearer" = [])),
    responses(
        (status = 200, description = "Cloned; configure the webhook with this link and secret", body = Registered),
        (status = 400, description = "Missing or invalid fields, a URL the policy refuses, an existing registration, or a failed clone", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 503, description = "GIT_MAX_CONCURRENCY git operations are running; retry after `Retry-After` seconds", body = ErrorBody),
    ))]
pub(super) async fn register_repository(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<RegisterRepository>,
) -> AppResult<Json<Registered>> {
    let input = validate_registration(&state, &body)?;
    let (registration, webhook_secret) = backups::register(&state, auth.user_id, &input).await?;
    Ok(Json(Registered {
        status: format!("{} has been cloned.", registration.repository_name),
        webhook_link: webhook_link(&state, &registration),
        webhook_secret,
    }))
}

/// Same as `POST /backup/repositoryClone/`, without the trailing slash.
#[utoipa::path(post, path = "/backup/repositoryClone", tag = "backups",
    request_body = RegisterRepository, security(("bearer" = [])),
    responses(
        (status = 200, description = "Cloned", body = Registered),
        (status = 400, description = "Invalid input or a failed clone", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 503, description = "Too many git operations running; see `Retry-After`", body = ErrorBody),
    ))]
pub(super) async fn register_repository_no_slash(
    state: State<AppState>,
    auth: AuthUser,
    body: Json<RegisterRepository>,
) -> AppResult<Json<Registered>> {
    register_repository(state, auth, body).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecret {
    pub webhook_link: String,
    /// The new secret; the old one stops working at once.
    pub webhook_secret: String,
}

/// Replace a registration's webhook secret (the registering user only), e.g. when the old
/// one was lost or leaked. Update the webhook on GitHub with the new secret.
#[utoipa::path(post, path = "/backup/repositories/{company_id}/{repository_name}/rotate-secret",
    tag = "backups", security(("bearer" = [])),
    params(("company_id" = String, Path), ("repository_name" = String, Path)),
    responses(
        (status = 200, description = "The new secret", body = WebhookSecret),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "Not a registration of the caller's", body = ErrorBody),
    ))]
pub(super) async fn rotate_webhook_secret(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((company_id, repository_name)): Path<(String, String)>,
) -> AppResult<Json<WebhookSecret>> {
    let webhook_secret = random_secret();
    let registration = store::rotate_secret(
        &state.db,
        auth.user_id,
        &company_id,
        &repository_name,
        &webhook_secret,
    )
    .await?
    .ok_or_else(|| AppError::not_found("No backup registration of yours with these names"))?;
    let entry = AuditEntry::new(
        auth.user_id,
        "backup.secret_rotated",
        "backup_registration",
        registration.id,
    );
    audit::record(&state.db, &entry).await?;
    tracing::info!(
        registration_id = registration.id,
        "rotated a webhook secret"
    );
    Ok(Json(WebhookSecret {
        webhook_link: webhook_link(&state, &registration),
        webhook_secret,
    }))
}

fn validate_registration<'a>(
    state: &AppState,
    body: &'a RegisterRepository,
) -> AppResult<NewBackup<'a>> {
    let field = |value: &'a Option<String>| value.as_deref().map(str::trim).unwrap_or_default();
    require_fields(&[
        ("repository_name", body.repository_name.as_deref()),
        ("repository_url", body.repository_url.as_deref()),
        ("org_name", body.org_name.as_deref()),
        ("company_id", body.company_id.as_deref()),
        ("data_type", body.data_type.as_deref()),
        ("created_by", body.created_by.as_deref()),
    ])?;
    let input = (
        field(&body.repository_name),
        field(&body.repository_url),
        field(&body.org_name),
        field(&body.company_id),
        field(&body.data_type),
        field(&body.created_by),
    );
    let (repository_name, repository_url, org_name, company_id, data_type, created_by) = input;
    let mut errors = Vec::new();
    let mut problem = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        });
    };
    for (name, value) in [
        ("company_id", company_id),
        ("repository_name", repository_name),
    ] {
        if let Some(message) = backups::path_name_problem(value) {
            problem(name, message.into());
        }
    }
    for (name, value) in [
        ("org_name", org_name),
        ("data_type", data_type),
        ("created_by", created_by),
    ] {
        if value.chars().count() > MAX_LABEL_LEN || value.chars().any(char::is_control) {
            problem(
                name,
                format!("must be at most {MAX_LABEL_LEN} characters, without control characters"),
            );
        }
    }
    let remote = backups::url_policy(&state.config)
        .check(repository_url)
        .map_err(|e| problem("repository_url", e.to_string()))
        .ok();
    match remote {
        Some(remote) if errors.is_empty() => Ok(NewBackup {
            repository_name,
            repository_url,
            org_name,
            company_id,
            data_type,
            created_by,
            remote,
        }),
        _ => Err(AppError::invalid_fields(errors)),
    }
}

pub(super) fn webhook_link(state: &AppState, registration: &Registration) -> String {
    format!(
        "{}/backup/{}/{}/",
        state.config.public_url(),
        registration.company_id,
        registration.repository_name
    )
}
