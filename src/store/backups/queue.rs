//! The backup queue: one row per push delivery, claimed by workers with a lease on the
//! repository (see the module above).

use sqlx::{PgConnection, PgPool};

/// What a `push` payload says about the push: who pushed, and the files added, modified
/// and removed over all its commits (each listed once, in first-seen order). Read from
/// the payload by `backups::PushSummary::from_payload`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushSummary {
    pub pusher: Option<String>,
    pub added: Vec<String>,
    pub modified: Vec<String>,
    pub removed: Vec<String>,
}

/// What the webhook did with a push delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    New(i64),
    /// The delivery was seen before; this is its backup.
    Duplicate(i64),
}

/// Queues a backup for a push delivery, once per delivery id.
pub async fn enqueue(
    db: &PgPool,
    repository_id: i64,
    delivery_id: &str,
    zip_file_name: &str,
    summary: &PushSummary,
) -> Result<Enqueued, sqlx::Error> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "insert into backups
           (repository_id, delivery_id, zip_file_name, pusher, added_files, modified_files,
            removed_files)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (repository_id, delivery_id) do nothing
         returning id",
    )
    .bind(repository_id)
    .bind(delivery_id)
    .bind(zip_file_name)
    .bind(summary.pusher.as_deref())
    .bind(&summary.added)
    .bind(&summary.modified)
    .bind(&summary.removed)
    .fetch_optional(db)
    .await?;
    if let Some(id) = inserted {
        return Ok(Enqueued::New(id));
    }
    let existing =
        sqlx::query_scalar("select id from backups where repository_id = $1 and delivery_id = $2")
            .bind(repository_id)
            .bind(delivery_id)
            .fetch_one(db)
            .await?;
    Ok(Enqueued::Duplicate(existing))
}

/// A claimed backup with what the worker needs to run it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub repository_id: i64,
    pub zip_file_name: String,
    /// Including this one.
    pub attempts: i32,
    pub company_id: String,
    pub repository_name: String,
    pub repository_url: String,
    pub storage_dir: String,
}

/// Claims the oldest backup that is queued, or running under an expired lease (its
/// worker died), whose repository no live worker holds; leases the repository for
/// `lease_secs`.
pub async fn claim(db: &PgPool, lease_secs: f64) -> Result<Option<Job>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let candidate: Option<(i64, i64)> = sqlx::query_as(
        "select b.id, b.repository_id
         from backups b join backup_repositories r on r.id = b.repository_id
         where b.status in ('queued', 'running')
           and (r.lease_expires_at is null or r.lease_expires_at < now())
         order by b.id
         limit 1
         for update of b, r skip locked",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some((backup_id, repository_id)) = candidate else {
        return Ok(None);
    };
    sqlx::query(
        "update backup_repositories
         set lease_expires_at = now() + make_interval(secs => $2)
         where id = $1",
    )
    .bind(repository_id)
    .bind(lease_secs)
    .execute(&mut *tx)
    .await?;
    let job = sqlx::query_as(
        "with claimed as (
           update backups
           set status = 'running', attempts = attempts + 1, started_at = now(), error = null
           where id = $1
           returning id, repository_id, zip_file_name, attempts
         )
         select c.id, c.repository_id, c.zip_file_name, c.attempts,
                r.company_id, r.repository_name, r.repository_url, r.storage_dir
         from claimed c join backup_repositories r on r.id = c.repository_id",
    )
    .bind(backup_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(job))
}

/// Extends the worker's lease on a repository while a long backup runs.
pub async fn renew_lease(
    db: &PgPool,
    repository_id: i64,
    lease_secs: f64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update backup_repositories
         set lease_expires_at = now() + make_interval(secs => $2)
         where id = $1",
    )
    .bind(repository_id)
    .bind(lease_secs)
    .execute(db)
    .await
    .map(drop)
}

/// Records a finished archive, releases the lease, and marks all but the newest `keep`
/// finished backups of the repository `pruned`. Returns the archive names to delete.
pub async fn complete(
    db: &PgPool,
    job: &Job,
    size_bytes: i64,
    sha256: &str,
    keep: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "update backups
         set status = 'done', size_bytes = $2, sha256 = $3, error = null, finished_at = now()
         where id = $1",
    )
    .bind(job.id)
    .bind(size_bytes)
    .bind(sha256)
    .execute(&mut *tx)
    .await?;
    release_lease(&mut tx, job.repository_id).await?;
    let pruned = sqlx::query_scalar(
        "update backups set status = 'pruned'
         where id in (
           select id from backups
           where repository_id = $1 and status = 'done'
           order by id desc
           offset $2
         )
         returning zip_file_name",
    )
    .bind(job.repository_id)
    .bind(keep)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(pruned)
}

/// Records a failed backup with a message users see in the report.
pub async fn fail(db: &PgPool, job: &Job, error: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "update backups set status = 'failed', error = $2, finished_at = now() where id = $1",
    )
    .bind(job.id)
    .bind(error)
    .execute(&mut *tx)
    .await?;
    release_lease(&mut tx, job.repository_id).await?;
    tx.commit().await
}

/// Puts an interrupted backup back in the queue (shutdown): it does not count as an attempt.
pub async fn requeue(db: &PgPool, job: &Job) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "update backups set status = 'queued', attempts = greatest(attempts - 1, 0),
                started_at = null
         where id = $1",
    )
    .bind(job.id)
    .execute(&mut *tx)
    .await?;
    release_lease(&mut tx, job.repository_id).await?;
    tx.commit().await
}

async fn release_lease(conn: &mut PgConnection, repository_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("update backup_repositories set lease_expires_at = null where id = $1")
        .bind(repository_id)
        .execute(conn)
        .await
        .map(drop)
}
