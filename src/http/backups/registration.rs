//! Registering a repository for backups: validation, URL policy and the mirror clone.

use std::path::PathBuf;
use std::time::Duration;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::backups::{self, Layout};
use crate::crypto::random_secret;
use crate::error::{AppError, AppResult, ErrorBody, FieldError};
use crate::git::{self, Remote};
use crate::http::extract::{Json, Path, require_fields};
use crate::state::AppState;
use crate::store::audit::{self, AuditEntry};
use crate::store::backups::{self as store, NewRegistration, Registration};

/// How long a registration waits for a git permit before answering 503.
const PERMIT_WAIT: Duration = Duration::from_secs(2);
/// The `Retry-After` of that 503, in seconds.
const BUSY_RETRY_AFTER_SECS: u64 = 10;
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
    let duplicate = || {
        AppError::bad_request(format!(
            "Repository '{}' is already registered for company '{}'",
            input.repository_name, input.company_id
        ))
    };
    if store::registration_exists(
        &state.db,
        auth.user_id,
        input.company_id,
        input.repository_name,
    )
    .await?
    {
        return Err(duplicate());
    }
    // No database connection is held while git talks to the network: clone first under
    // a scratch name (holding a git permit), then record the row and move the mirror into
    // place in one short transaction.
    // Resolve the host now, for a clear 400; git checks again right before it connects.
    if let Err(e) = input.remote.check_addresses().await {
        let message = match e {
            git::GitError::Refused(why) => format!("is refused: {why}"),
            other => other.to_string(),
        };
        return Err(invalid(vec![FieldError {
            field: "repository_url".into(),
            message,
        }]));
    }
    let storage_dir = backups::storage_dir(auth.user_id, input.company_id);
    let layout = Layout::at(
        &state.config.backup_dir,
        &storage_dir,
        input.repository_name,
    );
    let permit = git_permit(&state).await?;
    let partial = clone_partial(&layout, &input.remote, state.config.git_timeout()).await?;
    drop(permit);
    let webhook_secret = random_secret();
    let mut tx = state.db.begin().await?;
    let new = NewRegistration {
        user_id: auth.user_id,
        company_id: input.company_id,
        repository_name: input.repository_name,
        repository_url: input.repository_url,
        org_name: input.org_name,
        data_type: input.data_type,
        created_by: input.created_by,
        webhook_secret: &webhook_secret,
        storage_dir: &storage_dir,
    };
    // A concurrent registration of the same names waits here until this one commits,
    // then finds them taken (and its scratch clone is removed).
    let registration = store::insert_registration(&mut tx, &new)
        .await?
        .ok_or_else(duplicate)?;
    let entry = AuditEntry::new(
        auth.user_id,
        "backup.registered",
        "backup_registration",
        registration.id,
    )
    .details(serde_json::json!({
        "company_id": registration.company_id,
        "repository_name": registration.repository_name,
    }));
    audit::record(&mut *tx, &entry).await?;
    let mirror = move_into_place(&layout, partial).await?;
    if let Err(e) = tx.commit().await {
        let _ = tokio::fs::remove_dir_all(mirror.path()).await;
        return Err(e.into());
    }
    mirror.keep();
    tracing::info!(
        registration_id = registration.id,
        company_id = %registration.company_id,
        repository = %registration.repository_name,
        "registered a repository for backups"
    );
    state
        .metrics
        .increment("gitpulse_backup_registrations_total", &[]);
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

struct RegistrationInput<'a> {
    repository_name: &'a str,
    repository_url: &'a str,
    org_name: &'a str,
    company_id: &'a str,
    data_type: &'a str,
    created_by: &'a str,
    remote: Remote,
}

fn validate_registration<'a>(
    state: &AppState,
    body: &'a RegisterRepository,
) -> AppResult<RegistrationInput<'a>> {
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
        Some(remote) if errors.is_empty() => Ok(RegistrationInput {
            repository_name,
            repository_url,
            org_name,
            company_id,
            data_type,
            created_by,
            remote,
        }),
        _ => Err(invalid(errors)),
    }
}

fn invalid(errors: Vec<FieldError>) -> AppError {
    let message = errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    AppError::Invalid {
        message: format!("Invalid fields: {message}"),
        errors,
    }
}

/// A mirror directory that is removed when dropped unless kept, so a failed or
/// abandoned registration (the client hung up mid-clone) leaves nothing on disk.
struct MirrorGuard {
    path: Option<PathBuf>,
}

impl MirrorGuard {
    fn path(&self) -> &std::path::Path {
        self.path.as_deref().unwrap_or(std::path::Path::new(""))
    }

    fn keep(mut self) {
        self.path = None;
    }
}

impl Drop for MirrorGuard {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// A permit of the global git limit (`GIT_MAX_CONCURRENCY`), waiting at most
/// [`PERMIT_WAIT`]: when they are all taken the registration answers 503 with
/// `Retry-After` instead of queueing.
async fn git_permit(state: &AppState) -> AppResult<tokio::sync::OwnedSemaphorePermit> {
    let permits = state.git_permits.clone();
    match tokio::time::timeout(PERMIT_WAIT, permits.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(AppError::Unavailable("The server is shutting down".into())),
        Err(_) => {
            state
                .metrics
                .increment("gitpulse_backup_registrations_busy_total", &[]);
            Err(AppError::Busy {
                message: "Too many git operations are running; try again shortly".into(),
                retry_after_secs: BUSY_RETRY_AFTER_SECS,
            })
        }
    }
}

/// Clones a mirror under a scratch name next to where it will live. Nothing else owns
/// the scratch name; it is removed when the guard drops (a failure, or the client
/// hanging up mid-clone).
async fn clone_partial(
    layout: &Layout,
    remote: &Remote,
    timeout: Duration,
) -> AppResult<MirrorGuard> {
    tokio::fs::create_dir_all(&layout.company_dir)
        .await
        .map_err(|e| AppError::internal(format!("cannot create the backup directory: {e}")))?;
    let partial = MirrorGuard {
        path: Some(layout.partial_mirror_dir()),
    };
    git::clone_mirror(remote, partial.path(), timeout)
        .await
        .map_err(|e| AppError::bad_request(format!("Could not clone the repository: {e}")))?;
    Ok(partial)
}

/// Moves a finished scratch clone to the mirror's path. The caller holds the
/// (uncommitted) registration row, so nobody else owns that path; anything found there
/// is a leftover of a crash and is replaced.
async fn move_into_place(layout: &Layout, partial: MirrorGuard) -> AppResult<MirrorGuard> {
    let mirror = layout.mirror_dir();
    if tokio::fs::try_exists(&mirror).await.unwrap_or(false) {
        tracing::warn!(path = %mirror.display(), "replacing a leftover mirror directory");
        tokio::fs::remove_dir_all(&mirror)
            .await
            .map_err(|e| AppError::internal(format!("cannot remove a leftover mirror: {e}")))?;
    }
    tokio::fs::rename(partial.path(), &mirror)
        .await
        .map_err(|e| AppError::internal(format!("cannot move the mirror into place: {e}")))?;
    partial.keep();
    Ok(MirrorGuard { path: Some(mirror) })
}

pub(super) fn webhook_link(state: &AppState, registration: &Registration) -> String {
    format!(
        "{}/backup/{}/{}/",
        state.config.public_url(),
        registration.company_id,
        registration.repository_name
    )
}
