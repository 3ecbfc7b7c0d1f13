//! Process-wide settings kept in the database so every replica sees the same value.

use sqlx::PgPool;

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
