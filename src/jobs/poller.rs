//! The event poller: keeps the newest events of every tracked repository.
//!
//! Each tick leases the due repositories (`store::polling::claim_due`) and polls them
//! concurrently. A poll asks for the first page with the stored ETag (a 304 costs no
//! quota), then walks `Link` pages until it meets an event it already has or GitHub's
//! 300-event window ends, stores the new events in one statement, trims to
//! `EVENTS_KEEP_PER_REPO` and schedules the next poll. Failures stay with their
//! repository (kept, reported, retried with back-off); they never stop the others.

use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinSet;

use super::Job;
use crate::config::Config;
use crate::github::events::{self as gh, Event};
use crate::github::{GitHubError, Page};
use crate::state::AppState;
use crate::store::event_gaps;
use crate::store::events::{self, NewEvent};
use crate::store::polling::{self, NotModified, PollTarget, Schedule};

/// A lease outlives any poll: `EVENTS_POLL_TIMEOUT_SECS` is at most 240.
const LEASE_SECS: i64 = 300;
/// The longest a failing repository waits between attempts.
const MAX_BACKOFF_SECS: i64 = 6 * 3600;

/// What a poll cycle did, for logs, tests and benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CycleSummary {
    pub polled: usize,
    pub not_modified: usize,
    pub new_events: u64,
    pub failed: usize,
}

enum PollResult {
    NotModified(NotModified),
    Stored(u64),
}

/// Polls every repository that is due, until none is due and none is in flight (or
/// shutdown stops the claiming).
///
/// Polls run in a sliding window of `2 × GITHUB_MAX_CONCURRENCY` slots: whenever half of
/// them are free, or at least every [`TICK`], the free slots claim more due repositories
/// (one claim query per half window, not per poll), so a slow repository holds one slot
/// and never the others. Each poll has a deadline (`EVENTS_POLL_TIMEOUT_SECS`, well inside
/// its lease); one that misses it is recorded as a failure and retried with back-off.
/// Unchanged repositories (304) are recorded together, one statement per half window.
pub async fn poll_due(state: &AppState) -> Result<CycleSummary, sqlx::Error> {
    let slots = (state.config.github_max_concurrency * 2).max(2);
    let deadline = Duration::from_secs(state.config.events_poll_timeout_secs);
    let mut summary = CycleSummary::default();
    let mut polls = JoinSet::new();
    let mut unchanged: Vec<NotModified> = Vec::with_capacity(slots);
    let mut refill = true;
    loop {
        let free = slots.saturating_sub(polls.len());
        let claim = refill || polls.is_empty() || free >= slots.div_ceil(2);
        if claim && free > 0 && !state.shutdown.is_cancelled() {
            refill = false;
            polling::record_not_modified(&state.db, &unchanged).await?;
            unchanged.clear();
            for target in polling::claim_due(&state.db, free as i64, LEASE_SECS).await? {
                let state = state.clone();
                polls.spawn(async move {
                    let result = match tokio::time::timeout(
                        deadline,
                        poll_repository(&state, &target),
                    )
                    .await
                    {
                        Ok(result) => result,
                        Err(_) => Err(PollError::Deadline(deadline.as_secs())),
                    };
                    (target, result)
                });
            }
        }
        if polls.is_empty() {
            polling::record_not_modified(&state.db, &unchanged).await?;
            break;
        }
        let joined = tokio::select! {
            joined = polls.join_next() => joined,
            // Look for newly due work even while every poll in flight is slow.
            () = tokio::time::sleep(TICK) => {
                refill = true;
                continue;
            }
        };
        let Some(joined) = joined else { continue };
        let Ok((target, result)) = joined else {
            summary.failed += 1;
            continue;
        };
        summary.polled += 1;
        match result {
            Ok(PollResult::NotModified(done)) => {
                summary.not_modified += 1;
                unchanged.push(done);
            }
            Ok(PollResult::Stored(n)) => summary.new_events += n,
            Err(error) => {
                summary.failed += 1;
                record_failure(state, &target, error).await?;
            }
        }
    }
    Ok(summary)
}

/// The background job: a cycle every [`TICK`] (cheap when nothing is due).
pub struct EventPoller;

impl Job for EventPoller {
    const NAME: &'static str = "event-poller";

    fn period(_: &Config) -> Duration {
        TICK
    }

    async fn run_once(state: &AppState) {
        match poll_due(state).await {
            Ok(summary) if summary.polled > 0 => tracing::info!(
                polled = summary.polled,
                not_modified = summary.not_modified,
                new_events = summary.new_events,
                failed = summary.failed,
                "event poll cycle"
            ),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "event poll cycle failed"),
        }
    }
}

pub const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("GitHub did not finish answering within {0} s (EVENTS_POLL_TIMEOUT_SECS)")]
    Deadline(u64),
}

async fn poll_repository(state: &AppState, target: &PollTarget) -> Result<PollResult, PollError> {
    let first = gh::repo_events(
        &state.github,
        &target.owner,
        &target.name,
        target.events_etag.as_deref(),
    )
    .await?;
    let poll_interval = first
        .poll_interval
        .and_then(|s| i32::try_from(s).ok())
        .unwrap_or(target.poll_interval_secs);
    let schedule = |gap: bool| {
        let (busy_interval_secs, due_in) = crate::event_gaps::next_interval(
            due_in_secs(state, poll_interval),
            i64::from(poll_interval),
            target.busy_interval_secs,
            gap,
        );
        Schedule {
            poll_interval_secs: poll_interval,
            busy_interval_secs,
            next_poll_at: Utc::now() + chrono::Duration::seconds(due_in),
        }
    };
    if first.not_modified {
        // Recorded by the caller, together with the other unchanged repositories.
        return Ok(PollResult::NotModified(NotModified {
            id: target.id,
            schedule: schedule(false),
        }));
    }

    let etag = first.etag.clone();
    let newest_before = events::newest_at(&state.db, target.id).await?;
    let walk = collect_new_events(state, target.id, first).await?;
    let gap = if walk.complete {
        let fetched: Vec<_> = walk.events.iter().map(|e| e.created_at).collect();
        crate::event_gaps::detect(newest_before, &fetched, walk.met_known)
    } else {
        None
    };
    let mut tx = state.db.begin().await?;
    let inserted = events::insert(&mut tx, target.id, &walk.events).await?;
    let trimmed = events::trim(&mut tx, target.id, state.config.events_keep_per_repo).await?;
    if let Some(gap) = &gap {
        event_gaps::record(&mut tx, target.id, gap).await?;
    }
    let etag = if walk.complete { etag.as_deref() } else { None };
    let schedule = schedule(gap.is_some());
    polling::record_synchronized(
        &mut tx,
        target.id,
        etag,
        &schedule,
        inserted + trimmed > 0 || gap.is_some(),
    )
    .await?;
    tx.commit().await?;
    if let Some(gap) = gap {
        state.metrics.increment("gitpulse_event_gaps_total", &[]);
        tracing::warn!(
            repository = %format!("{}/{}", target.owner, target.name),
            from = %gap.started_at,
            to = %gap.ended_at,
            estimated_missing = ?gap.estimated_missing,
            next_poll_in_secs = (schedule.next_poll_at - Utc::now()).num_seconds(),
            "events were lost between two polls (more than GitHub's 300-event window)"
        );
    }
    Ok(PollResult::Stored(inserted))
}

/// What a walk through the pages found.
struct Walk {
    /// The events not stored yet, newest first.
    events: Vec<NewEvent>,
    /// The walk met an event already stored.
    met_known: bool,
    /// The walk ended at a known event or the end of the window (not at a failed page).
    complete: bool,
}

/// Reads pages newest first until a known event, the end of the window, or an error.
async fn collect_new_events(
    state: &AppState,
    repository_id: i64,
    first: Page<Event>,
) -> Result<Walk, PollError> {
    let mut collected = Vec::new();
    let mut page = first;
    let walk = |events, met_known, complete| Walk {
        events,
        met_known,
        complete,
    };
    loop {
        let batch: Vec<NewEvent> = page.items.into_iter().filter_map(into_new_event).collect();
        let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
        let known = events::known_ids(&state.db, repository_id, &ids).await?;
        let reached_known = !known.is_empty();
        collected.extend(batch.into_iter().filter(|e| !known.contains(&e.id)));
        if reached_known {
            return Ok(walk(collected, true, true));
        }
        let Some(next) = page.next else {
            return Ok(walk(collected, false, true));
        };
        page = match gh::next_events(&state.github, &next).await {
            Ok(page) => page,
            // Past GitHub's window: everything reachable has been read.
            Err(GitHubError::Status { status: 422, .. }) => {
                return Ok(walk(collected, false, true));
            }
            // A page that arrived but cannot be read fails the poll.
            Err(error @ GitHubError::Decode(_)) => return Err(error.into()),
            Err(error) => {
                tracing::warn!(repository_id, %error, "event page failed; storing what was read");
                return Ok(walk(collected, false, false));
            }
        };
    }
}

fn into_new_event(event: Event) -> Option<NewEvent> {
    let Ok(id) = event.id.parse::<i64>() else {
        tracing::warn!(id = %event.id, "skipping an event with a non-numeric id");
        return None;
    };
    Some(NewEvent {
        id,
        event_type: event.event_type.unwrap_or_else(|| "UnknownEvent".into()),
        actor_login: event.actor.and_then(|a| a.login),
        created_at: event.created_at,
    })
}

/// Seconds until the next poll: `max(EVENTS_POLL_INTERVAL_SECS, X-Poll-Interval)`.
fn due_in_secs(state: &AppState, poll_interval: i32) -> i64 {
    crate::event_gaps::normal_interval(state.config.events_poll_interval_secs, poll_interval)
}

async fn record_failure(
    state: &AppState,
    target: &PollTarget,
    error: PollError,
) -> Result<(), sqlx::Error> {
    let base = due_in_secs(state, target.poll_interval_secs);
    let backoff = base
        .saturating_mul(1_i64 << target.error_count.clamp(0, 12))
        .min(MAX_BACKOFF_SECS.max(base));
    let retry_at = Utc::now() + chrono::Duration::seconds(backoff);
    let (message, unavailable, counts, next) = match &error {
        PollError::GitHub(GitHubError::NotFound) => (
            "Repository not found on GitHub (deleted, renamed or made private)".to_string(),
            true,
            true,
            retry_at,
        ),
        PollError::GitHub(GitHubError::RateLimited { until }) => (
            format!(
                "Waiting for GitHub's rate limit to reset at {}",
                until.to_rfc3339()
            ),
            false,
            false,
            *until,
        ),
        PollError::GitHub(e) => (e.to_string(), false, true, retry_at),
        PollError::Deadline(_) => (error.to_string(), false, true, retry_at),
        PollError::Database(e) => {
            tracing::error!(repository_id = target.id, error = %e, "storing events failed");
            (
                "Internal error while storing events".to_string(),
                false,
                true,
                retry_at,
            )
        }
    };
    tracing::warn!(
        repository = %format!("{}/{}", target.owner, target.name),
        error = %error,
        next_poll_at = %next,
        "event poll failed"
    );
    polling::record_failure(&state.db, target.id, &message, unavailable, counts, next).await
}
