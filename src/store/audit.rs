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
    bind(sqlx::query(&insert(1)), entry).execute(db).await?;
    Ok(())
}

/// The `insert` of one entry with its values as parameters `$first`..`$first + 5`, for a
/// statement that records the entry together with another change (one round trip, e.g.
/// after a data-modifying `with`); [`bind`] adds the values in that order.
pub fn insert(first: usize) -> String {
    let p: Vec<String> = (first..first + 6).map(|n| format!("${n}")).collect();
    format!(
        "insert into audit_logs (user_id, action, target_type, target_id, details, ip)
         values ({})",
        p.join(", ")
    )
}

/// Binds `entry`'s values for [`insert`].
pub fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    entry: &'q AuditEntry<'_>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(entry.user_id)
        .bind(entry.action.to_string())
        .bind(entry.target_type.map(str::to_string))
        .bind(entry.target_id.as_deref())
        .bind(&entry.details)
        .bind(entry.ip.map(str::to_string))
}

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
