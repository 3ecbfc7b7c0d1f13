//! The audit log: who did what, when, from where. Any feature records entries with
//! [`record`]; users read their own with `GET /api/v1/audit-logs`.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// One entry to record. `action` is a dotted verb such as `api_key.created`.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub user_id: Option<i64>,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<String>,
    pub details: Value,
    pub ip: Option<&'a str>,
}

impl<'a> AuditEntry<'a> {
    /// An entry by `user_id` about `target_type` `target_id`.
    pub fn new(user_id: i64, action: &'a str, target_type: &'a str, target_id: i64) -> Self {
        Self {
            user_id: Some(user_id),
            action,
            target_type: Some(target_type),
            target_id: Some(target_id.to_string()),
            details: Value::Object(Default::default()),
            ip: None,
        }
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn ip(mut self, ip: Option<&'a str>) -> Self {
        self.ip = ip;
        self
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditLog {
    pub id: i64,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub details: Value,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Records `entry` (inside the caller's transaction if given one).
pub async fn record<'e, E>(db: E, entry: &AuditEntry<'_>) -> Result<(), sqlx::Error>
where
    E: sqlx::PgExecutor<'e>,
{
    sqlx::query(
        "insert into audit_logs (user_id, action, target_type, target_id, details, ip)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entry.user_id)
    .bind(entry.action)
    .bind(entry.target_type)
    .bind(entry.target_id.as_deref())
    .bind(&entry.details)
    .bind(entry.ip)
    .execute(db)
    .await?;
    Ok(())
}

/// The user's entries, newest first, and how many there are in all.
pub async fn list(
    db: &sqlx::PgPool,
    user_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditLog>, i64), sqlx::Error> {
    let rows = sqlx::query_as(
        "select id, action, target_type, target_id, details, ip, created_at
         from audit_logs where user_id = $1
         order by id desc limit $2 offset $3",
    )
    .bind(user_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar("select count(*) from audit_logs where user_id = $1")
        .bind(user_id)
        .fetch_one(db)
        .await?;
    Ok((rows, total))
}
