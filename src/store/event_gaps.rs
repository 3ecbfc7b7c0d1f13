//! Gaps in a repository's events: what a poll could not fetch because more new events than
//! GitHub's 300-event window arrived since the previous poll.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};

/// A gap as a poll found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGap {
    /// The newest event stored before the poll.
    pub started_at: DateTime<Utc>,
    /// The oldest event the poll fetched.
    pub ended_at: DateTime<Utc>,
    pub estimated_missing: Option<i32>,
}

/// Records the gap and moves the repository's `gap_until` to its end.
pub async fn record(
    tx: &mut Transaction<'_, Postgres>,
    repository_id: i64,
    gap: &NewGap,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into event_gaps (repository_id, started_at, ended_at, estimated_missing)
         values ($1, $2, $3, $4)",
    )
    .bind(repository_id)
    .bind(gap.started_at)
    .bind(gap.ended_at)
    .bind(gap.estimated_missing)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "update repositories set gap_until = greatest(coalesce(gap_until, $2), $2) where id = $1",
    )
    .bind(repository_id)
    .bind(gap.ended_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
