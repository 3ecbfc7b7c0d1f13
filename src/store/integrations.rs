//! GitHub integrations: the linked account, its encrypted token, the sync state and lease,
//! and the cursors of incremental syncs.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::data::COLLECTIONS;

/// How long a sync holds its lease without renewing it; renewed after every repository.
pub const LEASE_SECS: f64 = 300.0;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Integration {
    pub id: i64,
    pub user_id: i64,
    pub github_id: i64,
    pub github_login: String,
    pub profile: Value,
    pub token_ciphertext: Vec<u8>,
    pub scope: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub last_sync: Option<DateTime<Utc>>,
    pub sync_state: String,
    pub sync_started_at: Option<DateTime<Utc>>,
    pub sync_finished_at: Option<DateTime<Utc>>,
    pub sync_counts: Option<Value>,
    pub sync_progress: Option<Value>,
    pub sync_error: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    /// The running (or last) sync refetches everything and removes what GitHub no longer lists.
    pub sync_full: bool,
    /// When the background resync is due next (`None`: now).
    pub next_sync_at: Option<DateTime<Utc>>,
    /// When the last successful full pass finished.
    pub last_full_sync: Option<DateTime<Utc>>,
    /// Syncs failed in a row (the back-off).
    pub sync_failures: i32,
    /// GitHub refused the token: no background sync until the user signs in again.
    pub needs_reconnect: bool,
}

impl Integration {
    /// A sync holds a live lease.
    pub fn is_syncing(&self) -> bool {
        self.sync_state == "running" && self.lease_until.is_some_and(|until| until > Utc::now())
    }
}

const COLUMNS: &str = "id, user_id, github_id, github_login, profile, token_ciphertext, scope,
    connected_at, last_sync, sync_state, sync_started_at, sync_finished_at, sync_counts,
    sync_progress, sync_error, lease_until, sync_full, next_sync_at, last_full_sync,
    sync_failures, needs_reconnect";

/// What a new or renewed integration stores.
pub struct NewIntegration<'a> {
    pub user_id: i64,
    pub github_id: i64,
    pub github_login: &'a str,
    pub profile: &'a Value,
    pub token_ciphertext: &'a [u8],
    pub scope: Option<&'a str>,
}

/// Stores the user's integration, replacing its token and profile if it exists. An
/// integration of the same user with another GitHub account is removed with its documents.
pub async fn upsert(db: &PgPool, new: &NewIntegration<'_>) -> Result<Integration, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("delete from github_integrations where user_id = $1 and github_id <> $2")
        .bind(new.user_id)
        .bind(new.github_id)
        .execute(&mut *tx)
        .await?;
    let integration = sqlx::query_as(&format!(
        "insert into github_integrations
             (user_id, github_id, github_login, profile, token_ciphertext, scope)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (user_id) do update set
             github_login = excluded.github_login, profile = excluded.profile,
             token_ciphertext = excluded.token_ciphertext, scope = excluded.scope,
             needs_reconnect = false, sync_failures = 0, next_sync_at = null
         returning {COLUMNS}"
    ))
    .bind(new.user_id)
    .bind(new.github_id)
    .bind(new.github_login)
    .bind(new.profile)
    .bind(new.token_ciphertext)
    .bind(new.scope)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(integration)
}

pub async fn find_for_user(db: &PgPool, user_id: i64) -> Result<Option<Integration>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from github_integrations where user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(db)
    .await
}

pub async fn find(db: &PgPool, id: i64) -> Result<Option<Integration>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from github_integrations where id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Takes the sync lease of integration `id` unless another sync holds it.
pub async fn claim_sync(
    db: &PgPool,
    id: i64,
    full: bool,
) -> Result<Option<Integration>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update github_integrations set
             sync_state = 'running', sync_started_at = now(), sync_finished_at = null,
             sync_error = null, sync_counts = null, sync_progress = null, sync_full = $2,
             lease_until = now() + make_interval(secs => $3)
         where id = $1 and (lease_until is null or lease_until < now())
         returning {COLUMNS}"
    ))
    .bind(id)
    .bind(full)
    .bind(LEASE_SECS)
    .fetch_optional(db)
    .await
}

/// Records progress and renews the lease.
pub async fn report_progress(
    db: &PgPool,
    id: i64,
    counts: &Value,
    progress: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update github_integrations set sync_counts = $2, sync_progress = $3,
             lease_until = now() + make_interval(secs => $4)
         where id = $1 and sync_state = 'running'",
    )
    .bind(id)
    .bind(counts)
    .bind(progress)
    .bind(LEASE_SECS)
    .execute(db)
    .await?;
    Ok(())
}

/// How a sync ended, for [`finish_sync`].
#[derive(Debug, Default)]
pub struct Finish<'a> {
    /// Why it failed; `None`: it succeeded.
    pub error: Option<&'a str>,
    /// Seconds until the next background sync.
    pub next_in_secs: f64,
    /// The failure counts toward the back-off (an interrupted sync does not).
    pub count_failure: bool,
    /// GitHub refused the token: stop background syncs until the user reconnects.
    pub needs_reconnect: bool,
}

/// Ends the sync (`error` set when it failed), schedules the next one and releases the lease.
pub async fn finish_sync(
    db: &PgPool,
    id: i64,
    counts: &Value,
    finish: &Finish<'_>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "update github_integrations set
             sync_state = case when $3::text is null then 'finished' else 'failed' end,
             sync_finished_at = now(), sync_counts = $2, sync_error = $3, lease_until = null,
             last_sync = case when $3::text is null then now() else last_sync end,
             last_full_sync = case when $3::text is null and sync_full then now()
                                   else last_full_sync end,
             sync_failures = case when $3::text is null then 0
                                  when $5 then sync_failures + 1 else sync_failures end,
             needs_reconnect = $6,
             next_sync_at = now() + make_interval(secs => $4)
         where id = $1
         returning sync_finished_at",
    )
    .bind(id)
    .bind(counts)
    .bind(finish.error)
    .bind(finish.next_in_secs)
    .bind(finish.count_failure)
    .bind(finish.needs_reconnect)
    .fetch_optional(db)
    .await
}

/// Takes the sync lease of the integration whose background resync is most overdue (never
/// one that needs reconnecting, never one a sync holds). The sync is full when the last full
/// pass (or the connection) is older than `full_every_secs`.
pub async fn claim_due(
    db: &PgPool,
    full_every_secs: f64,
) -> Result<Option<Integration>, sqlx::Error> {
    sqlx::query_as(&format!(
        "with due as (
             select id from github_integrations
             where not needs_reconnect
               and coalesce(next_sync_at, '-infinity') <= now()
               and (lease_until is null or lease_until < now())
             order by next_sync_at nulls first
             limit 1
             for update skip locked)
         update github_integrations g set
             sync_state = 'running', sync_started_at = now(), sync_finished_at = null,
             sync_error = null, sync_counts = null, sync_progress = null,
             sync_full = coalesce(g.last_full_sync, g.connected_at)
                         <= now() - make_interval(secs => $1),
             lease_until = now() + make_interval(secs => $2)
         from due where g.id = due.id
         returning g.{COLUMNS}"
    ))
    .bind(full_every_secs)
    .bind(LEASE_SECS)
    .fetch_optional(db)
    .await
}

/// After a successful full pass: removes the integration's documents the pass did not write
/// (no longer on GitHub). Returns how many were removed per collection.
pub async fn remove_unseen(db: &PgPool, id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "with gone as (
             delete from github_documents d using github_integrations g
             where g.id = $1 and d.integration_id = g.id and d.synced_at < g.sync_started_at
             returning d.collection)
         select collection, count(*) from gone group by collection",
    )
    .bind(id)
    .fetch_all(db)
    .await
}

/// Removes the integration (its token) with every synced document and cursor. Returns the
/// number of documents removed per collection (only collections that had some), or `None`
/// if there was no integration.
pub async fn remove(db: &PgPool, id: i64) -> Result<Option<Vec<(String, i64)>>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let exists: Option<i64> =
        sqlx::query_scalar("select id from github_integrations where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let removed: Vec<(String, i64)> = sqlx::query_as(
        "with gone as (delete from github_documents where integration_id = $1 returning collection)
         select collection, count(*) from gone group by collection",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("delete from github_integrations where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut ordered: Vec<(String, i64)> = COLLECTIONS
        .iter()
        .filter_map(|c| removed.iter().find(|(name, _)| name == c).cloned())
        .collect();
    ordered.retain(|(_, n)| *n > 0);
    Ok(Some(ordered))
}

/// How many encrypted tokens are stored (one per integration).
pub async fn count_tokens(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from github_integrations")
        .fetch_one(conn)
        .await
}

/// Every stored token as (integration id, ciphertext), locked until the transaction ends.
pub async fn tokens_for_update(
    conn: &mut PgConnection,
) -> Result<Vec<(i64, Vec<u8>)>, sqlx::Error> {
    sqlx::query_as("select id, token_ciphertext from github_integrations order by id for update")
        .fetch_all(conn)
        .await
}

/// Replaces the tokens of integrations `ids` with `ciphertexts` (same order), in one statement.
pub async fn replace_tokens(
    conn: &mut PgConnection,
    ids: &[i64],
    ciphertexts: &[Vec<u8>],
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "update github_integrations g set token_ciphertext = t.ciphertext
         from unnest($1::bigint[], $2::bytea[]) as t (id, ciphertext)
         where g.id = t.id",
    )
    .bind(ids)
    .bind(ciphertexts)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The stored ETag and time cursor of one list.
pub async fn cursor(
    db: &PgPool,
    id: i64,
    list_key: &str,
) -> Result<(Option<String>, Option<DateTime<Utc>>), sqlx::Error> {
    let row: Option<(Option<String>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "select etag, cursor_at from github_sync_cursors where integration_id = $1 and list_key = $2",
    )
    .bind(id)
    .bind(list_key)
    .fetch_optional(db)
    .await?;
    Ok(row.unwrap_or((None, None)))
}

pub async fn save_cursor(
    db: &PgPool,
    id: i64,
    list_key: &str,
    etag: Option<&str>,
    cursor_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into github_sync_cursors (integration_id, list_key, etag, cursor_at)
         values ($1, $2, $3, $4)
         on conflict (integration_id, list_key) do update
             set etag = excluded.etag, cursor_at = excluded.cursor_at",
    )
    .bind(id)
    .bind(list_key)
    .bind(etag)
    .bind(cursor_at)
    .execute(db)
    .await?;
    Ok(())
}
