//! Repository events and the statistics cached from them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

/// One event as the statistics see it.
#[derive(Debug, Clone)]
pub struct EventPoint {
    pub event_type: String,
    pub created_at: DateTime<Utc>,
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: i64,
    pub event_type: String,
    pub actor_login: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Which of `ids` the repository already has.
pub async fn known_ids(
    db: &PgPool,
    repository_id: i64,
    ids: &[i64],
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("select id from events where repository_id = $1 and id = any($2)")
        .bind(repository_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

/// The newest stored event's time, if the repository has any.
pub async fn newest_at(
    db: &PgPool,
    repository_id: i64,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("select max(created_at) from events where repository_id = $1")
        .bind(repository_id)
        .fetch_one(db)
        .await
}

/// Inserts the events not stored yet (one statement) and returns how many were new.
pub async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    repository_id: i64,
    events: &[NewEvent],
) -> Result<u64, sqlx::Error> {
    if events.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let actors: Vec<Option<&str>> = events.iter().map(|e| e.actor_login.as_deref()).collect();
    let times: Vec<DateTime<Utc>> = events.iter().map(|e| e.created_at).collect();
    let result = sqlx::query(
        "insert into events (repository_id, id, event_type, actor_login, created_at)
         select $1, * from unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[])
         on conflict do nothing",
    )
    .bind(repository_id)
    .bind(&ids)
    .bind(&types)
    .bind(&actors)
    .bind(&times)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

/// Keeps only the newest `keep` events of the repository.
pub async fn trim(
    tx: &mut Transaction<'_, Postgres>,
    repository_id: i64,
    keep: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "delete from events where repository_id = $1 and (created_at, id) < (
             select created_at, id from events where repository_id = $1
             order by created_at desc, id desc offset $2 - 1 limit 1)",
    )
    .bind(repository_id)
    .bind(keep)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

/// Stored events per UTC day and type since `since` (charts).
pub async fn daily_counts(
    db: &PgPool,
    repository_id: i64,
    since: chrono::NaiveDate,
) -> Result<Vec<(chrono::NaiveDate, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select (created_at at time zone 'UTC')::date as day, event_type, count(*)
           from events
          where repository_id = $1 and created_at >= ($2::date)::timestamp at time zone 'UTC'
          group by 1, 2 order by 1, 2",
    )
    .bind(repository_id)
    .bind(since)
    .fetch_all(db)
    .await
}

/// The newest events (at most the statistics window) of each repository, newest first,
/// in one round trip.
pub async fn newest(
    db: &PgPool,
    repository_ids: &[i64],
    limit: i64,
) -> Result<HashMap<i64, Vec<EventPoint>>, sqlx::Error> {
    let rows: Vec<(i64, String, DateTime<Utc>)> = sqlx::query_as(
        "select rid, e.event_type, e.created_at
           from unnest($1::bigint[]) rid
           cross join lateral (
               select event_type, created_at from events
                where repository_id = rid
                order by created_at desc, id desc limit $2) e",
    )
    .bind(repository_ids)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let mut by_repository: HashMap<i64, Vec<EventPoint>> = HashMap::new();
    for (id, event_type, created_at) in rows {
        by_repository.entry(id).or_default().push(EventPoint {
            event_type,
            created_at,
        });
    }
    Ok(by_repository)
}

/// A user's tracked repository with its cached statistics, if fresh.
#[derive(Debug, sqlx::FromRow)]
pub struct StatsRow {
    pub repository_id: i64,
    pub owner: String,
    pub name: String,
    pub last_synchronized: Option<DateTime<Utc>>,
    pub events_version: i64,
    /// The cached JSON; `None` when nothing is cached or the cache is stale.
    pub statistics: Option<String>,
    /// No event gap reaches into the statistics' window.
    pub complete: bool,
}

/// The user's repositories (all, or the one named) with fresh cached statistics.
pub async fn stats_rows(
    db: &PgPool,
    user_id: i64,
    only: Option<i64>,
) -> Result<Vec<StatsRow>, sqlx::Error> {
    sqlx::query_as(
        "select r.id as repository_id, r.owner, r.name, r.last_synchronized, r.events_version,
                case when s.events_version = r.events_version
                      and (s.valid_until is null or s.valid_until > now())
                     then s.statistics::text end as statistics,
                case when r.gap_until is null then true
                     else r.gap_until <= case
                         when (select count(*) from events e where e.repository_id = r.id
                                  and e.created_at > now() - interval '7 days') between 1 and 500
                         then now() - interval '7 days'
                         else (select min(w.created_at) from (select created_at from events e
                                  where e.repository_id = r.id
                                  order by created_at desc, id desc limit 500) w)
                     end end as complete
           from tracked_repositories t
           join repositories r on r.id = t.repository_id
           left join repository_event_stats s on s.repository_id = r.id
          where t.user_id = $1 and ($2::bigint is null or r.id = $2)
          order by lower(r.owner), lower(r.name)",
    )
    .bind(user_id)
    .bind(only)
    .fetch_all(db)
    .await
}

/// Caches statistics computed from the events as they were at `events_version`.
pub async fn store_stats(
    db: &PgPool,
    repository_id: i64,
    events_version: i64,
    statistics: &serde_json::value::RawValue,
    valid_until: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into repository_event_stats (repository_id, statistics, events_version, valid_until)
         values ($1, $2, $3, $4)
         on conflict (repository_id) do update
           set statistics = excluded.statistics, events_version = excluded.events_version,
               valid_until = excluded.valid_until",
    )
    .bind(repository_id)
    .bind(sqlx::types::Json(statistics))
    .bind(events_version)
    .bind(valid_until)
    .execute(db)
    .await?;
    Ok(())
}

/// A fingerprint of everything the user's `/repository/all/stats` answer depends on (which
/// repositories, their names, event versions and sync times), and whether every cached
/// statistic that answer would use is still fresh.
pub async fn stats_fingerprint(db: &PgPool, user_id: i64) -> Result<(String, bool), sqlx::Error> {
    sqlx::query_as(
        "select coalesce(md5(string_agg(
                    r.id || ':' || r.owner || '/' || r.name || ':' || r.events_version || ':'
                    || coalesce(r.last_synchronized::text, '-') || ':'
                    || coalesce(r.gap_until::text, '-'), ',' order by r.id)), ''),
                coalesce(bool_and(r.last_synchronized is null
                    or (s.events_version = r.events_version
                        and (s.valid_until is null or s.valid_until > now()))), true)
           from tracked_repositories t
           join repositories r on r.id = t.repository_id
           left join repository_event_stats s on s.repository_id = r.id
          where t.user_id = $1",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}
