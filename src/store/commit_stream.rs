//! A new batch of pushed commits written while its request body is still being read
//! (`commit_batch::read_push_body`): the rows go into one binary `COPY` part by part, so
//! PostgreSQL writes the first commits while the server parses and validates the rest.
//! All or nothing as in [`commits::ingest`]: the transaction commits only after the whole
//! batch was found valid, and a refused batch aborts the `COPY` (nothing is stored).

use std::future::Future;

use sqlx::PgPool;
use tokio::sync::mpsc;

use super::audit::AuditEntry;
use super::commits::{self, COPY_COMMITS, IngestOutcome, NewCommit, copy_row};
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
    commits::marking_failure(db, repo_id, write(db, repo_id, first, rest, verdict).await).await
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
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            tx.rollback().await?;
            let fresh: Vec<&NewCommit> = batch.iter().collect();
            let (tx, new) = commits::insert_after_conflict(db, repo_id, &fresh).await?;
            let inserted = batch.iter().map(|c| new.contains(c.sha.as_str())).collect();
            (tx, inserted)
        }
        Err(e) => return Err(e),
    };
    let digest = batch_digest(&batch);
    let outcome = commits::record(tx, repo_id, &batch, inserted, &digest, audit).await?;
    Ok(Ok((batch, outcome)))
}
