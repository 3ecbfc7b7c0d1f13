//! A new batch of pushed commits written while its request body is still being read
//! (`commit_batch::read_push_body`): the rows go into one binary `COPY` part by part, so
//! PostgreSQL writes the first commits while the server parses and validates the rest.
//! All or nothing as in [`commits::ingest`]: the transaction commits only after the whole
//! batch was found valid, and a refused batch aborts the `COPY` (nothing is stored).

use std::collections::HashSet;
use std::future::Future;

use sqlx::PgPool;
use tokio::sync::mpsc;

use super::audit::AuditEntry;
use super::commits::{self, Batch, COPY_COMMITS, IngestOutcome, NewCommit, copy_row, insert_new};
use super::copy::BinaryCopy;
use super::known_commits::batch_digest;

/// Rows are sent to PostgreSQL in parts of about this many bytes.
const PART_BYTES: usize = 32 * 1024;

/// A batch whose first commit is new: `first`, then the rest as the reader hands them on
/// (`Some(commits)`; `None` when the batch turned out invalid). `verdict` is awaited once the
/// reader is done: the audit entry to record, or the refusal to answer (then nothing is
/// stored). Returns the batch's commits with what was stored, or the refusal.
/// On a database error the repository is marked `error` and nothing is stored.
pub async fn ingest_streamed<'a, E>(
    db: &PgPool,
    repo_id: i64,
    first: Vec<NewCommit>,
    rest: &mut mpsc::Receiver<Option<Vec<NewCommit>>>,
    verdict: impl Future<Output = Result<Option<AuditEntry<'a>>, E>>,
) -> Result<Result<(Vec<NewCommit>, IngestOutcome), E>, sqlx::Error> {
    match write(db, repo_id, first, rest, verdict).await {
        Ok(done) => Ok(done),
        Err(e) => {
            let _ =
                commits::mark_error(db, repo_id, "Storing commits failed (database error)").await;
            Err(e)
        }
    }
}

async fn write<'a, E>(
    db: &PgPool,
    repo_id: i64,
    first: Vec<NewCommit>,
    rest: &mut mpsc::Receiver<Option<Vec<NewCommit>>>,
    verdict: impl Future<Output = Result<Option<AuditEntry<'a>>, E>>,
) -> Result<Result<(Vec<NewCommit>, IngestOutcome), E>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut batch = first;
    let (copied, audit) = {
        let mut copy = tx.copy_in_raw(COPY_COMMITS).await?;
        let mut rows = BinaryCopy::with_capacity(PART_BYTES + 4096);
        for commit in &batch {
            copy_row(&mut rows, repo_id, commit);
        }
        let mut refused = false;
        while let Some(next) = rest.recv().await {
            let Some(part) = next else {
                refused = true;
                break;
            };
            for commit in &part {
                copy_row(&mut rows, repo_id, commit);
            }
            batch.extend(part);
            if rows.len() >= PART_BYTES
                && let Err(e) = copy.send(rows.take()).await
            {
                let _ = copy.abort("sending the rows failed").await;
                return Err(e);
            }
        }
        let audit = match verdict.await {
            Ok(audit) if !refused => audit,
            Ok(_) => {
                let _ = copy.abort("the batch was refused").await;
                return Err(sqlx::Error::Protocol(
                    "a refused batch was found valid".into(),
                ));
            }
            Err(refusal) => {
                // Dropping the transaction rolls it back: nothing of the batch is stored.
                let _ = copy.abort("the batch was refused").await;
                return Ok(Err(refusal));
            }
        };
        let sent = copy.send(rows.finish()).await.map(|_| ());
        let copied = match sent {
            Ok(()) => copy.finish().await.map(|_| ()),
            Err(e) => {
                let _ = copy.abort("sending the rows failed").await;
                Err(e)
            }
        };
        (copied, audit)
    };
    let (tx, inserted) = match copied {
        Ok(()) => (tx, vec![true; batch.len()]),
        // A concurrent batch stored some of these commits first: the insert that skips
        // stored commits takes over, in a new transaction.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            tx.rollback().await?;
            let mut tx = db.begin().await?;
            let fresh: Vec<&NewCommit> = batch.iter().collect();
            let stored: HashSet<String> = insert_new(&mut tx, repo_id, &fresh)
                .await?
                .into_iter()
                .collect();
            let inserted = batch.iter().map(|c| stored.contains(&c.sha)).collect();
            (tx, inserted)
        }
        Err(e) => return Err(e),
    };
    let inserted_count = inserted.iter().filter(|i| **i).count();
    let last_ingested_sha = batch.last().map(|c| c.sha.clone());
    let digest = batch_digest(&batch);
    let recorded = Batch {
        total: batch.len(),
        inserted: inserted_count,
        last_ingested_sha: last_ingested_sha.as_deref(),
        digest: &digest,
    };
    commits::finish(tx, repo_id, recorded, audit).await?;
    let outcome = IngestOutcome {
        inserted,
        inserted_count,
        last_ingested_sha,
    };
    Ok(Ok((batch, outcome)))
}
