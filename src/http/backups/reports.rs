//! Registration and backup reports, and archive downloads, scoped to the caller.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use chrono::SecondsFormat;
use serde::Serialize;
use utoipa::ToSchema;

use super::registration::webhook_link;
use crate::auth::AuthUser;
use crate::backups::{self, Layout};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{Json, Path};
use crate::state::AppState;
use crate::store::backups::{self as store};

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
pub(super) async fn repository_reports(
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
pub(super) async fn repository_reports_no_slash(
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
pub(super) async fn repository_reports_seed_spelling(
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
pub(super) async fn repository_reports_seed_spelling_no_slash(
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
pub(super) async fn backup_reports(
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
pub(super) async fn backup_reports_no_slash(
    state: State<AppState>,
    auth: AuthUser,
    company_id: Path<String>,
) -> AppResult<Json<BackupReport>> {
    backup_reports(state, auth, company_id).await
}

/// Download a finished backup's zip archive (the caller's own only).
#[utoipa::path(get, path = "/backup/archives/{backup_id}", tag = "backups",
    params(("backup_id" = i64, Path, minimum = 1)), security(("bearer" = [])),
    responses(
        (status = 200, description = "The zip archive", content_type = "application/zip", body = Vec<u8>),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "Not the caller's, not finished, or pruned", body = ErrorBody),
    ))]
pub(super) async fn download_archive(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(backup_id): Path<i64>,
) -> AppResult<Response> {
    let missing = || AppError::not_found("No finished backup with this id");
    let (storage_dir, repository_name, zip_file_name) =
        store::find_archive(&state.db, auth.user_id, backup_id)
            .await?
            .ok_or_else(missing)?;
    let path =
        Layout::at(&state.paths.backups, &storage_dir, &repository_name).archive(&zip_file_name);
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
