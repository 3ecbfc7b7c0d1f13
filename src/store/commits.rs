//! Commits of project repositories, pushed by the client or pulled by the server. Both
//! paths store through [`ingest`] (or, for a new pushed batch, `commit_stream`): one
//! transaction, one bulk write (binary `COPY`), dedup by (repo, sha). What is already
//! stored is found before the transaction (`known_commits`); a concurrent batch storing
//! some of the same commits meanwhile is caught by the `COPY`'s unique violation.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgArguments;
use sqlx::{PgPool, Postgres, Transaction};

use crate::store::audit::{self, AuditEntry};
use crate::store::copy::BinaryCopy;
use crate::store::known_commits::{Gate, batch_digest, stored};

/// A validated commit, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCommit {
    /// 40 lowercase hex digits.
    pub sha: String,
    pub author_name: String,
    pub author_email: String,
    pub committer_name: String,
    pub committer_email: String,
    pub commit_date: DateTime<Utc>,
    pub message_title: String,
    pub message_body: Option<String>,
    pub additions: i64,
    pub deletions: i64,
    pub files_changed: i64,
    pub is_merge: bool,
    pub parent_count: i32,
}

/// What a batch did: which of its commits were new.
#[derive(Debug, Clone)]
pub struct IngestOutcome {
    /// Parallel to the input: whether each commit was inserted (false = already stored).
    pub inserted: Vec<bool>,
    pub inserted_count: usize,
    pub last_ingested_sha: Option<String>,
}

/// Stores `commits` (at most a few thousand, distinct shas) in one transaction and marks
/// the repository healthy, remembering the batch's last sha as `last_ingested_sha`.
/// `audit`, if given, is recorded in the same transaction with the counts added.
/// On a database error the repository is marked `error` and nothing is stored.
pub async fn ingest(
    db: &PgPool,
    repo_id: i64,
    commits: &[NewCommit],
    audit: Option<AuditEntry<'_>>,
) -> Result<IngestOutcome, sqlx::Error> {
    ingest_after(db, repo_id, commits, audit, None).await
}

/// [`ingest`], when the caller already asked [`known_commits::gate`](crate::store::known_commits::gate)
/// about the batch's first commit.
pub async fn ingest_after(
    db: &PgPool,
    repo_id: i64,
    commits: &[NewCommit],
    audit: Option<AuditEntry<'_>>,
    gate: Option<Gate>,
) -> Result<IngestOutcome, sqlx::Error> {
    marking_failure(
        db,
        repo_id,
        ingest_batch(db, repo_id, commits, audit, gate).await,
    )
    .await
}

/// `result`, after marking the repository `error` when it is a database error (nothing of
/// the batch was stored then).
pub(super) async fn marking_failure<T>(
    db: &PgPool,
    repo_id: i64,
    result: Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error> {
    if result.is_err() {
        let _ = mark_error(db, repo_id, "Storing commits failed (database error)").await;
    }
    result
}

async fn ingest_batch(
    db: &PgPool,
    repo_id: i64,
    commits: &[NewCommit],
    audit: Option<AuditEntry<'_>>,
    gate: Option<Gate>,
) -> Result<IngestOutcome, sqlx::Error> {
    let digest = batch_digest(commits);
    let known = stored(db, repo_id, commits, &digest, gate).await?;
    let fresh: Vec<&NewCommit> = commits
        .iter()
        .zip(&known)
        .filter(|(_, known)| !**known)
        .map(|(c, _)| c)
        .collect();
    let (tx, inserted) = if fresh.is_empty() {
        // Nothing to store (a resend): only the status and the audit entry change, and
        // no stored commit depends on them, so they need not wait for the WAL flush.
        let tx = db
            .begin_with("begin; set local synchronous_commit = off")
            .await?;
        (tx, vec![false; commits.len()])
    } else {
        let (tx, new) = write_fresh(db, repo_id, &fresh).await?;
        let inserted = match new {
            Written::All => known.iter().map(|known| !known).collect(),
            Written::Some(new) => commits
                .iter()
                .map(|c| new.contains(c.sha.as_str()))
                .collect(),
        };
        (tx, inserted)
    };
    record(tx, repo_id, commits, inserted, &digest, audit).await
}

/// Records the batch on its repository (see [`finish`]) in `tx`, which wrote its new
/// commits (`inserted`, parallel to `commits`), and commits.
pub(super) async fn record(
    tx: Transaction<'_, Postgres>,
    repo_id: i64,
    commits: &[NewCommit],
    inserted: Vec<bool>,
    digest: &[u8],
    audit: Option<AuditEntry<'_>>,
) -> Result<IngestOutcome, sqlx::Error> {
    let inserted_count = inserted.iter().filter(|i| **i).count();
    let last_ingested_sha = commits.last().map(|c| c.sha.clone());
    let batch = Batch {
        total: commits.len(),
        inserted: inserted_count,
        last_ingested_sha: last_ingested_sha.as_deref(),
        digest,
    };
    finish(tx, repo_id, batch, audit).await?;
    Ok(IngestOutcome {
        inserted_count,
        inserted,
        last_ingested_sha,
    })
}

/// What [`write_fresh`] stored of the commits it was given.
enum Written<'a> {
    /// All of them (the `COPY`).
    All,
    /// These shas (the fallback after a concurrent batch stored some first).
    Some(HashSet<&'a str>),
}

/// Opens the batch's transaction and writes `fresh` in it: one binary `COPY` (the fast
/// path), or, if a concurrent batch stored one of them first (a unique violation aborts
/// the copy), a new transaction with an insert that skips what is stored. Returns the
/// open transaction and what it stored.
async fn write_fresh<'a>(
    db: &PgPool,
    repo_id: i64,
    fresh: &[&'a NewCommit],
) -> Result<(Transaction<'static, Postgres>, Written<'a>), sqlx::Error> {
    let mut tx = db.begin().await?;
    match copy_new(&mut tx, repo_id, fresh).await {
        Ok(()) => return Ok((tx, Written::All)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => tx.rollback().await?,
        Err(e) => return Err(e),
    }
    let (tx, new) = insert_after_conflict(db, repo_id, fresh).await?;
    Ok((tx, Written::Some(new)))
}

/// After a `COPY` met commits a concurrent batch stored first (and was rolled back): a new
/// transaction inserting `fresh`, skipping what is stored. Returns it open, with the shas
/// it stored.
pub(super) async fn insert_after_conflict<'a>(
    db: &PgPool,
    repo_id: i64,
    fresh: &[&'a NewCommit],
) -> Result<(Transaction<'static, Postgres>, HashSet<&'a str>), sqlx::Error> {
    let mut tx = db.begin().await?;
    let stored: HashSet<String> = insert_new(&mut tx, repo_id, fresh)
        .await?
        .into_iter()
        .collect();
    let new = fresh
        .iter()
        .map(|c| c.sha.as_str())
        .filter(|s| stored.contains(*s))
        .collect();
    Ok((tx, new))
}

/// What a batch did, as recorded on its repository.
struct Batch<'a> {
    total: usize,
    inserted: usize,
    last_ingested_sha: Option<&'a str>,
    digest: &'a [u8],
}

/// Marks the repository healthy, remembers the batch (its last sha and digest), records
/// the audit entry and commits (durably when the transaction stored commits).
async fn finish(
    mut tx: Transaction<'_, Postgres>,
    repo_id: i64,
    batch: Batch<'_>,
    audit: Option<AuditEntry<'_>>,
) -> Result<(), sqlx::Error> {
    // The update and the audit entry go in one statement: one round trip.
    const UPDATE: &str = "update project_repos
         set sync_status = 'healthy', last_sync_at = now(), error_message = null,
             last_ingested_sha = coalesce($2, last_ingested_sha),
             total_commits = total_commits + $3, last_batch_digest = $4
         where id = $1";
    static WITH_AUDIT: LazyLock<String> =
        LazyLock::new(|| format!("with repo as ({UPDATE}) {}", audit::insert(5)));
    fn bind_update<'q>(
        query: sqlx::query::Query<'q, Postgres, PgArguments>,
        repo_id: i64,
        batch: &Batch<'_>,
    ) -> sqlx::query::Query<'q, Postgres, PgArguments> {
        query
            .bind(repo_id)
            .bind(batch.last_ingested_sha.map(str::to_string))
            .bind(batch.inserted as i64)
            .bind(batch.digest.to_vec())
    }
    match audit {
        Some(mut entry) => {
            if let serde_json::Value::Object(map) = &mut entry.details {
                map.insert("total".into(), batch.total.into());
                map.insert("inserted".into(), batch.inserted.into());
                map.insert("skipped".into(), (batch.total - batch.inserted).into());
            }
            audit::bind(
                bind_update(sqlx::query(WITH_AUDIT.as_str()), repo_id, &batch),
                &entry,
            )
            .execute(&mut *tx)
            .await?;
        }
        None => {
            bind_update(sqlx::query(UPDATE), repo_id, &batch)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await
}

const COMMIT_COLUMNS: i16 = 14;

/// The binary `COPY` of new commits into `repo_commits`.
pub(super) const COPY_COMMITS: &str = "copy repo_commits (repo_id, sha, author_name,
         author_email, committer_name, committer_email, commit_date, message_title,
         message_body, additions, deletions, files_changed, is_merge, parent_count)
     from stdin (format binary)";

/// Appends `c` as a row of [`COPY_COMMITS`].
pub(super) fn copy_row(rows: &mut BinaryCopy, repo_id: i64, c: &NewCommit) {
    rows.row(COMMIT_COLUMNS)
        .int8(repo_id)
        .text(&c.sha)
        .text(&c.author_name)
        .text(&c.author_email)
        .text(&c.committer_name)
        .text(&c.committer_email)
        .timestamptz(c.commit_date)
        .text(&c.message_title)
        .opt_text(c.message_body.as_deref())
        .int8(c.additions)
        .int8(c.deletions)
        .int8(c.files_changed)
        .bool(c.is_merge)
        .int4(c.parent_count);
}

/// Writes `commits` (none of them stored) with one binary `COPY`.
async fn copy_new(
    tx: &mut Transaction<'_, Postgres>,
    repo_id: i64,
    commits: &[&NewCommit],
) -> Result<(), sqlx::Error> {
    let mut rows = BinaryCopy::with_capacity(commits.len() * 400);
    for c in commits {
        copy_row(&mut rows, repo_id, c);
    }
    let mut copy = tx.copy_in_raw(COPY_COMMITS).await?;
    if let Err(e) = copy.send(rows.finish()).await {
        let _ = copy.abort("sending the rows failed").await;
        return Err(e);
    }
    copy.finish().await?;
    Ok(())
}

/// Inserts `commits` in one statement, skipping any stored meanwhile; returns the new shas.
async fn insert_new(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    repo_id: i64,
    commits: &[&NewCommit],
) -> Result<Vec<String>, sqlx::Error> {
    if commits.is_empty() {
        return Ok(Vec::new());
    }
    let column = |f: fn(&NewCommit) -> String| commits.iter().map(|c| f(c)).collect::<Vec<_>>();
    sqlx::query_scalar(
        "insert into repo_commits (repo_id, sha, author_name, author_email, committer_name,
             committer_email, commit_date, message_title, message_body, additions, deletions,
             files_changed, is_merge, parent_count)
         select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::timestamptz[], $8::text[], $9::text[], $10::int8[], $11::int8[], $12::int8[],
             $13::bool[], $14::int4[])
         on conflict (repo_id, sha) do nothing
         returning sha",
    )
    .bind(repo_id)
    .bind(column(|c| c.sha.clone()))
    .bind(column(|c| c.author_name.clone()))
    .bind(column(|c| c.author_email.clone()))
    .bind(column(|c| c.committer_name.clone()))
    .bind(column(|c| c.committer_email.clone()))
    .bind(commits.iter().map(|c| c.commit_date).collect::<Vec<_>>())
    .bind(column(|c| c.message_title.clone()))
    .bind(
        commits
            .iter()
            .map(|c| c.message_body.clone())
            .collect::<Vec<_>>(),
    )
    .bind(commits.iter().map(|c| c.additions).collect::<Vec<_>>())
    .bind(commits.iter().map(|c| c.deletions).collect::<Vec<_>>())
    .bind(commits.iter().map(|c| c.files_changed).collect::<Vec<_>>())
    .bind(commits.iter().map(|c| c.is_merge).collect::<Vec<_>>())
    .bind(commits.iter().map(|c| c.parent_count).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await
}

/// Shows `syncing` while a pull runs. The mark need not survive a crash, so it is
/// committed without waiting for the WAL flush.
pub async fn mark_syncing(db: &PgPool, repo_id: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("set local synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    sqlx::query("update project_repos set sync_status = 'syncing' where id = $1")
        .bind(repo_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Marks the repository's last sync as failed with a message safe to show its owner.
pub async fn mark_error(db: &PgPool, repo_id: i64, message: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update project_repos set sync_status = 'error', error_message = $2, last_sync_at = now()
         where id = $1",
    )
    .bind(repo_id)
    .bind(message)
    .execute(db)
    .await?;
    Ok(())
}
