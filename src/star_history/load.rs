//! Loading one repository's star history: which pages to ask for and what days they give.
//!
//! A first load (or one after `unavailable`) walks every page. A refresh asks page 1 with
//! its ETag: a 304 ends it; otherwise it walks back until the pages reach the newest whole
//! day already backfilled and that day's count still agrees (an unstar of an older star
//! changes it: then it walks to the end and rewrites every day).

use std::future::Future;

use chrono::{NaiveDate, Utc};

use super::series::{count_on, cumulative, daily_gains, oldest_day};
use super::{CALL_DEADLINE, LEASE_SECS};
use crate::github::GitHubError;
use crate::github::repos;
use crate::github::star_history::{self as gh, MAX_PAGES};
use crate::state::AppState;
use crate::store::star_history::{self as store, StarHistoryTarget};

pub(super) enum Loaded {
    /// Page 1 answered 304.
    NotModified,
    History(History),
}

/// The days to store and the state they leave the repository in.
pub(super) struct History {
    pub state: &'static str,
    pub etag: Option<String>,
    /// The first day of the whole history; `None` for a refresh that stopped early.
    pub since: Option<NaiveDate>,
    pub days: Vec<(NaiveDate, i64)>,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum LoadError {
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error("GitHub did not answer within {} seconds", CALL_DEADLINE.as_secs())]
    Deadline,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Shutdown came part-way through the pages: the next start loads it again.
    #[error("interrupted by shutdown")]
    Interrupted,
}

/// Where the walk through the pages ended.
enum End {
    /// No further page: the history reaches the repository's first star.
    Complete,
    /// GitHub's last page still links further.
    Truncated,
    /// A refresh reached days already stored, which still agree.
    Overlap,
}

pub(super) async fn load(
    state: &AppState,
    target: &StarHistoryTarget,
) -> Result<Loaded, LoadError> {
    let (client, owner, name) = (&state.github, &target.owner, &target.name);
    let refresh = matches!(target.state.as_str(), "complete" | "truncated");
    let mut known = match refresh {
        true => store::newest_whole_day(&state.db, target.id).await?,
        false => None,
    };
    let etag = target.etag.as_deref().filter(|_| refresh);
    let first = within(gh::stargazer_history(client, owner, name, etag)).await?;
    if first.not_modified {
        return Ok(Loaded::NotModified);
    }
    let count = within(repos::star_count(client, owner, name)).await?;
    let today = Utc::now().date_naive();
    let (etag, mut next, mut weeks) = (first.etag, first.next, first.items);
    let mut pages = 1;
    let end = loop {
        if let Some(day) = known
            && oldest_day(&weeks).is_some_and(|oldest| oldest <= day.date)
        {
            if count_on(&daily_gains(&weeks), count.stargazers, day.date) == day.stargazers {
                break End::Overlap;
            }
            tracing::info!(repository = %format!("{owner}/{name}"), date = %day.date, "older stars changed; reloading the whole star history");
            known = None;
        }
        let Some(page) = next.take() else {
            break End::Complete;
        };
        if pages >= MAX_PAGES {
            break End::Truncated;
        }
        if state.shutdown.is_cancelled() {
            return Err(LoadError::Interrupted);
        }
        let more = within(gh::next_stargazer_history(client, &page)).await?;
        pages += 1;
        store::renew(&state.db, target.id, LEASE_SECS).await?;
        weeks.extend(more.items);
        next = more.next;
    };

    let gains = daily_gains(&weeks);
    let oldest = oldest_day(&weeks).unwrap_or(today).min(today);
    let (state_name, since, from) = match end {
        End::Complete => {
            // Back to the creation; a star dated earlier (clocks differ) still counts.
            let created = count.created_at.date_naive();
            let from = gains
                .keys()
                .next()
                .map_or(created, |first| created.min(*first))
                .min(today);
            ("complete", Some(from), from)
        }
        End::Truncated => ("truncated", Some(oldest), oldest),
        End::Overlap => {
            let kept = if target.state == "truncated" {
                "truncated"
            } else {
                "complete"
            };
            (kept, None, oldest.max(target.since.unwrap_or(oldest)))
        }
    };
    Ok(Loaded::History(History {
        state: state_name,
        etag,
        since,
        days: cumulative(&gains, count.stargazers, from, today),
    }))
}

/// One GitHub call under [`CALL_DEADLINE`].
async fn within<T>(call: impl Future<Output = Result<T, GitHubError>>) -> Result<T, LoadError> {
    match tokio::time::timeout(CALL_DEADLINE, call).await {
        Ok(answer) => Ok(answer?),
        Err(_) => Err(LoadError::Deadline),
    }
}
