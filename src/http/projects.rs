//! Projects and their repositories. Everything is the caller's own: another user's
//! project or repository answers 404. Creating and changing needs a user session;
//! reading also works with an API key holding `read:repos`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{AuthUser, ClientIp};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{Json, Path, require_fields};
use crate::state::AppState;
use crate::store::audit::{self, AuditEntry};
use crate::store::projects::{self, NewRepo, Project, Repo};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_project, list_projects))
        .routes(routes!(create_repo, list_repos))
        .routes(routes!(update_repo))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateProject {
    /// 1–255 characters, not all blank.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 255,
        pattern = "\\S", example = "Backend")]
    pub name: Option<String>,
    /// 1–64 of lowercase letters, digits and `-`; unique per user.
    #[schema(value_type = String, required = true, pattern = "^[a-z0-9-]{1,64}$", example = "backend")]
    pub slug: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectOut {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub created_at: DateTime<Utc>,
}

impl From<Project> for ProjectOut {
    fn from(p: Project) -> Self {
        Self {
            id: p.id,
            name: p.name,
            slug: p.slug,
            created_at: p.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRepo {
    /// 1–255 characters, not all blank; unique in the project.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 255,
        pattern = "\\S", example = "api-server")]
    pub name: Option<String>,
    /// Required for `pull`: an https:// URL on an allowed host (or a local path when
    /// local remotes are allowed). At most 2048 characters.
    #[schema(max_length = 2048)]
    pub remote_url: Option<String>,
    /// `push_client` (default) or `pull`.
    #[schema(schema_with = crate::http::docs::optional_sync_method_schema, example = "push_client")]
    pub sync_method: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRepo {
    /// `push_client` or `pull`.
    #[schema(schema_with = crate::http::docs::sync_method_schema, required = true)]
    pub sync_method: Option<String>,
    /// Optionally a new remote URL at the same time (at most 2048 characters); `pull`
    /// needs one, given here or before.
    #[schema(max_length = 2048)]
    pub remote_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepoOut {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub remote_url: Option<String>,
    pub sync_method: String,
    /// pending, syncing, healthy or error.
    pub status: String,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_ingested_sha: Option<String>,
    pub total_commits: i64,
    pub error_message: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Repo> for RepoOut {
    fn from(r: Repo) -> Self {
        Self {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            remote_url: r.remote_url,
            sync_method: r.sync_method,
            status: r.sync_status,
            last_sync_at: r.last_sync_at,
            last_ingested_sha: r.last_ingested_sha,
            total_commits: r.total_commits,
            error_message: r.error_message,
            created_at: r.created_at,
        }
    }
}

/// Create a project.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = CreateProject,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ProjectOut),
        (status = 400, description = "Missing or invalid fields, or the slug is taken", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Called with an API key", body = ErrorBody),
    ))]
async fn create_project(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<CreateProject>,
) -> AppResult<(StatusCode, Json<ProjectOut>)> {
    require_fields(&[
        ("name", body.name.as_deref()),
        ("slug", body.slug.as_deref()),
    ])?;
    let name = body.name.as_deref().unwrap_or_default().trim();
    let slug = body.slug.as_deref().unwrap_or_default().trim();
    if name.chars().count() > 255 {
        return Err(AppError::bad_request("name must be 1 to 255 characters"));
    }
    let slug_ok = slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !slug_ok {
        return Err(AppError::bad_request(
            "slug must be 1 to 64 lowercase letters, digits or '-'",
        ));
    }
    let project = projects::create_project(&state.db, auth.user_id, name, slug)
        .await?
        .ok_or_else(|| AppError::bad_request(format!("Project slug '{slug}' is already taken")))?;
    Ok((StatusCode::CREATED, Json(project.into())))
}

/// The caller's projects.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's projects", body = [ProjectOut]),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "API key without read:repos", body = ErrorBody),
    ))]
async fn list_projects(
    State(state): State<AppState>,
    auth: AuthUser,
) -> AppResult<Json<Vec<ProjectOut>>> {
    let list = projects::list_projects(&state.db, auth.user_id).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

async fn own_project(state: &AppState, auth: &AuthUser, id: i64) -> AppResult<Project> {
    projects::find_project(&state.db, auth.user_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Project not found"))
}

fn parse_method(method: Option<&str>) -> AppResult<&'static str> {
    match method.map(str::trim) {
        None | Some("push_client") => Ok("push_client"),
        Some("pull") => Ok("pull"),
        Some(other) => Err(AppError::bad_request(format!(
            "sync_method must be 'push_client' or 'pull', not '{other}'"
        ))),
    }
}

/// How long saving a `pull` repository waits for its host's addresses.
const RESOLVE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// A `pull` repository needs a remote URL that passes the URL policy and whose host does
/// not resolve to a refused (local) address now; a host that cannot be resolved is
/// accepted (the pull sync checks again before every fetch and reports it).
async fn check_remote(state: &AppState, method: &str, remote_url: Option<&str>) -> AppResult<()> {
    if let Some(url) = remote_url
        && url.len() > 2048
    {
        return Err(AppError::bad_request("remote_url is too long"));
    }
    if method != "pull" {
        return Ok(());
    }
    let url = remote_url
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| AppError::bad_request("A pull repository needs a remote_url"))?;
    let config = &state.config;
    let remote = crate::git::UrlPolicy::from_config(config)
        .check(url)
        .map_err(|why| AppError::bad_request(format!("Invalid remote_url: {why}")))?;
    match remote.refusal_now(RESOLVE_DEADLINE).await {
        Some(why) => Err(AppError::bad_request(format!(
            "Invalid remote_url: is refused: {why}"
        ))),
        None => Ok(()),
    }
}

/// Add a repository to a project.
#[utoipa::path(post, path = "/api/v1/projects/{pid}/repos", tag = "projects",
    params(("pid" = i64, Path, description = "Project id", minimum = 1)), request_body = CreateRepo,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = RepoOut),
        (status = 400, description = "Missing or invalid fields, or the name is taken", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Called with an API key", body = ErrorBody),
        (status = 404, description = "No such project of the caller's", body = ErrorBody),
    ))]
async fn create_repo(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(pid): Path<i64>,
    Json(body): Json<CreateRepo>,
) -> AppResult<(StatusCode, Json<RepoOut>)> {
    let project = own_project(&state, &auth, pid).await?;
    require_fields(&[("name", body.name.as_deref())])?;
    let name = body.name.as_deref().unwrap_or_default().trim();
    if name.chars().count() > 255 {
        return Err(AppError::bad_request("name must be 1 to 255 characters"));
    }
    let method = parse_method(body.sync_method.as_deref())?;
    let remote_url = body
        .remote_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    check_remote(&state, method, remote_url).await?;
    let new = NewRepo {
        project_id: project.id,
        name,
        remote_url,
        sync_method: method,
    };
    let repo = projects::create_repo(&state.db, &new)
        .await?
        .ok_or_else(|| {
            AppError::bad_request(format!(
                "The project already has a repository named '{name}'"
            ))
        })?;
    Ok((StatusCode::CREATED, Json(repo.into())))
}

/// A project's repositories with their sync state.
#[utoipa::path(get, path = "/api/v1/projects/{pid}/repos", tag = "projects",
    params(("pid" = i64, Path, description = "Project id", minimum = 1)), security(("bearer" = [])),
    responses(
        (status = 200, description = "The project's repositories", body = [RepoOut]),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "API key without read:repos", body = ErrorBody),
        (status = 404, description = "No such project of the caller's", body = ErrorBody),
    ))]
async fn list_repos(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(pid): Path<i64>,
) -> AppResult<Json<Vec<RepoOut>>> {
    let project = own_project(&state, &auth, pid).await?;
    let repos = projects::list_repos(&state.db, project.id).await?;
    Ok(Json(repos.into_iter().map(Into::into).collect()))
}

/// Switch a repository between `push_client` and `pull`.
#[utoipa::path(patch, path = "/api/v1/repos/{rid}", tag = "projects",
    params(("rid" = i64, Path, description = "Repository id", minimum = 1)), request_body = UpdateRepo,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = RepoOut),
        (status = 400, description = "Missing or invalid sync_method or remote_url", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Called with an API key", body = ErrorBody),
        (status = 404, description = "No such repository of the caller's", body = ErrorBody),
    ))]
async fn update_repo(
    State(state): State<AppState>,
    auth: AuthUser,
    ClientIp(ip): ClientIp,
    Path(rid): Path<i64>,
    Json(body): Json<UpdateRepo>,
) -> AppResult<Json<RepoOut>> {
    let repo = projects::find_repo(&state.db, auth.user_id, None, rid)
        .await?
        .ok_or_else(|| AppError::not_found("Repository not found"))?;
    require_fields(&[("sync_method", body.sync_method.as_deref())])?;
    let method = parse_method(body.sync_method.as_deref())?;
    let new_url = body
        .remote_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    check_remote(&state, method, new_url.or(repo.remote_url.as_deref())).await?;
    let updated = projects::update_sync_method(&state.db, repo.id, method, new_url).await?;
    let entry = AuditEntry::new(auth.user_id, "repo.sync_method_changed", "repo", repo.id)
        .details(
            json!({"project_id": repo.project_id, "from": repo.sync_method, "to": method,
            "remote_url": updated.remote_url}),
        )
        .ip(ip.as_deref());
    audit::record(&state.db, &entry).await?;
    Ok(Json(updated.into()))
}
