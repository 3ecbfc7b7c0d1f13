//! The polling tokens' request counts per minute and outcome, shared by every replica.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::github::UsageCount;

/// Adds `counts` (one statement) and forgets minutes older than two hours.
pub async fn add(db: &PgPool, counts: &[UsageCount]) -> Result<(), sqlx::Error> {
    if counts.is_empty() {
        return Ok(());
    }
    let fingerprints: Vec<&str> = counts.iter().map(|c| c.fingerprint.as_str()).collect();
    let minutes: Vec<DateTime<Utc>> = counts.iter().map(|c| c.minute).collect();
    let outcomes: Vec<&str> = counts.iter().map(|c| c.outcome).collect();
    let requests: Vec<i64> = counts.iter().map(|c| c.requests).collect();
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into github_token_requests (fingerprint, minute, outcome, requests)
         select * from unnest($1::text[], $2::timestamptz[], $3::text[], $4::int8[])
         on conflict (fingerprint, minute, outcome)
             do update set requests = github_token_requests.requests + excluded.requests",
    )
    .bind(&fingerprints)
    .bind(&minutes)
    .bind(&outcomes)
    .bind(&requests)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from github_token_requests where minute < now() - interval '2 hours'")
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Requests per (fingerprint, outcome) in the minutes from `since` on.
pub async fn since(
    db: &PgPool,
    since: DateTime<Utc>,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select fingerprint, outcome, sum(requests)::int8 from github_token_requests
         where minute >= $1 group by fingerprint, outcome",
    )
    .bind(since)
    .fetch_all(db)
    .await
}
