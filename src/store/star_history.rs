//! The star history backfill's claims on repositories (`repositories.star_history_*`,
//! leases taken with `FOR UPDATE SKIP LOCKED`, like the event poller's) and its daily rows
//! (`repository_daily_stats` with `source = 'backfill'`, never over a snapshot).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

/// A repository whose star history is due, as claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StarHistoryTarget {
    pub id: i64,
    pub owner: String,
    pub name: String,
    /// `pending`, `complete`, `truncated` or `unavailable`.
    pub state: String,
    pub etag: Option<String>,
    pub since: Option<NaiveDate>,
    pub failures: i32,
}

/// The newest backfilled day that was a whole day when it was recorded, and its count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct BackfilledDay {
    pub date: NaiveDate,
    pub stargazers: i64,
}

/// What a successful load stores.
#[derive(Debug, Clone)]
pub struct Backfill<'a> {
    /// `complete` or `truncated`.
    pub state: &'a str,
    /// Page 1's ETag.
    pub etag: Option<&'a str>,
    /// The first day of the whole history; `None` keeps the stored one (a refresh).
    pub since: Option<NaiveDate>,
    /// Cumulative stars per day.
    pub days: &'a [(NaiveDate, i64)],
}

/// Leases up to `limit` due repositories that someone tracks (directly or through an
/// account), oldest due first.
pub async fn claim_due(
    db: &PgPool,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<StarHistoryTarget>, sqlx::Error> {
    sqlx::query_as(
        "with due as (
             select r.id from repositories r
              where r.star_history_next_at <= now()
                and (r.star_history_lease_until is null or r.star_history_lease_until < now())
                and (exists (select 1 from tracked_repositories t where t.repository_id = r.id)
                  or exists (select 1 from tracked_accounts a where a.account_id = r.account_id))
              order by r.star_history_next_at
              limit $1
              for update skip locked
         )
         update repositories r
            set star_history_lease_until = now() + make_interval(secs => $2)
           from due where r.id = due.id
         returning r.id, r.owner, r.name, r.star_history_state as state,
                   r.star_history_etag as etag, r.star_history_since as since,
                   r.star_history_failures as failures",
    )
    .bind(limit)
    .bind(lease_secs as f64)
    .fetch_all(db)
    .await
}

/// Extends a lease while a long history is walked.
pub async fn renew(db: &PgPool, id: i64, lease_secs: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update repositories set star_history_lease_until = now() + make_interval(secs => $2)
          where id = $1",
    )
    .bind(id)
    .bind(lease_secs as f64)
    .execute(db)
    .await?;
    Ok(())
}

/// The newest backfilled day recorded after it ended (a day backfilled while it was
/// today may have gained stars since).
pub async fn newest_whole_day(
    db: &PgPool,
    repository_id: i64,
) -> Result<Option<BackfilledDay>, sqlx::Error> {
    sqlx::query_as(
        "select date, stargazers from repository_daily_stats
          where repository_id = $1 and source = 'backfill'
            and date < (recorded_at at time zone 'UTC')::date
          order by date desc limit 1",
    )
    .bind(repository_id)
    .fetch_optional(db)
    .await
}

/// Stores the days (one statement; days with a snapshot keep it) and the new state, and
/// schedules the next refresh.
pub async fn record_backfill(
    db: &PgPool,
    id: i64,
    backfill: &Backfill<'_>,
    next_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let dates: Vec<NaiveDate> = backfill.days.iter().map(|(d, _)| *d).collect();
    let stars: Vec<i64> = backfill.days.iter().map(|(_, s)| *s).collect();
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into repository_daily_stats
                (repository_id, date, stargazers, forks, watchers, source)
         select $1, d, s, null, null, 'backfill' from unnest($2::date[], $3::bigint[]) as u(d, s)
         on conflict (repository_id, date) do update
           set stargazers = excluded.stargazers, recorded_at = now()
         where repository_daily_stats.source = 'backfill'",
    )
    .bind(id)
    .bind(&dates)
    .bind(&stars)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "update repositories
            set star_history_state = $2, star_history_etag = $3,
                star_history_since = coalesce($4, star_history_since),
                star_history_checked_at = now(), star_history_error = null,
                star_history_failures = 0, star_history_next_at = $5,
                star_history_lease_until = null
          where id = $1",
    )
    .bind(id)
    .bind(backfill.state)
    .bind(backfill.etag)
    .bind(backfill.since)
    .bind(next_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Page 1 answered 304: nothing changed.
pub async fn record_not_modified(
    db: &PgPool,
    id: i64,
    next_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update repositories
            set star_history_checked_at = now(), star_history_error = null,
                star_history_failures = 0, star_history_next_at = $2,
                star_history_lease_until = null
          where id = $1",
    )
    .bind(id)
    .bind(next_at)
    .execute(db)
    .await?;
    Ok(())
}

/// GitHub has no history for the repository (404, or 403 without a rate limit).
pub async fn record_unavailable(
    db: &PgPool,
    id: i64,
    error: &str,
    next_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update repositories
            set star_history_state = 'unavailable', star_history_etag = null,
                star_history_checked_at = now(), star_history_error = $2,
                star_history_failures = 0, star_history_next_at = $3,
                star_history_lease_until = null
          where id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(next_at)
    .execute(db)
    .await?;
    Ok(())
}

/// A transient failure: the state stays; `counts` adds to the back-off (rate limits do not).
pub async fn record_failure(
    db: &PgPool,
    id: i64,
    error: &str,
    counts: bool,
    next_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update repositories
            set star_history_error = $2,
                star_history_failures = star_history_failures + case when $3 then 1 else 0 end,
                star_history_next_at = $4, star_history_lease_until = null
          where id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(counts)
    .bind(next_at)
    .execute(db)
    .await?;
    Ok(())
}
