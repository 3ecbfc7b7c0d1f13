//! Commits of project repositories, pushed by the client or pulled by the server. Both
//! paths store through [`ingest`]: one transaction, one bulk insert, dedup by (repo, sha).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::store::audit::{self, AuditEntry};

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
    // Show `syncing` while the batch runs. The mark need not survive a crash, so it is
    // committed without waiting for the WAL flush (the batch itself is durable).
    let mut mark = db.begin().await?;
    sqlx::query("set local synchronous_commit = off")
        .execute(&mut *mark)
        .await?;
    sqlx::query("update project_repos set sync_status = 'syncing' where id = $1")
        .bind(repo_id)
        .execute(&mut *mark)
        .await?;
    mark.commit().await?;
    match ingest_batch(db, repo_id, commits, audit).await {
        Ok(outcome) => Ok(outcome),
        Err(e) => {
            let _ = mark_error(db, repo_id, "Storing commits failed (database error)").await;
            Err(e)
        }
    }
}

async fn ingest_batch(
    db: &PgPool,
    repo_id: i64,
    commits: &[NewCommit],
    audit: Option<AuditEntry<'_>>,
) -> Result<IngestOutcome, sqlx::Error> {
    let shas: Vec<String> = commits.iter().map(|c| c.sha.clone()).collect();
    let mut tx = db.begin().await?;
    // A resend (a retried request, a resumed sync) holds commits we have: if the batch's
    // first commit is stored, find all stored ones with index probes and send only the
    // rest. `on conflict do nothing` below stays the guarantee either way.
    let known: HashSet<String> = if is_stored(&mut tx, repo_id, shas.first()).await? {
        sqlx::query_scalar("select sha from repo_commits where repo_id = $1 and sha = any($2)")
            .bind(repo_id)
            .bind(&shas)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect()
    } else {
        HashSet::new()
    };
    let fresh: Vec<&NewCommit> = commits.iter().filter(|c| !known.contains(&c.sha)).collect();
    let new_shas = insert_new(&mut tx, repo_id, &fresh).await?;

    let new: HashSet<&str> = new_shas.iter().map(String::as_str).collect();
    let inserted: Vec<bool> = shas.iter().map(|s| new.contains(s.as_str())).collect();
    let last_ingested_sha = shas.last().cloned();
    sqlx::query(
        "update project_repos
         set sync_status = 'healthy', last_sync_at = now(), error_message = null,
             last_ingested_sha = coalesce($2, last_ingested_sha),
             total_commits = total_commits + $3
         where id = $1",
    )
    .bind(repo_id)
    .bind(&last_ingested_sha)
    .bind(new.len() as i64)
    .execute(&mut *tx)
    .await?;
    if let Some(mut entry) = audit {
        if let serde_json::Value::Object(map) = &mut entry.details {
            map.insert("total".into(), commits.len().into());
            map.insert("inserted".into(), new.len().into());
            map.insert("skipped".into(), (commits.len() - new.len()).into());
        }
        audit::record(&mut *tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(IngestOutcome {
        inserted_count: new.len(),
        inserted,
        last_ingested_sha,
    })
}

/// Whether `sha` (if any) is already stored for the repository.
async fn is_stored(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    repo_id: i64,
    sha: Option<&String>,
) -> Result<bool, sqlx::Error> {
    let Some(sha) = sha else {
        return Ok(false);
    };
    sqlx::query_scalar("select exists (select 1 from repo_commits where repo_id = $1 and sha = $2)")
        .bind(repo_id)
        .bind(sha)
        .fetch_one(&mut **tx)
        .await
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
