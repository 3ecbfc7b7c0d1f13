//! What `GET /sync/health` and the lag gauges of `/metrics` read: per user, the state of
//! every kind of sync it owns; across all users, the worst lag and the failing items per kind.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// A tracked repository's polling.
#[derive(Debug, sqlx::FromRow)]
pub struct RepositoryRow {
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_synchronized: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub next_poll_at: DateTime<Utc>,
    pub poll_interval_secs: i32,
    pub busy_interval_secs: Option<i32>,
    pub event_gaps: i64,
    pub last_gap_at: Option<DateTime<Utc>>,
}

pub async fn repositories(db: &PgPool, user_id: i64) -> Result<Vec<RepositoryRow>, sqlx::Error> {
    sqlx::query_as(
        "select r.owner || '/' || r.name as name, r.created_at, r.last_synchronized,
                r.last_error, r.next_poll_at, r.poll_interval_secs, r.busy_interval_secs,
                coalesce(g.n, 0) as event_gaps, g.last_at as last_gap_at
           from tracked_repositories t
           join repositories r on r.id = t.repository_id
           left join lateral (
               select count(*) as n, max(detected_at) as last_at
                 from event_gaps where repository_id = r.id) g on true
          where t.user_id = $1
          order by lower(r.owner), lower(r.name)",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// A tracked account's daily scan: the newest daily statistics of its repositories, else
/// the last refresh of its repository list.
#[derive(Debug, sqlx::FromRow)]
pub struct AccountRow {
    pub login: String,
    pub created_at: DateTime<Utc>,
    pub last_scan: Option<DateTime<Utc>>,
}

pub async fn accounts(db: &PgPool, user_id: i64) -> Result<Vec<AccountRow>, sqlx::Error> {
    sqlx::query_as(
        "select a.login, t.created_at,
                coalesce((select max(d.recorded_at)
                            from repositories r
                            join repository_daily_stats d on d.repository_id = r.id
                           where r.account_id = a.id), a.refreshed_at) as last_scan
           from tracked_accounts t
           join github_accounts a on a.id = t.account_id
          where t.user_id = $1
          order by lower(a.login)",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// A `pull` repository of one of the user's projects.
#[derive(Debug, sqlx::FromRow)]
pub struct PullRow {
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub sync_status: String,
    pub error_message: Option<String>,
    pub next_pull_at: Option<DateTime<Utc>>,
}

pub async fn pulls(db: &PgPool, user_id: i64) -> Result<Vec<PullRow>, sqlx::Error> {
    sqlx::query_as(
        "select p.name || '/' || r.name as name, r.created_at, r.last_sync_at, r.sync_status,
                r.error_message, r.next_pull_at
           from project_repos r
           join projects p on p.id = r.project_id
          where p.user_id = $1 and r.sync_method = 'pull'
          order by lower(p.name), lower(r.name)",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// A backup registration: its newest successful backup and its newest finished one.
#[derive(Debug, sqlx::FromRow)]
pub struct BackupRow {
    pub name: String,
    pub last_success: Option<DateTime<Utc>>,
    /// The error of the newest finished backup, if it failed.
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

pub async fn backups(db: &PgPool, user_id: i64) -> Result<Vec<BackupRow>, sqlx::Error> {
    sqlx::query_as(
        "select r.company_id || '/' || r.repository_name as name,
                (select max(b.finished_at) from backups b
                  where b.repository_id = r.id and b.status = 'done') as last_success,
                f.error as last_error, f.finished_at as last_error_at
           from backup_repositories r
           left join lateral (
               select b.status, b.error, b.finished_at from backups b
                where b.repository_id = r.id and b.status in ('done', 'failed')
                order by b.finished_at desc nulls last, b.id desc limit 1) newest on true
           left join lateral (
               select newest.error, newest.finished_at where newest.status = 'failed') f on true
          where r.user_id = $1
          order by lower(r.company_id), lower(r.repository_name)",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Across all users, per kind of sync: the oldest last success (as a lag in seconds from
/// now; never-synced items count from their creation) and how many items are failing.
#[derive(Debug, sqlx::FromRow)]
pub struct KindLag {
    pub kind: String,
    pub lag_secs: Option<f64>,
    pub failing: i64,
}

pub async fn lag_by_kind(db: &PgPool) -> Result<Vec<KindLag>, sqlx::Error> {
    sqlx::query_as(
        "select 'repository' as kind,
                extract(epoch from now() - min(coalesce(last_synchronized, created_at)))::float8
                    as lag_secs,
                count(*) filter (where last_error is not null) as failing
           from repositories r
          where exists (select 1 from tracked_repositories t where t.repository_id = r.id)
         union all
         select 'account',
                extract(epoch from now() - min(coalesce(refreshed_at, created_at)))::float8,
                0
           from github_accounts a
          where exists (select 1 from tracked_accounts t where t.account_id = a.id)
         union all
         select 'integration',
                extract(epoch from now() - min(coalesce(last_sync, connected_at)))::float8,
                count(*) filter (where sync_state = 'failed' or needs_reconnect)
           from github_integrations
         union all
         select 'pull',
                extract(epoch from now() - min(coalesce(last_sync_at, created_at)))::float8,
                count(*) filter (where sync_status = 'error')
           from project_repos where sync_method = 'pull'
         union all
         select 'backup', null,
                count(*) filter (where newest.status = 'failed')
           from backup_repositories r
           left join lateral (
               select b.status from backups b
                where b.repository_id = r.id and b.status in ('done', 'failed')
                order by b.finished_at desc nulls last, b.id desc limit 1) newest on true",
    )
    .fetch_all(db)
    .await
}
