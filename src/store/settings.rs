//! Process-wide settings kept in the database so every replica sees the same value.

use sqlx::{PgConnection, PgPool};

/// Returns the stored value of `key`, storing `make()` first if there is none.
/// Concurrent callers all end up with the value of whichever insert won.
pub async fn get_or_create(
    db: &PgPool,
    key: &str,
    make: impl FnOnce() -> String,
) -> Result<String, sqlx::Error> {
    sqlx::query(
        "insert into app_settings (key, value) values ($1, $2) on conflict (key) do nothing",
    )
    .bind(key)
    .bind(make())
    .execute(db)
    .await?;
    sqlx::query_scalar("select value from app_settings where key = $1")
        .bind(key)
        .fetch_one(db)
        .await
}

/// The stored value of `key`, if any.
pub async fn get(conn: &mut PgConnection, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select value from app_settings where key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// Stores `value` as `key`, replacing any value.
pub async fn put(conn: &mut PgConnection, key: &str, value: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into app_settings (key, value) values ($1, $2)
         on conflict (key) do update set value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(conn)
    .await?;
    Ok(())
}

/// The advisory lock that serialises every check and change of the token encryption key
/// (each start, `gitpulse rotate-key`) across processes.
const TOKEN_KEY_LOCK: i64 = 0x6769_7470_6b65_7901;

/// Takes the token key lock until the transaction `conn` is in ends.
pub async fn lock_token_key_for_transaction(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(TOKEN_KEY_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes the token key lock until `unlock_token_key` (or the connection closes).
pub async fn lock_token_key(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_lock($1)")
        .bind(TOKEN_KEY_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn unlock_token_key(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(TOKEN_KEY_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}
