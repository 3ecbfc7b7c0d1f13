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
