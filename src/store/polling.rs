//! The event poller's claims on repositories. A claim is a lease: `claim_due` marks rows
//! with `lease_until` inside a `FOR UPDATE SKIP LOCKED` selection, so concurrent pollers
//! (threads or replicas) never take the same repository, and a crashed poller's lease
//! simply expires.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PollTarget {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub events_etag: Option<String>,
    pub poll_interval_secs: i32,
    pub error_count: i32,
    /// The shortened interval of a busy repository (after a gap), `None` when normal.
    pub busy_interval_secs: Option<i32>,
}

/// Leases up to `limit` due repositories that someone tracks, oldest due first.
pub async fn claim_due(
    db: &PgPool,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<PollTarget>, sqlx::Error> {
    sqlx::query_as(
        "with due as (
             select r.id from repositories r
              where r.next_poll_at <= now()
                and (r.lease_until is null or r.lease_until < now())
                and exists (select 1 from tracked_repositories t where t.repository_id = r.id)
              order by r.next_poll_at
              limit $1
              for update skip locked
         )
         update repositories r
            set lease_until = now() + make_interval(secs => $2), last_polled_at = now()
           from due where r.id = due.id
         returning r.id, r.owner, r.name, r.events_etag, r.poll_interval_secs, r.error_count,
                   r.busy_interval_secs",
    )
    .bind(limit)
    .bind(lease_secs as f64)
    .fetch_all(db)
    .await
}

/// When a repository is polled next, and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// GitHub's `X-Poll-Interval` (seconds).
    pub poll_interval_secs: i32,
    /// The shortened interval of a busy repository, `None` when normal.
    pub busy_interval_secs: Option<i32>,
    pub next_poll_at: DateTime<Utc>,
}

/// A repository whose events did not change (a 304).
#[derive(Debug, Clone, Copy)]
pub struct NotModified {
    pub id: i64,
    pub schedule: Schedule,
}

/// After 304s: only the sync time and the schedule change, for all of `done` in one
/// statement.
pub async fn record_not_modified(db: &PgPool, done: &[NotModified]) -> Result<(), sqlx::Error> {
    if done.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "update repositories r
            set last_synchronized = now(), poll_interval_secs = d.poll_interval_secs,
                next_poll_at = d.next_poll_at, busy_interval_secs = d.busy_interval_secs,
                lease_until = null, last_error = null, error_count = 0, unavailable = false
           from unnest($1::int8[], $2::int4[], $3::timestamptz[], $4::int4[])
                as d (id, poll_interval_secs, next_poll_at, busy_interval_secs)
          where r.id = d.id",
    )
    .bind(done.iter().map(|d| d.id).collect::<Vec<_>>())
    .bind(
        done.iter()
            .map(|d| d.schedule.poll_interval_secs)
            .collect::<Vec<_>>(),
    )
    .bind(
        done.iter()
            .map(|d| d.schedule.next_poll_at)
            .collect::<Vec<_>>(),
    )
    .bind(
        done.iter()
            .map(|d| d.schedule.busy_interval_secs)
            .collect::<Vec<_>>(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// After new events were stored in `tx`. `etag` is `None` when the walk through the
/// pages did not complete, so the next poll asks unconditionally and finishes it.
pub async fn record_synchronized(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    etag: Option<&str>,
    schedule: &Schedule,
    events_changed: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update repositories
            set events_etag = $2, poll_interval_secs = $3, next_poll_at = $4,
                busy_interval_secs = $6,
                last_synchronized = now(), lease_until = null, last_error = null,
                error_count = 0, unavailable = false,
                events_version = events_version + case when $5 then 1 else 0 end
          where id = $1",
    )
    .bind(id)
    .bind(etag)
    .bind(schedule.poll_interval_secs)
    .bind(schedule.next_poll_at)
    .bind(events_changed)
    .bind(schedule.busy_interval_secs)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// After a failed poll: the error is kept for the user to see and the next poll waits.
pub async fn record_failure(
    db: &PgPool,
    id: i64,
    error: &str,
    unavailable: bool,
    counts_as_error: bool,
    next_poll_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update repositories
            set last_error = $2, unavailable = $3, next_poll_at = $4, lease_until = null,
                error_count = error_count + case when $5 then 1 else 0 end
          where id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(unavailable)
    .bind(next_poll_at)
    .bind(counts_as_error)
    .execute(db)
    .await?;
    Ok(())
}
