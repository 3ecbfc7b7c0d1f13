//! OAuth `state` values of pending "Sign in with GitHub" flows (stored as SHA-256 hashes).

use sqlx::PgPool;

/// Why a `state` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateProblem {
    Unknown,
    Used,
    Expired,
}

/// Stores a new state valid for `ttl_secs`, remembering `user_id` if the flow links an account.
/// Expired states are swept at the same time.
pub async fn create(
    db: &PgPool,
    state_hash: &[u8],
    user_id: Option<i64>,
    ttl_secs: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from oauth_states where expires_at < now() - interval '1 day'")
        .execute(db)
        .await?;
    sqlx::query(
        "insert into oauth_states (state_hash, user_id, expires_at)
         values ($1, $2, now() + make_interval(secs => $3))",
    )
    .bind(state_hash)
    .bind(user_id)
    .bind(ttl_secs as f64)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the state used and returns the remembered user (`Ok(Ok(None))` for a sign-in).
/// Atomic: of two callbacks with the same state, only one succeeds.
pub async fn consume(
    db: &PgPool,
    state_hash: &[u8],
) -> Result<Result<Option<i64>, StateProblem>, sqlx::Error> {
    let claimed: Option<(Option<i64>,)> = sqlx::query_as(
        "update oauth_states set used_at = now()
         where state_hash = $1 and used_at is null and expires_at > now()
         returning user_id",
    )
    .bind(state_hash)
    .fetch_optional(db)
    .await?;
    if let Some((user_id,)) = claimed {
        return Ok(Ok(user_id));
    }
    let found: Option<(bool,)> =
        sqlx::query_as("select used_at is not null from oauth_states where state_hash = $1")
            .bind(state_hash)
            .fetch_optional(db)
            .await?;
    Ok(Err(match found {
        None => StateProblem::Unknown,
        Some((true,)) => StateProblem::Used,
        Some((false,)) => StateProblem::Expired,
    }))
}
