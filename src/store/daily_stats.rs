//! Daily repository statistics (`repository_daily_stats`), what the scan covers, and the
//! claims on scheduled runs (`scheduled_runs`) that keep replicas from repeating a scan.

use chrono::NaiveDate;
use sqlx::PgPool;

/// A repository the stats scan asks GitHub about, with what it knew before.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatsTarget {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub github_id: Option<i64>,
    pub stats_etag: Option<String>,
    /// The newest snapshot's counts (re-recorded when GitHub answers 304).
    pub last_stargazers: Option<i64>,
    pub last_forks: Option<i64>,
    pub last_watchers: Option<i64>,
}

/// Counts of one repository for one day, as GitHub answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCounts {
    pub repository_id: i64,
    pub github_id: Option<i64>,
    pub stargazers: i64,
    pub forks: i64,
    pub watchers: i64,
    /// The ETag the counts are valid for (REST), kept for the next conditional request;
    /// `None` forgets the stored one (GraphQL answers have none).
    pub etag: Option<String>,
}

/// One stored row, as `/v1/users/{id}/stats` shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatsRow {
    pub repo_id: i64,
    pub date: NaiveDate,
    pub stargazers: i64,
    /// `None` on backfilled days (the star history knows stars only).
    pub forks: Option<i64>,
    pub watchers: Option<i64>,
    /// `snapshot` (the daily scan) or `backfill` (the star history).
    pub source: String,
}

/// One row of a repository's history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub date: NaiveDate,
    pub stargazers: i64,
    pub forks: Option<i64>,
    pub watchers: Option<i64>,
    pub source: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRepository {
    pub id: i64,
    pub owner: String,
    pub name: String,
}

const TARGET_SELECT: &str = "select r.id, r.owner, r.name, r.github_id, r.stats_etag,
        last.stargazers as last_stargazers, last.forks as last_forks,
        last.watchers as last_watchers
   from repositories r
   left join lateral (
        select s.stargazers, s.forks, s.watchers from repository_daily_stats s
         where s.repository_id = r.id and s.source = 'snapshot'
         order by s.date desc limit 1
   ) last on true";

/// Every repository somebody tracks, directly (`/repositories`) or through an account.
pub async fn scan_targets(db: &PgPool) -> Result<Vec<StatsTarget>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{TARGET_SELECT}
         where exists (select 1 from tracked_repositories t where t.repository_id = r.id)
            or exists (select 1 from tracked_accounts a where a.account_id = r.account_id)
         order by r.id"
    ))
    .fetch_all(db)
    .await
}

/// The account's repositories that have no snapshot for `date` yet.
pub async fn account_targets_missing(
    db: &PgPool,
    account_id: i64,
    date: NaiveDate,
) -> Result<Vec<StatsTarget>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{TARGET_SELECT}
         where r.account_id = $1
           and not exists (select 1 from repository_daily_stats d
                            where d.repository_id = r.id and d.date = $2
                              and d.source = 'snapshot')
         order by r.id"
    ))
    .bind(account_id)
    .bind(date)
    .fetch_all(db)
    .await
}

/// Upserts the day's snapshots (one statement; a backfilled row of the day is replaced)
/// and remembers GitHub ids and ETags.
pub async fn record(db: &PgPool, date: NaiveDate, rows: &[DailyCounts]) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.repository_id).collect();
    let github_ids: Vec<Option<i64>> = rows.iter().map(|r| r.github_id).collect();
    let stars: Vec<i64> = rows.iter().map(|r| r.stargazers).collect();
    let forks: Vec<i64> = rows.iter().map(|r| r.forks).collect();
    let watchers: Vec<i64> = rows.iter().map(|r| r.watchers).collect();
    let etags: Vec<Option<&str>> = rows.iter().map(|r| r.etag.as_deref()).collect();
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into repository_daily_stats (repository_id, date, stargazers, forks, watchers)
         select id, $1, s, f, w from unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
                as u(id, s, f, w)
         on conflict (repository_id, date) do update
           set stargazers = excluded.stargazers, forks = excluded.forks,
               watchers = excluded.watchers, source = 'snapshot', recorded_at = now()",
    )
    .bind(date)
    .bind(&ids)
    .bind(&stars)
    .bind(&forks)
    .bind(&watchers)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "update repositories r
            set github_id = coalesce(u.g, r.github_id), stats_etag = u.e
           from unnest($1::bigint[], $2::bigint[], $3::text[]) as u(id, g, e)
          where r.id = u.id
            and (r.github_id is distinct from coalesce(u.g, r.github_id)
                 or r.stats_etag is distinct from u.e)",
    )
    .bind(&ids)
    .bind(&github_ids)
    .bind(&etags)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The account's rows in `[from, to]`, by GitHub repository id then date.
pub async fn account_stats(
    db: &PgPool,
    account_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<StatsRow>, sqlx::Error> {
    sqlx::query_as(
        "select r.github_id as repo_id, s.date, s.stargazers, s.forks, s.watchers, s.source
           from repositories r join repository_daily_stats s on s.repository_id = r.id
          where r.account_id = $1 and r.github_id is not null and s.date between $2 and $3
          order by r.github_id, s.date",
    )
    .bind(account_id)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await
}

/// The repository if the user tracks it, directly or through one of their accounts.
pub async fn visible_repository(
    db: &PgPool,
    user_id: i64,
    owner: &str,
    name: &str,
) -> Result<Option<HistoryRepository>, sqlx::Error> {
    sqlx::query_as(
        "select r.id, r.owner, r.name from repositories r
          where lower(r.owner) = lower($2) and lower(r.name) = lower($3)
            and (exists (select 1 from tracked_repositories t
                          where t.repository_id = r.id and t.user_id = $1)
              or exists (select 1 from tracked_accounts a
                          where a.account_id = r.account_id and a.user_id = $1))",
    )
    .bind(user_id)
    .bind(owner)
    .bind(name)
    .fetch_optional(db)
    .await
}

pub async fn history(
    db: &PgPool,
    repository_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query_as(
        "select date, stargazers, forks, watchers, source from repository_daily_stats
          where repository_id = $1 and date between $2 and $3 order by date",
    )
    .bind(repository_id)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await
}

/// The newest stargazer count of a repository (a snapshot or a backfilled day).
pub async fn newest_stargazers(
    db: &PgPool,
    repository_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select stargazers from repository_daily_stats
          where repository_id = $1 order by date desc limit 1",
    )
    .bind(repository_id)
    .fetch_optional(db)
    .await
}

/// Claims the run `(name, period_key)` for `lease_secs`: `true` for exactly one caller
/// until the run finishes, or its lease expires unfinished (a crashed replica).
pub async fn claim_run(
    db: &PgPool,
    name: &str,
    period_key: &str,
    lease_secs: i64,
) -> Result<bool, sqlx::Error> {
    let claimed: Option<String> = sqlx::query_scalar(
        "insert into scheduled_runs (name, period_key, lease_until)
         values ($1, $2, now() + make_interval(secs => $3))
         on conflict (name, period_key) do update
           set lease_until = excluded.lease_until, claimed_at = now()
         where scheduled_runs.finished_at is null and scheduled_runs.lease_until < now()
         returning name",
    )
    .bind(name)
    .bind(period_key)
    .bind(lease_secs as f64)
    .fetch_optional(db)
    .await?;
    Ok(claimed.is_some())
}

/// Extends a claimed run's lease while it works.
pub async fn renew_run(
    db: &PgPool,
    name: &str,
    period_key: &str,
    lease_secs: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update scheduled_runs set lease_until = now() + make_interval(secs => $3)
          where name = $1 and period_key = $2 and finished_at is null",
    )
    .bind(name)
    .bind(period_key)
    .bind(lease_secs as f64)
    .execute(db)
    .await?;
    Ok(())
}

/// Ends a run: `finished` marks it done; otherwise it may be claimed again after
/// `retry_after_secs` (it stopped early, e.g. on a rate limit).
pub async fn end_run(
    db: &PgPool,
    name: &str,
    period_key: &str,
    finished: bool,
    retry_after_secs: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update scheduled_runs
            set finished_at = case when $3 then now() end,
                lease_until = now() + make_interval(secs => $4)
          where name = $1 and period_key = $2",
    )
    .bind(name)
    .bind(period_key)
    .bind(finished)
    .bind(retry_after_secs as f64)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets finished runs older than a week (interval runs add one per period).
pub async fn prune_runs(db: &PgPool, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "delete from scheduled_runs
          where name = $1 and finished_at < now() - interval '7 days'",
    )
    .bind(name)
    .execute(db)
    .await?;
    Ok(())
}
