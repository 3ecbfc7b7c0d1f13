//! Repository backups (seed 002): registering a repository (a mirror clone), GitHub's
//! push webhook that queues a backup, the reports, and archive downloads.
//!
//! The webhook is in [`webhook_router`], mounted outside the per-user rate limits because
//! GitHub, not a user, calls it; everything else is in [`router`] and needs a JWT.

mod registration;
mod reports;
mod webhook;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(registration::register_repository))
        .routes(routes!(registration::register_repository_no_slash))
        .routes(routes!(registration::rotate_webhook_secret))
        .routes(routes!(reports::repository_reports))
        .routes(routes!(reports::repository_reports_no_slash))
        .routes(routes!(reports::repository_reports_seed_spelling))
        .routes(routes!(reports::repository_reports_seed_spelling_no_slash))
        .routes(routes!(reports::backup_reports))
        .routes(routes!(reports::backup_reports_no_slash))
        .routes(routes!(reports::download_archive))
}

/// GitHub's webhook: not rate limited per user (GitHub calls it from shared addresses).
pub fn webhook_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webhook::webhook))
        .routes(routes!(webhook::webhook_no_slash))
}
