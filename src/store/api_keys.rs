//! API keys (prefix + argon2id hash; the full key is never stored).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Uses of one key gathered in memory since the last write.
#[derive(Debug, Clone)]
pub struct Usage {
    pub count: i64,
    pub last_used_at: DateTime<Utc>,
    pub last_used_ip: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub usage_count: i64,
}

const COLUMNS: &str = "id, user_id, name, prefix, key_hash, scopes, created_at, expires_at, \
     revoked_at, last_used_at, last_used_ip, usage_count";

pub struct NewApiKey<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub scopes: &'a [String],
    pub expires_at: Option<DateTime<Utc>>,
}

/// Inserts a key; `Ok(None)` if its prefix is already taken (generate another).
pub async fn create(db: &PgPool, key: &NewApiKey<'_>) -> Result<Option<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into api_keys (user_id, name, prefix, key_hash, scopes, expires_at)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (prefix) do nothing
         returning {COLUMNS}"
    ))
    .bind(key.user_id)
    .bind(key.name)
    .bind(key.prefix)
    .bind(key.key_hash)
    .bind(key.scopes)
    .bind(key.expires_at)
    .fetch_optional(db)
    .await
}

pub async fn find_by_prefix(db: &PgPool, prefix: &str) -> Result<Option<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLUMNS} from api_keys where prefix = $1"))
        .bind(prefix)
        .fetch_optional(db)
        .await
}

/// The caller's key `id`, if it is theirs.
pub async fn find_for_user(
    db: &PgPool,
    user_id: i64,
    id: i64,
) -> Result<Option<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from api_keys where id = $1 and user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// The user's keys, newest first (revoked ones included).
pub async fn list(db: &PgPool, user_id: i64) -> Result<Vec<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from api_keys where user_id = $1 order by id desc"
    ))
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Whether the key still exists, is not revoked and has not expired: the per-request
/// check of a cached key (a primary-key read).
pub async fn is_active(db: &PgPool, id: i64) -> Result<bool, sqlx::Error> {
    let active: Option<bool> = sqlx::query_scalar(
        "select revoked_at is null and (expires_at is null or expires_at > now())
         from api_keys where id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(active.unwrap_or(false))
}

/// Revokes the key; `Ok(None)` if it was already revoked (or vanished meanwhile).
pub async fn revoke(db: &PgPool, id: i64) -> Result<Option<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update api_keys set revoked_at = now() where id = $1 and revoked_at is null
         returning {COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Adds gathered usage to the keys, in one statement.
pub async fn add_usage(db: &PgPool, usage: &[(i64, Usage)]) -> Result<(), sqlx::Error> {
    let ids: Vec<i64> = usage.iter().map(|(id, _)| *id).collect();
    let counts: Vec<i64> = usage.iter().map(|(_, u)| u.count).collect();
    let times: Vec<DateTime<Utc>> = usage.iter().map(|(_, u)| u.last_used_at).collect();
    let ips: Vec<Option<String>> = usage.iter().map(|(_, u)| u.last_used_ip.clone()).collect();
    sqlx::query(
        "update api_keys k
         set usage_count = k.usage_count + u.n,
             last_used_at = greatest(k.last_used_at, u.at),
             last_used_ip = coalesce(u.ip, k.last_used_ip)
         from unnest($1::int8[], $2::int8[], $3::timestamptz[], $4::text[]) as u(id, n, at, ip)
         where k.id = u.id",
    )
    .bind(&ids)
    .bind(&counts)
    .bind(&times)
    .bind(&ips)
    .execute(db)
    .await?;
    Ok(())
}
