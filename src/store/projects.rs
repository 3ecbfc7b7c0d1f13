//! Projects and their repositories (the targets of pushed and pulled commits).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub slug: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Repo {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub remote_url: Option<String>,
    pub sync_method: String,
    pub sync_status: String,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_ingested_sha: Option<String>,
    pub total_commits: i64,
    pub error_message: Option<String>,
    pub created_at: DateTime<Utc>,
}

const REPO_COLUMNS: &str = "r.id, r.project_id, r.name, r.remote_url, r.sync_method, \
     r.sync_status, r.last_sync_at, r.last_ingested_sha, r.total_commits, r.error_message, \
     r.created_at";

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// Inserts a project; `Ok(None)` if the user already has one with this slug.
pub async fn create_project(
    db: &PgPool,
    user_id: i64,
    name: &str,
    slug: &str,
) -> Result<Option<Project>, sqlx::Error> {
    let result = sqlx::query_as(
        "insert into projects (user_id, name, slug) values ($1, $2, $3)
         returning id, user_id, name, slug, created_at",
    )
    .bind(user_id)
    .bind(name)
    .bind(slug)
    .fetch_one(db)
    .await;
    match result {
        Ok(project) => Ok(Some(project)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn list_projects(db: &PgPool, user_id: i64) -> Result<Vec<Project>, sqlx::Error> {
    sqlx::query_as(
        "select id, user_id, name, slug, created_at from projects
         where user_id = $1 order by id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

pub async fn find_project(
    db: &PgPool,
    user_id: i64,
    id: i64,
) -> Result<Option<Project>, sqlx::Error> {
    sqlx::query_as(
        "select id, user_id, name, slug, created_at from projects
         where id = $1 and user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

pub struct NewRepo<'a> {
    pub project_id: i64,
    pub name: &'a str,
    pub remote_url: Option<&'a str>,
    pub sync_method: &'a str,
}

/// Inserts a repository; `Ok(None)` if the project already has one with this name.
pub async fn create_repo(db: &PgPool, repo: &NewRepo<'_>) -> Result<Option<Repo>, sqlx::Error> {
    let result = sqlx::query_as(&format!(
        "insert into project_repos as r (project_id, name, remote_url, sync_method, next_pull_at)
         values ($1, $2, $3, $4, case when $4 = 'pull' then now() end)
         returning {REPO_COLUMNS}"
    ))
    .bind(repo.project_id)
    .bind(repo.name)
    .bind(repo.remote_url)
    .bind(repo.sync_method)
    .fetch_one(db)
    .await;
    match result {
        Ok(repo) => Ok(Some(repo)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn list_repos(db: &PgPool, project_id: i64) -> Result<Vec<Repo>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {REPO_COLUMNS} from project_repos r where r.project_id = $1 order by r.id"
    ))
    .bind(project_id)
    .fetch_all(db)
    .await
}

/// Repository `id` if it belongs to one of the user's projects (and to `project_id`
/// when given).
pub async fn find_repo(
    db: &PgPool,
    user_id: i64,
    project_id: Option<i64>,
    id: i64,
) -> Result<Option<Repo>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {REPO_COLUMNS} from project_repos r join projects p on p.id = r.project_id
         where r.id = $1 and p.user_id = $2 and ($3::int8 is null or r.project_id = $3)"
    ))
    .bind(id)
    .bind(user_id)
    .bind(project_id)
    .fetch_optional(db)
    .await
}

/// Switches the sync method (and optionally the remote URL); a switch to `pull` makes
/// the repository due for a fetch at once.
pub async fn update_sync_method(
    db: &PgPool,
    id: i64,
    sync_method: &str,
    remote_url: Option<&str>,
) -> Result<Repo, sqlx::Error> {
    sqlx::query_as(&format!(
        "update project_repos r
         set sync_method = $2,
             remote_url = coalesce($3, r.remote_url),
             next_pull_at = case when $2 = 'pull' then now() end,
             pull_lease_until = null
         where r.id = $1
         returning {REPO_COLUMNS}"
    ))
    .bind(id)
    .bind(sync_method)
    .bind(remote_url)
    .fetch_one(db)
    .await
}
