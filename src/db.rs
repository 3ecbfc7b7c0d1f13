//! The PostgreSQL pool: created on start (with the database itself when it is missing)
//! and migrated with the migrations embedded from `migrations/`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::config::redact_url;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// SQLSTATE for "database does not exist".
const INVALID_CATALOG_NAME: &str = "3D000";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL: {0}")]
    InvalidUrl(String),
    #[error("cannot reach the database at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("cannot create the database {name}: {reason}")]
    Create { name: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
}

/// Connects to `url`, creating the database first if the server says it does not exist.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| DbError::InvalidUrl(e.to_string()))?
        .log_statements(tracing::log::LevelFilter::Debug)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
    let unreachable = |e: sqlx::Error| DbError::Unreachable {
        url: redact_url(url),
        reason: one_line(&e),
    };
    match tokio::time::timeout(
        Duration::from_secs(10),
        PgConnection::connect_with(&options),
    )
    .await
    {
        Err(_) => {
            return Err(DbError::Unreachable {
                url: redact_url(url),
                reason: "timed out after 10 seconds".into(),
            });
        }
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
        Ok(Err(e)) if is_missing_database(&e) => create_database(&options).await?,
        Ok(Err(e)) => return Err(unreachable(e)),
    }
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(unreachable)
}

pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| DbError::Migrate(e.to_string()))
}

fn is_missing_database(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == INVALID_CATALOG_NAME)
}

async fn create_database(options: &PgConnectOptions) -> Result<(), DbError> {
    let name = options.get_database().unwrap_or("gitpulse").to_string();
    let fail = |e: sqlx::Error| DbError::Create {
        name: name.clone(),
        reason: one_line(&e),
    };
    let mut admin = PgConnection::connect_with(&options.clone().database("postgres"))
        .await
        .map_err(fail)?;
    let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
    match sqlx::query(&sql).execute(&mut admin).await {
        Ok(_) => tracing::info!(database = %name, "created the database"),
        // Another replica created it in the meantime.
        Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("42P04") => {}
        Err(e) => return Err(fail(e)),
    }
    let _ = admin.close().await;
    Ok(())
}

fn one_line(error: &sqlx::Error) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
