//! A backup registration's mirror: a scratch clone under a git permit, moved into place
//! once the registration is recorded; nothing is left on disk if anything fails.

use std::path::PathBuf;
use std::time::Duration;

use super::Layout;
use crate::error::{AppError, AppResult};
use crate::git::{self, Remote};
use crate::state::AppState;

/// How long a registration waits for a git permit before answering 503.
const PERMIT_WAIT: Duration = Duration::from_secs(2);
/// The `Retry-After` of that 503, in seconds.
const BUSY_RETRY_AFTER_SECS: u64 = 10;

/// A mirror directory that is removed when dropped unless kept, so a failed or
/// abandoned registration (the client hung up mid-clone) leaves nothing on disk.
pub(super) struct MirrorGuard {
    path: Option<PathBuf>,
}

impl MirrorGuard {
    pub(super) fn path(&self) -> &std::path::Path {
        self.path.as_deref().unwrap_or(std::path::Path::new(""))
    }

    pub(super) fn keep(mut self) {
        self.path = None;
    }
}

impl Drop for MirrorGuard {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// A permit of the global git limit (`GIT_MAX_CONCURRENCY`), waiting at most
/// [`PERMIT_WAIT`]: when they are all taken the registration answers 503 with
/// `Retry-After` instead of queueing.
pub(super) async fn git_permit(state: &AppState) -> AppResult<tokio::sync::OwnedSemaphorePermit> {
    let permits = state.git_permits.clone();
    match tokio::time::timeout(PERMIT_WAIT, permits.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(AppError::Unavailable("The server is shutting down".into())),
        Err(_) => {
            state
                .metrics
                .increment("gitpulse_backup_registrations_busy_total", &[]);
            Err(AppError::Busy {
                message: "Too many git operations are running; try again shortly".into(),
                retry_after_secs: BUSY_RETRY_AFTER_SECS,
            })
        }
    }
}

/// Clones a mirror under a scratch name next to where it will live. Nothing else owns
/// the scratch name; it is removed when the guard drops (a failure, or the client
/// hanging up mid-clone).
pub(super) async fn clone_partial(
    layout: &Layout,
    remote: &Remote,
    timeout: Duration,
) -> AppResult<MirrorGuard> {
    tokio::fs::create_dir_all(&layout.company_dir)
        .await
        .map_err(|e| AppError::internal(format!("cannot create the backup directory: {e}")))?;
    let partial = MirrorGuard {
        path: Some(layout.partial_mirror_dir()),
    };
    git::clone_mirror(remote, partial.path(), timeout)
        .await
        .map_err(|e| AppError::bad_request(format!("Could not clone the repository: {e}")))?;
    Ok(partial)
}

/// Moves a finished scratch clone to the mirror's path. The caller holds the
/// (uncommitted) registration row, so nobody else owns that path; anything found there
/// is a leftover of a crash and is replaced.
pub(super) async fn move_into_place(
    layout: &Layout,
    partial: MirrorGuard,
) -> AppResult<MirrorGuard> {
    let mirror = layout.mirror_dir();
    if tokio::fs::try_exists(&mirror).await.unwrap_or(false) {
        tracing::warn!(path = %mirror.display(), "replacing a leftover mirror directory");
        tokio::fs::remove_dir_all(&mirror)
            .await
            .map_err(|e| AppError::internal(format!("cannot remove a leftover mirror: {e}")))?;
    }
    tokio::fs::rename(partial.path(), &mirror)
        .await
        .map_err(|e| AppError::internal(format!("cannot move the mirror into place: {e}")))?;
    partial.keep();
    Ok(MirrorGuard { path: Some(mirror) })
}
