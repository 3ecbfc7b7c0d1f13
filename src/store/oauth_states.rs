//! OAuth `state` values of pending "Sign in with GitHub" flows (stored as SHA-256 hashes).

use sqlx::PgPool;

/// Why a `state` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateProblem {
    Unknown,
    Used,
    Expired,
}

/// What a pending login remembers: the user it links (none for a sign-in) and where to send
/// the browser back to (none: answer JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Pending {
    pub user_id: Option<i64>,
    pub redirect_to: Option<String>,
}

/// Stores a new state valid for `ttl_secs`, remembering what the login needs afterwards.
/// Expired states are swept at the same time.
pub async fn create(
    db: &PgPool,
    state_hash: &[u8],
    pending: &Pending,
    ttl_secs: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from oauth_states where expires_at < now() - interval '1 day'")
        .execute(db)
        .await?;
    sqlx::query(
        "insert into oauth_states (state_hash, user_id, redirect_to, expires_at)
         values ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(state_hash)
    .bind(pending.user_id)
    .bind(pending.redirect_to.as_deref())
    .bind(ttl_secs as f64)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the state used and returns what the login remembered. Atomic: of two callbacks
/// with the same state, only one succeeds. A used or expired state still names its
/// `redirect_to`, so the front end hears why.
pub async fn consume(
    db: &PgPool,
    state_hash: &[u8],
) -> Result<Result<Pending, (StateProblem, Option<String>)>, sqlx::Error> {
    let claimed: Option<Pending> = sqlx::query_as(
        "update oauth_states set used_at = now()
         where state_hash = $1 and used_at is null and expires_at > now()
         returning user_id, redirect_to",
    )
    .bind(state_hash)
    .fetch_optional(db)
    .await?;
    if let Some(pending) = claimed {
        return Ok(Ok(pending));
    }
    let found: Option<(bool, Option<String>)> = sqlx::query_as(
        "select used_at is not null, redirect_to from oauth_states where state_hash = $1",
    )
    .bind(state_hash)
    .fetch_optional(db)
    .await?;
    Ok(Err(match found {
        None => (StateProblem::Unknown, None),
        Some((true, redirect_to)) => (StateProblem::Used, redirect_to),
        Some((false, redirect_to)) => (StateProblem::Expired, redirect_to),
    }))
}
