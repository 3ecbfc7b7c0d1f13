//! The pull sync's claims on `pull` project repositories. A claim is a lease:
//! `claim_due` marks rows with `pull_lease_until` inside a `FOR UPDATE SKIP LOCKED`
//! selection, so replicas never fetch the same repository at once, and a replica that
//! dies mid-fetch frees its repositories when the lease expires.

use sqlx::PgPool;

/// How long a claim holds; a replica that dies mid-fetch frees its repositories after it.
const LEASE: &str = "15 minutes";

#[derive(Debug, sqlx::FromRow)]
pub struct PullTarget {
    pub id: i64,
    pub user_id: i64,
    pub remote_url: Option<String>,
    pub last_ingested_sha: Option<String>,
}

/// Leases up to `limit` due `pull` repositories, those never pulled first, and marks
/// them `syncing`.
pub async fn claim_due(db: &PgPool, limit: i64) -> Result<Vec<PullTarget>, sqlx::Error> {
    sqlx::query_as(&format!(
        "with due as (
             select id from project_repos
             where sync_method = 'pull'
               and coalesce(next_pull_at, '-infinity') <= now()
               and coalesce(pull_lease_until, '-infinity') < now()
             order by next_pull_at nulls first
             limit $1
             for update skip locked)
         update project_repos r
         set pull_lease_until = now() + interval '{LEASE}', sync_status = 'syncing'
         from due, projects p
         where r.id = due.id and p.id = r.project_id
         returning r.id, p.user_id, r.remote_url, r.last_ingested_sha"
    ))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Releases the lease and schedules the next pull `interval_secs` from now.
pub async fn finish(db: &PgPool, id: i64, interval_secs: u64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update project_repos
         set pull_lease_until = null, next_pull_at = now() + make_interval(secs => $2)
         where id = $1",
    )
    .bind(id)
    .bind(interval_secs as f64)
    .execute(db)
    .await?;
    Ok(())
}

/// Releases the lease without syncing (shutdown came first): the repository stays due.
pub async fn release(db: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("update project_repos set pull_lease_until = null where id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
