//! What of a commit batch is already stored, found before its transaction as cheaply as
//! the batch allows: the repository's last batch again (a retried request) by its digest; a
//! batch whose first commit is new by that one lookup; any other batch by one index probe
//! per commit.

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::commits::NewCommit;

/// What decides how a batch is stored, known from its first commit: whether that commit is
/// stored, and the digest of the repository's last batch.
#[derive(Debug, Clone)]
pub struct Gate {
    pub first_stored: bool,
    pub last_digest: Option<Vec<u8>>,
}

/// One small query for the [`Gate`] of a batch starting with `first_sha`.
pub async fn gate(db: &PgPool, repo_id: i64, first_sha: &str) -> Result<Gate, sqlx::Error> {
    let (first_stored, last_digest) = sqlx::query_as(
        "select exists (select 1 from repo_commits where repo_id = $1 and sha = $2),
                (select last_batch_digest from project_repos where id = $1)",
    )
    .bind(repo_id)
    .bind(first_sha)
    .fetch_one(db)
    .await?;
    Ok(Gate {
        first_stored,
        last_digest,
    })
}

/// The SHA-256 of the batch's shas in order: equal for the same batch sent again.
pub fn batch_digest(commits: &[NewCommit]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for c in commits {
        hasher.update(c.sha.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().to_vec()
}

/// Which of the batch's commits are already stored (parallel to `commits`), found without
/// a transaction. First one small query: is this the repository's last batch again (its
/// digest), and is the batch's first commit stored? The last batch again: all of it is
/// stored (its transaction stored every commit it did not find). First commit new: treated
/// as a new batch (if a concurrent batch stores some of it meanwhile, the `COPY` fails on
/// the unique key and the insert that skips stored commits takes over). Otherwise each sha
/// is looked up: one index probe per commit whatever the repository's size (a nested loop;
/// `limit 1` keeps the planner from scanning all of the repository's commits instead).
pub(super) async fn stored(
    db: &PgPool,
    repo_id: i64,
    commits: &[NewCommit],
    digest: &[u8],
    gate: Option<Gate>,
) -> Result<Vec<bool>, sqlx::Error> {
    let Some(first) = commits.first() else {
        return Ok(Vec::new());
    };
    let gate = match gate {
        Some(gate) => gate,
        None => self::gate(db, repo_id, &first.sha).await?,
    };
    if gate.first_stored && gate.last_digest.as_deref() == Some(digest) {
        return Ok(vec![true; commits.len()]);
    }
    let mut known = vec![false; commits.len()];
    if !gate.first_stored {
        return Ok(known);
    }
    let shas: Vec<&str> = commits.iter().map(|c| c.sha.as_str()).collect();
    let positions: Vec<i64> = sqlx::query_scalar(
        "select coalesce(array_agg(s.position), '{}')
         from unnest($2::text[]) with ordinality s(sha, position)
         cross join lateral (
             select 1 from repo_commits c where c.repo_id = $1 and c.sha = s.sha limit 1
         ) stored",
    )
    .bind(repo_id)
    .bind(&shas)
    .fetch_one(db)
    .await?;
    for position in positions {
        if let Some(flag) = usize::try_from(position - 1)
            .ok()
            .and_then(|i| known.get_mut(i))
        {
            *flag = true;
        }
    }
    Ok(known)
}
