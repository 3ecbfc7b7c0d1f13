//! Share links of charts and badges (`chart_links`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChartLink {
    pub id: i64,
    pub user_id: i64,
    /// `stars`, `events` or `badge`.
    pub chart: String,
    /// The chart's parameters, names to string values.
    pub params: Value,
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str = "select id, user_id, chart, params, secret, created_at from chart_links";

/// Stores a link unless the user already has `max` (one statement, so concurrent
/// requests cannot pass the limit together); `None` when at the limit.
pub async fn create(
    db: &PgPool,
    user_id: i64,
    chart: &str,
    params: &Value,
    secret: &str,
    max: i64,
) -> Result<Option<ChartLink>, sqlx::Error> {
    sqlx::query_as(
        "insert into chart_links (user_id, chart, params, secret)
         select $1, $2, $3, $4
          where (select count(*) from chart_links where user_id = $1) < $5
         returning id, user_id, chart, params, secret, created_at",
    )
    .bind(user_id)
    .bind(chart)
    .bind(params)
    .bind(secret)
    .bind(max)
    .fetch_optional(db)
    .await
}

/// The user's links, oldest first.
pub async fn list(db: &PgPool, user_id: i64) -> Result<Vec<ChartLink>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} where user_id = $1 order by id"))
        .bind(user_id)
        .fetch_all(db)
        .await
}

/// A link by id, whoever owns it (the shared route checks its secret).
pub async fn find(db: &PgPool, id: i64) -> Result<Option<ChartLink>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} where id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Deletes the user's link; `false` if they have none with this id.
pub async fn delete(db: &PgPool, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("delete from chart_links where id = $1 and user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() > 0)
}
