//! Backup registrations and the backup queue.
//!
//! A backup row moves `queued` → `running` → `done` (or `failed`), and later to `pruned`
//! when retention removes its archive. Workers claim rows with `FOR UPDATE SKIP LOCKED`
//! and hold a lease on the repository while they work, so replicas never run the same
//! backup (or two backups of one mirror) at once, and a crashed worker's job is claimed
//! again when its lease expires.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

mod queue;

pub use queue::{Enqueued, Job, PushSummary, claim, complete, enqueue, fail, renew_lease, requeue};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Registration {
    pub id: i64,
    pub user_id: i64,
    pub company_id: String,
    pub repository_name: String,
    pub repository_url: String,
    pub org_name: String,
    pub data_type: String,
    pub created_by: String,
    pub webhook_secret: String,
    /// The directory of its mirror and archives, relative to `BACKUP_DIR`.
    pub storage_dir: String,
    pub created_at: DateTime<Utc>,
}

pub struct NewRegistration<'a> {
    pub user_id: i64,
    pub company_id: &'a str,
    pub repository_name: &'a str,
    pub repository_url: &'a str,
    pub org_name: &'a str,
    pub data_type: &'a str,
    pub created_by: &'a str,
    pub webhook_secret: &'a str,
    pub storage_dir: &'a str,
}

const REGISTRATION_COLUMNS: &str = "id, user_id, company_id, repository_name, repository_url, \
     org_name, data_type, created_by, webhook_secret, storage_dir, created_at";

/// Whether the user already registered the company/repository pair (case-insensitively).
/// Other users' registrations are invisible.
pub async fn registration_exists(
    db: &PgPool,
    user_id: i64,
    company_id: &str,
    repository_name: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from backup_repositories
         where user_id = $3 and lower(company_id) = lower($1)
           and lower(repository_name) = lower($2))",
    )
    .bind(company_id)
    .bind(repository_name)
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// Inserts a registration inside the caller's transaction; `Ok(None)` when the user
/// has the pair already. A concurrent registration of the same pair by the same user
/// waits here until this one commits.
pub async fn insert_registration(
    conn: &mut PgConnection,
    new: &NewRegistration<'_>,
) -> Result<Option<Registration>, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into backup_repositories
           (user_id, company_id, repository_name, repository_url, org_name, data_type,
            created_by, webhook_secret, storage_dir)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict do nothing
         returning {REGISTRATION_COLUMNS}"
    ))
    .bind(new.user_id)
    .bind(new.company_id)
    .bind(new.repository_name)
    .bind(new.repository_url)
    .bind(new.org_name)
    .bind(new.data_type)
    .bind(new.created_by)
    .bind(new.webhook_secret)
    .bind(new.storage_dir)
    .fetch_optional(conn)
    .await
}

/// The registrations a webhook URL names (exact spelling), of any user: the webhook
/// picks the one whose secret signed the delivery.
pub async fn find_registrations(
    db: &PgPool,
    company_id: &str,
    repository_name: &str,
) -> Result<Vec<Registration>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {REGISTRATION_COLUMNS} from backup_repositories
         where company_id = $1 and repository_name = $2 order by id"
    ))
    .bind(company_id)
    .bind(repository_name)
    .fetch_all(db)
    .await
}

/// Replaces the webhook secret of the caller's registration; `Ok(None)` if not theirs.
pub async fn rotate_secret(
    db: &PgPool,
    user_id: i64,
    company_id: &str,
    repository_name: &str,
    webhook_secret: &str,
) -> Result<Option<Registration>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update backup_repositories set webhook_secret = $4
         where user_id = $1 and company_id = $2 and repository_name = $3
         returning {REGISTRATION_COLUMNS}"
    ))
    .bind(user_id)
    .bind(company_id)
    .bind(repository_name)
    .bind(webhook_secret)
    .fetch_optional(db)
    .await
}

/// The caller's registrations under `company_id`, oldest first.
pub async fn list_registrations(
    db: &PgPool,
    user_id: i64,
    company_id: &str,
) -> Result<Vec<Registration>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {REGISTRATION_COLUMNS} from backup_repositories
         where user_id = $1 and company_id = $2 order by id"
    ))
    .bind(user_id)
    .bind(company_id)
    .fetch_all(db)
    .await
}

/// One line of the backup report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BackupReport {
    pub id: i64,
    pub status: String,
    pub company_id: String,
    pub repository_id: i64,
    pub repository_name: String,
    pub zip_file_name: String,
    pub delivery_id: String,
    /// When the archive was written, else when the push arrived.
    pub at: DateTime<Utc>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub pusher: Option<String>,
    pub added_files: Vec<String>,
    pub modified_files: Vec<String>,
    pub removed_files: Vec<String>,
    pub error: Option<String>,
}

/// The caller's backups under `company_id`, newest first.
pub async fn list_backups(
    db: &PgPool,
    user_id: i64,
    company_id: &str,
) -> Result<Vec<BackupReport>, sqlx::Error> {
    sqlx::query_as(
        "select b.id, b.status, r.company_id, r.id as repository_id, r.repository_name,
                b.zip_file_name, b.delivery_id, coalesce(b.finished_at, b.created_at) as at,
                b.size_bytes, b.sha256, b.pusher, b.added_files, b.modified_files,
                b.removed_files, b.error
         from backups b join backup_repositories r on r.id = b.repository_id
         where r.user_id = $1 and r.company_id = $2
         order by b.id desc",
    )
    .bind(user_id)
    .bind(company_id)
    .fetch_all(db)
    .await
}

/// A finished archive of the caller's: (storage_dir, repository_name, zip_file_name).
pub async fn find_archive(
    db: &PgPool,
    user_id: i64,
    backup_id: i64,
) -> Result<Option<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select r.storage_dir, r.repository_name, b.zip_file_name
         from backups b join backup_repositories r on r.id = b.repository_id
         where b.id = $1 and r.user_id = $2 and b.status = 'done'",
    )
    .bind(backup_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}
