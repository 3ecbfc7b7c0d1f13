//! Tracked GitHub repositories: the shared `repositories` rows and each user's list.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Repository {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub unavailable: bool,
}

/// A row of a user's list, with its sync state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrackedRepository {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub added_at: DateTime<Utc>,
    pub last_synchronized: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub unavailable: bool,
    pub events_stored: i64,
    pub poll_interval_secs: i32,
    pub busy_interval_secs: Option<i32>,
    pub event_gaps: i64,
    pub gap_started_at: Option<DateTime<Utc>>,
    pub gap_ended_at: Option<DateTime<Utc>>,
    pub gap_estimated_missing: Option<i32>,
    pub gap_detected_at: Option<DateTime<Utc>>,
    pub star_history_state: String,
    pub star_history_since: Option<NaiveDate>,
}

pub async fn find(db: &PgPool, owner: &str, name: &str) -> Result<Option<Repository>, sqlx::Error> {
    sqlx::query_as(
        "select id, owner, name, unavailable from repositories
         where lower(owner) = lower($1) and lower(name) = lower($2)",
    )
    .bind(owner)
    .bind(name)
    .fetch_optional(db)
    .await
}

/// Stores the repository as GitHub names it (or finds it), making it available again.
pub async fn upsert(
    db: &PgPool,
    owner: &str,
    name: &str,
    github_id: Option<i64>,
) -> Result<Repository, sqlx::Error> {
    sqlx::query_as(
        "insert into repositories (owner, name, github_id) values ($1, $2, $3)
         on conflict (lower(owner), lower(name)) do update
           set owner = excluded.owner, name = excluded.name,
               github_id = coalesce(excluded.github_id, repositories.github_id),
               unavailable = false,
               next_poll_at = case when repositories.unavailable then now() else repositories.next_poll_at end
         returning id, owner, name, unavailable",
    )
    .bind(owner)
    .bind(name)
    .bind(github_id)
    .fetch_one(db)
    .await
}

/// Adds the repository to the user's list; `false` if it was there already.
pub async fn track(db: &PgPool, user_id: i64, repository_id: i64) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "insert into tracked_repositories (user_id, repository_id) values ($1, $2)
         on conflict do nothing",
    )
    .bind(user_id)
    .bind(repository_id)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Removes the repository from the user's list; `false` if it was not there.
pub async fn untrack(
    db: &PgPool,
    user_id: i64,
    owner: &str,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "delete from tracked_repositories t using repositories r
         where t.repository_id = r.id and t.user_id = $1
           and lower(r.owner) = lower($2) and lower(r.name) = lower($3)",
    )
    .bind(user_id)
    .bind(owner)
    .bind(name)
    .execute(db)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// The repository if it is in the user's list.
pub async fn tracked(
    db: &PgPool,
    user_id: i64,
    owner: &str,
    name: &str,
) -> Result<Option<TrackedRepository>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{TRACKED_SELECT} where t.user_id = $1 and lower(r.owner) = lower($2) and lower(r.name) = lower($3)"
    ))
    .bind(user_id)
    .bind(owner)
    .bind(name)
    .fetch_optional(db)
    .await
}

pub async fn list_tracked(
    db: &PgPool,
    user_id: i64,
) -> Result<Vec<TrackedRepository>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{TRACKED_SELECT} where t.user_id = $1 order by lower(r.owner), lower(r.name)"
    ))
    .bind(user_id)
    .fetch_all(db)
    .await
}

const TRACKED_SELECT: &str =
    "select r.id, r.owner, r.name, t.created_at as added_at, r.last_synchronized,
        r.last_error, r.unavailable, r.star_history_state, r.star_history_since,
        (select count(*) from events e where e.repository_id = r.id) as events_stored,
        r.poll_interval_secs, r.busy_interval_secs,
        (select count(*) from event_gaps g where g.repository_id = r.id) as event_gaps,
        g.started_at as gap_started_at, g.ended_at as gap_ended_at,
        g.estimated_missing as gap_estimated_missing, g.detected_at as gap_detected_at
   from tracked_repositories t join repositories r on r.id = t.repository_id
   left join lateral (select started_at, ended_at, estimated_missing, detected_at
                        from event_gaps where repository_id = r.id
                       order by detected_at desc, id desc limit 1) g on true";
