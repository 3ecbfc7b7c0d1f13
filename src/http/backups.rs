//! Repository backups (seed 002): registering a repository (a mirror clone), GitHub's
//! push webhook that queues a backup, the reports, and archive downloads.
//!
//! The webhook is in [`webhook_router`], mounted outside the per-user rate limits because
//! GitHub, not a user, calls it; everything else is in [`router`] and needs a JWT.

use std::path::PathBuf;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::backups::{self, Layout, PushSummary, SignatureError};
use crate::error::{AppError, AppResult, ErrorBody, FieldError};
use crate::git::{self, Remote};
use crate::http::extract::{Json, Path, require_fields};
use crate::state::{AppState, random_secret};
use crate::store::backups::{self as store, Enqueued, NewRegistration, Registration};

/// How long the mirror clone of a registration may take.
const CLONE_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest `org_name`, `data_type` and `created_by`.
const MAX_LABEL_LEN: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_repository))
        .routes(routes!(register_repository_no_slash))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(repository_reports))
        .routes(routes!(repository_reports_no_slash))
        .routes(routes!(repository_reports_seed_spelling))
        .routes(routes!(repository_reports_seed_spelling_no_slash))
        .routes(routes!(backup_reports))
        .routes(routes!(backup_reports_no_slash))
        .routes(routes!(download_archive))
}

/// GitHub's webhook: not rate limited per user (GitHub calls it from shared addresses).
pub fn webhook_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webhook))
        .routes(routes!(webhook_no_slash))
}

// ---------------------------------------------------------------------------------------
// Registration

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRepository {
    #[schema(example = "100058-editor")]
    pub repository_name: Option<String>,
    #[schema(example = "https://github.com/octo-org/100058-editor.git")]
    pub repository_url: Option<String>,
    #[schema(example = "octo-org")]
    pub org_name: Option<String>,
    #[schema(example = "6385c0f18eca0fb652c94558")]
    pub company_id: Option<String>,
    #[schema(example = "real_data")]
    pub data_type: Option<String>,
    #[schema(example = "alice")]
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
    ))]
async fn register_repository(
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
    if store::registration_exists(&state.db, input.company_id, input.repository_name).await? {
        return Err(duplicate());
    }
    let webhook_secret = random_secret();
    // The row stays uncommitted while git clones: a concurrent registration of the same
    // names waits on it, and a failed clone leaves no row.
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
    };
    let registration = store::insert_registration(&mut tx, &new)
        .await?
        .ok_or_else(duplicate)?;
    let layout = Layout::new(
        &state.config.backup_dir,
        input.company_id,
        input.repository_name,
    );
    let mirror = clone_into_place(&layout, &input.remote).await?;
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
    ))]
async fn register_repository_no_slash(
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
async fn rotate_webhook_secret(
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

/// Clones a mirror under a scratch name and moves it into place. The caller holds the
/// (uncommitted) registration row, so nobody else owns the mirror's path; anything
/// found there is a leftover of a crash and is replaced.
async fn clone_into_place(layout: &Layout, remote: &Remote) -> AppResult<MirrorGuard> {
    tokio::fs::create_dir_all(&layout.company_dir)
        .await
        .map_err(|e| AppError::internal(format!("cannot create the backup directory: {e}")))?;
    let partial = MirrorGuard {
        path: Some(layout.partial_mirror_dir()),
    };
    git::clone_mirror(remote, partial.path(), CLONE_TIMEOUT)
        .await
        .map_err(|e| AppError::bad_request(format!("Could not clone the repository: {e}")))?;
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

fn webhook_link(state: &AppState, registration: &Registration) -> String {
    format!(
        "{}/backup/{}/{}/",
        state.config.public_url(),
        registration.company_id,
        registration.repository_name
    )
}

// ---------------------------------------------------------------------------------------
// Webhook

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    #[schema(example = "Backup queued")]
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_id: Option<i64>,
}

/// GitHub's webhook for a registered repository. Signed with `X-Hub-Signature-256`
/// (HMAC-SHA256 of the raw body with the registration's secret).
#[utoipa::path(post, path = "/backup/{company_id}/{repository_name}/", tag = "backups",
    params(
        ("company_id" = String, Path, description = "As registered"),
        ("repository_name" = String, Path, description = "As registered"),
        ("X-GitHub-Event" = String, Header, description = "`push`, `ping`, or another event (ignored)"),
        ("X-GitHub-Delivery" = String, Header, description = "GitHub's delivery GUID; a repeated one is not backed up twice"),
        ("X-Hub-Signature-256" = String, Header, description = "`sha256=<hex HMAC>`"),
    ),
    request_body(content = Object, description = "GitHub's webhook payload", content_type = "application/json"),
    responses(
        (status = 200, description = "ping answered, event ignored, or a repeated delivery", body = WebhookAnswer),
        (status = 202, description = "push: backup queued", body = WebhookAnswer),
        (status = 400, description = "Missing event or delivery header, or a malformed payload", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "No such registration", body = ErrorBody),
    ))]
async fn webhook(
    State(state): State<AppState>,
    Path((company_id, repository_name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<(StatusCode, Json<WebhookAnswer>)> {
    let answer = handle_webhook(&state, &company_id, &repository_name, &headers, body).await;
    let outcome = match &answer {
        Ok((status, _)) => status.as_u16().to_string(),
        Err(e) => e.status().as_u16().to_string(),
    };
    let event = header_str(&headers, "x-github-event").unwrap_or("none");
    let event = if matches!(event, "push" | "ping") {
        event
    } else {
        "other"
    };
    state.metrics.increment(
        "gitpulse_backup_webhooks_total",
        &[("event", event), ("status", &outcome)],
    );
    answer
}

/// Same as `POST /backup/{company_id}/{repository_name}/`, without the trailing slash.
#[utoipa::path(post, path = "/backup/{company_id}/{repository_name}", tag = "backups",
    params(
        ("company_id" = String, Path, description = "As registered"),
        ("repository_name" = String, Path, description = "As registered"),
    ),
    request_body(content = Object, description = "GitHub's webhook payload", content_type = "application/json"),
    responses(
        (status = 200, description = "ping, ignored event, or repeated delivery", body = WebhookAnswer),
        (status = 202, description = "push: backup queued", body = WebhookAnswer),
        (status = 401, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "No such registration", body = ErrorBody),
    ))]
async fn webhook_no_slash(
    state: State<AppState>,
    path: Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<(StatusCode, Json<WebhookAnswer>)> {
    webhook(state, path, headers, body).await
}

/// Order of checks: the registration (404), the body, the signature (401), then the event.
/// An unknown registration answers 404 before any signature check: the names are in the
/// URL GitHub shows in its delivery log, so a plain 404 helps fix a wrong URL, and they
/// reveal nothing that signs anything.
async fn handle_webhook(
    state: &AppState,
    company_id: &str,
    repository_name: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<(StatusCode, Json<WebhookAnswer>)> {
    let unknown = || AppError::not_found("No backup registration for this company and repository");
    if backups::path_name_problem(company_id).is_some()
        || backups::path_name_problem(repository_name).is_some()
    {
        return Err(unknown());
    }
    let registration = store::find_registration(&state.db, company_id, repository_name)
        .await?
        .ok_or_else(unknown)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge("Webhook payload is too large".into())
        } else {
            AppError::bad_request("Could not read the webhook payload")
        }
    })?;
    backups::verify_signature(
        registration.webhook_secret.as_bytes(),
        &body,
        header_str(headers, "x-hub-signature-256"),
    )
    .map_err(|e| {
        tracing::warn!(registration_id = registration.id, reason = %e, "webhook signature refused");
        AppError::Unauthorized(match e {
            SignatureError::Missing => e.to_string(),
            SignatureError::Invalid => {
                "Invalid X-Hub-Signature-256: check the webhook secret".into()
            }
        })
    })?;
    let event = header_str(headers, "x-github-event")
        .ok_or_else(|| AppError::bad_request("Missing X-GitHub-Event header"))?;
    match event {
        "ping" => Ok(answer(StatusCode::OK, "pong", None)),
        "push" => queue_backup(state, &registration, headers, &body).await,
        _ => Ok(answer(
            StatusCode::OK,
            &format!(
                "Event '{}' ignored; only push events are backed up",
                event.escape_default()
            ),
            None,
        )),
    }
}

async fn queue_backup(
    state: &AppState,
    registration: &Registration,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<(StatusCode, Json<WebhookAnswer>)> {
    let delivery = header_str(headers, "x-github-delivery")
        .ok_or_else(|| AppError::bad_request("Missing X-GitHub-Delivery header"))?;
    if !backups::valid_delivery_id(delivery) {
        return Err(AppError::bad_request(
            "X-GitHub-Delivery must be 1 to 100 letters, digits or '-'",
        ));
    }
    let payload = push_payload(headers, body)?;
    let summary = PushSummary::from_payload(&payload);
    let zip_file_name = backups::zip_file_name(&registration.repository_name, delivery);
    match store::enqueue(
        &state.db,
        registration.id,
        delivery,
        &zip_file_name,
        &summary,
    )
    .await?
    {
        Enqueued::New(id) => {
            state.backup_wakeup.notify_one();
            tracing::info!(
                backup_id = id,
                registration_id = registration.id,
                "backup queued"
            );
            Ok(answer(StatusCode::ACCEPTED, "Backup queued", Some(id)))
        }
        Enqueued::Duplicate(id) => Ok(answer(
            StatusCode::OK,
            "Delivery already received; no new backup",
            Some(id),
        )),
    }
}

/// The JSON payload: the body itself, or its `payload` field when GitHub was set to
/// send `application/x-www-form-urlencoded`.
fn push_payload(headers: &HeaderMap, body: &[u8]) -> AppResult<Value> {
    let form = header_str(headers, header::CONTENT_TYPE.as_str())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let parsed = if form {
        url::form_urlencoded::parse(body)
            .find(|(key, _)| key == "payload")
            .and_then(|(_, json)| serde_json::from_str(&json).ok())
    } else {
        serde_json::from_slice(body).ok()
    };
    parsed.ok_or_else(|| AppError::bad_request("The push payload is not valid JSON"))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn answer(
    status: StatusCode,
    message: &str,
    backup_id: Option<i64>,
) -> (StatusCode, Json<WebhookAnswer>) {
    (
        status,
        Json(WebhookAnswer {
            message: message.into(),
            backup_id,
        }),
    )
}

// ---------------------------------------------------------------------------------------
// Reports and downloads

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredRepository {
    /// The leading number of the repository name (`100058` of `100058-editor`), else the
    /// registration's id.
    #[schema(example = "100058")]
    pub function_number: String,
    pub repository_name: String,
    pub repository_url: String,
    pub org_name: String,
    pub company_id: String,
    pub data_type: String,
    pub created_by: String,
    /// UTC, `YYYY-MM-DD`.
    #[schema(example = "2026-11-23")]
    pub date_of_registration: String,
    /// UTC, `HH:MM:SS`.
    #[schema(example = "14:03:12")]
    pub time_of_registration: String,
    pub webhook_link: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryReport {
    #[serde(rename = "isSuccess")]
    pub is_success: bool,
    pub data: Vec<RegisteredRepository>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackupEntry {
    pub backup_id: i64,
    /// `queued`, `running`, `done`, `failed`, or `pruned` (archive removed by retention).
    #[schema(example = "done")]
    pub status: String,
    pub company_id: String,
    #[schema(example = "100058")]
    pub function_number: String,
    pub repository_name: String,
    #[schema(example = "100058-editor 72d3162e-cc78-11e3-81ab-4c9367dc0958.zip")]
    pub zip_file_name: String,
    pub delivery_id: String,
    /// UTC date the archive was written (or the push arrived, if not finished).
    pub backup_date: String,
    /// UTC time, `HH:MM:SS`.
    pub backup_time: String,
    /// RFC 3339 form of the same moment.
    pub backup_at: String,
    pub size_bytes: Option<i64>,
    /// Hex SHA-256 of the archive.
    pub sha256: Option<String>,
    pub pusher: Option<String>,
    pub added_files: Vec<String>,
    pub modified_files: Vec<String>,
    pub removed_files: Vec<String>,
    /// Why the backup failed.
    pub error: Option<String>,
    /// Where to download the archive (only while `status` is `done`).
    pub download_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackupReport {
    #[serde(rename = "isSuccess")]
    pub is_success: bool,
    pub data: Vec<BackupEntry>,
}

/// The caller's registered repositories of a company (another user's company is empty).
#[utoipa::path(get, path = "/get-repository-reports/{company_id}/", tag = "backups",
    params(("company_id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Registered repositories", body = RepositoryReport),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    ))]
async fn repository_reports(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(company_id): Path<String>,
) -> AppResult<Json<RepositoryReport>> {
    let rows = store::list_registrations(&state.db, auth.user_id, &company_id).await?;
    let data = rows
        .into_iter()
        .map(|r| RegisteredRepository {
            function_number: backups::function_number(&r.repository_name, r.id),
            webhook_link: webhook_link(&state, &r),
            date_of_registration: r.created_at.format("%Y-%m-%d").to_string(),
            time_of_registration: r.created_at.format("%H:%M:%S").to_string(),
            repository_name: r.repository_name,
            repository_url: r.repository_url,
            org_name: r.org_name,
            company_id: r.company_id,
            data_type: r.data_type,
            created_by: r.created_by,
        })
        .collect();
    Ok(Json(RepositoryReport {
        is_success: true,
        data,
    }))
}

/// Same as `/get-repository-reports/{company_id}/`, without the trailing slash.
#[utoipa::path(get, path = "/get-repository-reports/{company_id}", tag = "backups",
    params(("company_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = RepositoryReport), (status = 401, body = ErrorBody)))]
async fn repository_reports_no_slash(
    state: State<AppState>,
    auth: AuthUser,
    company_id: Path<String>,
) -> AppResult<Json<RepositoryReport>> {
    repository_reports(state, auth, company_id).await
}

/// The seed's spelling of `/get-repository-reports/{company_id}/`.
#[utoipa::path(get, path = "/get-respository-reports/{company_id}/", tag = "backups",
    params(("company_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = RepositoryReport), (status = 401, body = ErrorBody)))]
async fn repository_reports_seed_spelling(
    state: State<AppState>,
    auth: AuthUser,
    company_id: Path<String>,
) -> AppResult<Json<RepositoryReport>> {
    repository_reports(state, auth, company_id).await
}

/// The seed's spelling, without the trailing slash.
#[utoipa::path(get, path = "/get-respository-reports/{company_id}", tag = "backups",
    params(("company_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = RepositoryReport), (status = 401, body = ErrorBody)))]
async fn repository_reports_seed_spelling_no_slash(
    state: State<AppState>,
    auth: AuthUser,
    company_id: Path<String>,
) -> AppResult<Json<RepositoryReport>> {
    repository_reports(state, auth, company_id).await
}

/// The caller's backups of a company's repositories, newest first.
#[utoipa::path(get, path = "/get-backup-reports/{company_id}/", tag = "backups",
    params(("company_id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Backups", body = BackupReport),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    ))]
async fn backup_reports(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(company_id): Path<String>,
) -> AppResult<Json<BackupReport>> {
    let rows = store::list_backups(&state.db, auth.user_id, &company_id).await?;
    let public = state.config.public_url();
    let data = rows
        .into_iter()
        .map(|b| BackupEntry {
            function_number: backups::function_number(&b.repository_name, b.repository_id),
            backup_date: b.at.format("%Y-%m-%d").to_string(),
            backup_time: b.at.format("%H:%M:%S").to_string(),
            backup_at: b.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            download_url: (b.status == "done")
                .then(|| format!("{public}/backup/archives/{}", b.id)),
            backup_id: b.id,
            status: b.status,
            company_id: b.company_id,
            repository_name: b.repository_name,
            zip_file_name: b.zip_file_name,
            delivery_id: b.delivery_id,
            size_bytes: b.size_bytes,
            sha256: b.sha256,
            pusher: b.pusher,
            added_files: b.added_files,
            modified_files: b.modified_files,
            removed_files: b.removed_files,
            error: b.error,
        })
        .collect();
    Ok(Json(BackupReport {
        is_success: true,
        data,
    }))
}

/// Same as `/get-backup-reports/{company_id}/`, without the trailing slash.
#[utoipa::path(get, path = "/get-backup-reports/{company_id}", tag = "backups",
    params(("company_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = BackupReport), (status = 401, body = ErrorBody)))]
async fn backup_reports_no_slash(
    state: State<AppState>,
    auth: AuthUser,
    company_id: Path<String>,
) -> AppResult<Json<BackupReport>> {
    backup_reports(state, auth, company_id).await
}

/// Download a finished backup's zip archive (the caller's own only).
#[utoipa::path(get, path = "/backup/archives/{backup_id}", tag = "backups",
    params(("backup_id" = i64, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "The zip archive", content_type = "application/zip", body = Vec<u8>),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "Not the caller's, not finished, or pruned", body = ErrorBody),
    ))]
async fn download_archive(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(backup_id): Path<i64>,
) -> AppResult<Response> {
    let missing = || AppError::not_found("No finished backup with this id");
    let (company_id, repository_name, zip_file_name) =
        store::find_archive(&state.db, auth.user_id, backup_id)
            .await?
            .ok_or_else(missing)?;
    let path = Layout::new(&state.config.backup_dir, &company_id, &repository_name)
        .archive(&zip_file_name);
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(backup_id, path = %path.display(), "a finished backup's archive is missing");
            return Err(AppError::not_found(
                "The archive of this backup is no longer on disk",
            ));
        }
        Err(e) => return Err(AppError::internal(format!("cannot open an archive: {e}"))),
    };
    let length = file
        .metadata()
        .await
        .map_err(|e| AppError::internal(format!("cannot stat an archive: {e}")))?
        .len();
    Response::builder()
        .header(header::CONTENT_TYPE, "application/zip")
        .header(header::CONTENT_LENGTH, length)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{zip_file_name}\""),
        )
        .body(Body::from_stream(
            tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024),
        ))
        .map_err(AppError::internal)
}
