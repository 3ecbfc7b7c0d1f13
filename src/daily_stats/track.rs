//! Tracking a GitHub account (`PUT /v1/users`): load every public repository of the
//! account (conditional requests per page), record today's statistics of the ones that
//! have none yet, and add the account to the user's list.

use chrono::Utc;

use super::{ScanError, record_counts};
use crate::github::users as gh;
use crate::state::AppState;
use crate::store::accounts::{self, Account};
use crate::store::daily_stats;

/// What tracking did.
pub struct Tracked {
    pub account: Account,
    /// Public repositories of the account.
    pub repositories: i64,
    /// Whether the user did not track the account before.
    pub created: bool,
}

/// Tracks `login` for `user_id`. A GitHub failure while recording today's statistics is
/// only logged (the daily scan fills them in); one while loading the account is returned.
pub async fn track(state: &AppState, user_id: i64, login: &str) -> Result<Tracked, ScanError> {
    let user = gh::user(&state.github, login).await?;
    let known_etags = accounts::repos_etags(&state.db, user.id).await?;
    let listed = gh::user_repos(&state.github, &user.login, &known_etags).await?;

    let account = accounts::upsert(&state.db, user.id, &user.login, user.name.as_deref()).await?;
    let repositories = if listed.any_changed {
        accounts::store_repositories(&state.db, account.id, &listed.changed, &listed.etags).await?
    } else {
        accounts::mark_refreshed(&state.db, account.id).await?;
        accounts::repository_count(&state.db, account.id).await?
    };
    let today = Utc::now().date_naive();
    let missing = daily_stats::account_targets_missing(&state.db, account.id, today).await?;
    match record_counts(state, missing, today).await {
        Ok(summary) if summary.rate_limited_until.is_some() || summary.failed > 0 => {
            tracing::warn!(login = %account.login, ?summary, "some of today's statistics are missing; the daily scan fills them in");
        }
        Ok(_) => {}
        Err(ScanError::Database(e)) => return Err(e.into()),
        Err(ScanError::GitHub(error)) => {
            tracing::warn!(login = %account.login, %error, "recording today's statistics failed; the daily scan fills them in");
        }
    }
    let created = accounts::track(&state.db, user_id, account.id).await?;
    tracing::info!(user_id, login = %account.login, repositories, created, "account tracked");
    Ok(Tracked {
        account,
        repositories,
        created,
    })
}
