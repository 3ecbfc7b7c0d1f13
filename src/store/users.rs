//! Application users.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: Option<String>,
    pub github_id: Option<i64>,
    pub github_login: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Inserts a user; `Ok(None)` when the username is taken (case-insensitively).
pub async fn create(
    db: &PgPool,
    username: &str,
    password_hash: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "insert into users (username, password_hash) values ($1, $2)
         on conflict (lower(username)) do nothing
         returning id, username, password_hash, github_id, github_login, created_at",
    )
    .bind(username)
    .bind(password_hash)
    .fetch_optional(db)
    .await
}

pub async fn find_by_username(db: &PgPool, username: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "select id, username, password_hash, github_id, github_login, created_at
         from users where lower(username) = lower($1)",
    )
    .bind(username)
    .fetch_optional(db)
    .await
}

pub async fn find(db: &PgPool, id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "select id, username, password_hash, github_id, github_login, created_at
         from users where id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Whether user `id` still exists (a primary-key probe on every authenticated request).
pub async fn exists(db: &PgPool, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from users where id = $1)")
        .bind(id)
        .fetch_one(db)
        .await
}

/// The user linked to GitHub account `github_id`, if any.
pub async fn find_by_github_id(db: &PgPool, github_id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "select id, username, password_hash, github_id, github_login, created_at
         from users where github_id = $1",
    )
    .bind(github_id)
    .fetch_optional(db)
    .await
}

/// Inserts a user without a password, linked to a GitHub account. `Ok(None)` when the
/// username is taken or the GitHub account got linked concurrently (the caller looks again).
pub async fn create_for_github(
    db: &PgPool,
    username: &str,
    github_id: i64,
    github_login: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "insert into users (username, github_id, github_login) values ($1, $2, $3)
         on conflict do nothing
         returning id, username, password_hash, github_id, github_login, created_at",
    )
    .bind(username)
    .bind(github_id)
    .bind(github_login)
    .fetch_optional(db)
    .await
}

/// Links `user_id` to a GitHub account; `Ok(false)` if that account is linked to someone else.
pub async fn link_github(
    db: &PgPool,
    user_id: i64,
    github_id: i64,
    github_login: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "update users set github_id = $2, github_login = $3
         where id = $1 and not exists (select 1 from users where github_id = $2 and id <> $1)",
    )
    .bind(user_id)
    .bind(github_id)
    .bind(github_login)
    .execute(db)
    .await;
    match result {
        Ok(done) => Ok(done.rows_affected() == 1),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}
