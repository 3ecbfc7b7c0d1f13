//! Deleting an account: the user and everything that is only theirs.
//!
//! One transaction records the deletion in the audit log (an entry without a user, so it
//! outlives them) and deletes the user row; every table of theirs references `users` with
//! `on delete cascade`, so tracked lists, API keys, the GitHub integration (its encrypted
//! token, cursors and documents), projects with their repositories and commits, backup
//! registrations and their backup rows, and chart share links go with it. Shared data (a repository others track,
//! its events and daily stats) stays. After the commit the backup mirrors and archives
//! of the user's registrations are removed from disk.
//!
//! Tokens and keys stop at once on every replica: authentication checks that a JWT's
//! user still exists on every request, and a deleted key's row is gone.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::backups::Layout;
use crate::store::audit::{self, AuditEntry};

/// What a deletion removed, for the answer and the audit log.
#[derive(Debug, Clone, Default, Serialize, ToSchema, sqlx::FromRow)]
pub struct Removed {
    pub tracked_repositories: i64,
    pub tracked_accounts: i64,
    pub api_keys: i64,
    pub integrations: i64,
    pub documents: i64,
    pub projects: i64,
    pub commits: i64,
    pub backup_registrations: i64,
    pub backups: i64,
}

/// Deletes user `user_id` (who must exist) and what is only theirs; `Ok(None)` if the
/// user was already gone. Files are removed after the commit; a file that cannot be
/// removed is logged and does not undo the deletion.
pub async fn delete(
    db: &PgPool,
    backup_dir: &std::path::Path,
    user_id: i64,
    ip: Option<&str>,
) -> Result<Option<Removed>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let username: Option<String> =
        sqlx::query_scalar("select username from users where id = $1 for update")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(username) = username else {
        return Ok(None);
    };
    let removed: Removed = sqlx::query_as(
        "select
           (select count(*) from tracked_repositories where user_id = $1) as tracked_repositories,
           (select count(*) from tracked_accounts where user_id = $1) as tracked_accounts,
           (select count(*) from api_keys where user_id = $1) as api_keys,
           (select count(*) from github_integrations where user_id = $1) as integrations,
           (select count(*) from github_documents d join github_integrations i
              on i.id = d.integration_id where i.user_id = $1) as documents,
           (select count(*) from projects where user_id = $1) as projects,
           (select count(*) from repo_commits c join project_repos r on r.id = c.repo_id
              join projects p on p.id = r.project_id where p.user_id = $1) as commits,
           (select count(*) from backup_repositories where user_id = $1) as backup_registrations,
           (select count(*) from backups b join backup_repositories r
              on r.id = b.repository_id where r.user_id = $1) as backups",
    )
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    let files = backup_files(&mut tx, backup_dir, user_id).await?;

    let entry = AuditEntry {
        user_id: None,
        action: "account.deleted",
        target_type: Some("user"),
        target_id: Some(user_id.to_string()),
        details: json!({ "username": username, "removed": removed }),
        ip,
    };
    audit::record(&mut *tx, &entry).await?;
    sqlx::query("delete from users where id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    remove_files(files).await;
    tracing::info!(user_id, "deleted an account and everything only it had");
    Ok(Some(removed))
}

/// The mirrors and archives of the user's backup registrations.
async fn backup_files(
    tx: &mut sqlx::PgConnection,
    backup_dir: &std::path::Path,
    user_id: i64,
) -> Result<BackupFiles, sqlx::Error> {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select r.storage_dir, r.repository_name, b.zip_file_name
         from backup_repositories r left join backups b on b.repository_id = r.id
         where r.user_id = $1",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut files = BackupFiles::default();
    for (storage_dir, repository_name, zip) in rows {
        let layout = Layout::at(backup_dir, &storage_dir, &repository_name);
        let mirror = layout.mirror_dir();
        if !files.paths.contains(&mirror) {
            files.paths.push(mirror);
        }
        if let Some(zip) = zip {
            files.paths.push(layout.archive(&zip));
        }
        // The directories that held them, removed once empty (innermost first).
        let mut dir = layout.company_dir.clone();
        while dir.starts_with(backup_dir) && dir != backup_dir {
            if !files.dirs.contains(&dir) {
                files.dirs.push(dir.clone());
            }
            if !dir.pop() {
                break;
            }
        }
    }
    Ok(files)
}

#[derive(Default)]
struct BackupFiles {
    paths: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

async fn remove_files(files: BackupFiles) {
    for path in files.paths {
        let result = match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_dir() => tokio::fs::remove_dir_all(&path).await,
            Ok(_) => tokio::fs::remove_file(&path).await,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(error) = result {
            tracing::warn!(path = %path.display(), %error, "could not remove a deleted account's backup file");
        }
    }
    // Only empty directories go: another registration (of another user, in the layout
    // from before names were per user) may share a parent.
    let mut dirs = files.dirs;
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in dirs {
        let _ = tokio::fs::remove_dir(&dir).await;
    }
}
