//! Registering a repository for backups: clone a mirror first (no database connection
//! is held while git talks to the network), then record the registration and its audit
//! entry and move the mirror into place in one short transaction.

use super::mirror::{clone_partial, git_permit, move_into_place};
use super::{Layout, storage_dir};
use crate::crypto::random_secret;
use crate::error::{AppError, AppResult, FieldError};
use crate::git::{self, Remote};
use crate::state::AppState;
use crate::store::audit::{self, AuditEntry};
use crate::store::backups::{self as store, NewRegistration, Registration};

/// A validated registration request.
pub struct NewBackup<'a> {
    pub repository_name: &'a str,
    pub repository_url: &'a str,
    pub org_name: &'a str,
    pub company_id: &'a str,
    pub data_type: &'a str,
    pub created_by: &'a str,
    pub remote: Remote,
}

/// Registers `input` for `user_id`: the registration and its webhook secret. 400 for a
/// duplicate (the user's own names), a refused address or a failed clone; 503 with
/// `Retry-After` while every git permit is taken.
pub async fn register(
    state: &AppState,
    user_id: i64,
    input: &NewBackup<'_>,
) -> AppResult<(Registration, String)> {
    let duplicate = || {
        AppError::bad_request(format!(
            "Repository '{}' is already registered for company '{}'",
            input.repository_name, input.company_id
        ))
    };
    if store::registration_exists(&state.db, user_id, input.company_id, input.repository_name)
        .await?
    {
        return Err(duplicate());
    }
    // No database connection is held while git talks to the network: clone first under
    // a scratch name (holding a git permit), then record the row and move the mirror into
    // place in one short transaction.
    // Resolve the host now, for a clear 400; git checks again right before it connects.
    if let Err(e) = input.remote.check_addresses().await {
        let message = match e {
            git::GitError::Refused(why) => format!("is refused: {why}"),
            other => other.to_string(),
        };
        return Err(AppError::invalid_fields(vec![FieldError {
            field: "repository_url".into(),
            message,
        }]));
    }
    let storage_dir = storage_dir(user_id, input.company_id);
    let layout = Layout::at(&state.paths.backups, &storage_dir, input.repository_name);
    let permit = git_permit(state).await?;
    let partial = clone_partial(&layout, &input.remote, state.config.git_timeout()).await?;
    drop(permit);
    let webhook_secret = random_secret();
    let mut tx = state.db.begin().await?;
    let new = NewRegistration {
        user_id,
        company_id: input.company_id,
        repository_name: input.repository_name,
        repository_url: input.repository_url,
        org_name: input.org_name,
        data_type: input.data_type,
        created_by: input.created_by,
        webhook_secret: &webhook_secret,
        storage_dir: &storage_dir,
    };
    // A concurrent registration of the same names waits here until this one commits,
    // then finds them taken (and its scratch clone is removed).
    let registration = store::insert_registration(&mut tx, &new)
        .await?
        .ok_or_else(duplicate)?;
    let entry = AuditEntry::new(
        user_id,
        "backup.registered",
        "backup_registration",
        registration.id,
    )
    .details(serde_json::json!({
        "company_id": registration.company_id,
        "repository_name": registration.repository_name,
    }));
    audit::record(&mut *tx, &entry).await?;
    let mirror = move_into_place(&layout, partial).await?;
    if let Err(e) = tx.commit().await {
        let _ = tokio::fs::remove_dir_all(mirror.path()).await;
        return Err(e.into());
    }
    mirror.keep();
    tracing::info!(
        registration_id = registration.id,
        company_id = %registration.company_id,
        repository = %registration.repository_name,
        "registered a repository for backups"
    );
    state
        .metrics
        .increment("gitpulse_backup_registrations_total", &[]);
    Ok((registration, webhook_secret))
}
