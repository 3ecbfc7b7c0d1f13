//! Events lost between two polls, and the polling pace of busy repositories.
//!
//! GitHub's events endpoint shows at most the newest [`WINDOW`] events. A poll that reads
//! the whole window without meeting an event it already has, for a repository that had
//! events before, leaves a gap between the newest stored event and the oldest fetched one.
//! It is recorded (`store::event_gaps`) with an estimate of the events in it, and the
//! repository is polled more often: its interval halves toward `X-Poll-Interval` (never
//! below it, never below [`MIN_BUSY_SECS`]) and doubles back to the normal interval with
//! every poll that finds no gap.

use chrono::{DateTime, Utc};

use crate::store::event_gaps::NewGap;

/// The most events GitHub's repository events endpoint shows (3 pages of 100).
pub const WINDOW: usize = 300;
/// The shortest interval of a busy repository.
pub const MIN_BUSY_SECS: i64 = 60;

/// The gap a poll leaves, if it read a full window of new events (`fetched`, every one of
/// them new) and the repository had events before, up to `newest_before`.
pub fn detect(
    newest_before: Option<DateTime<Utc>>,
    fetched: &[DateTime<Utc>],
    met_known: bool,
) -> Option<NewGap> {
    let newest_before = newest_before?;
    if met_known || fetched.len() < WINDOW {
        return None;
    }
    let oldest = *fetched.iter().min()?;
    let newest = *fetched.iter().max()?;
    if oldest <= newest_before {
        return None;
    }
    let span = (newest - oldest).num_milliseconds();
    let estimated_missing = (span > 0).then(|| {
        let rate = (fetched.len() - 1) as f64 / span as f64;
        let missing = rate * (oldest - newest_before).num_milliseconds() as f64;
        i32::try_from(missing.round() as i64).unwrap_or(i32::MAX)
    });
    Some(NewGap {
        started_at: newest_before,
        ended_at: oldest,
        estimated_missing,
    })
}

/// A repository's normal interval: `max(EVENTS_POLL_INTERVAL_SECS, X-Poll-Interval)`.
pub fn normal_interval(events_poll_interval_secs: u64, poll_interval: i32) -> i64 {
    i64::try_from(events_poll_interval_secs)
        .unwrap_or(i64::MAX)
        .max(i64::from(poll_interval))
}

/// The interval a repository is polled at now: its busy one, else the normal one.
pub fn current_interval(
    events_poll_interval_secs: u64,
    poll_interval: i32,
    busy: Option<i32>,
) -> i64 {
    busy.map_or_else(
        || normal_interval(events_poll_interval_secs, poll_interval),
        i64::from,
    )
}

/// The intervals of the next poll: `(busy interval to keep, seconds until the next poll)`.
/// `normal` is `max(EVENTS_POLL_INTERVAL_SECS, X-Poll-Interval)`.
pub fn next_interval(
    normal: i64,
    poll_interval: i64,
    busy: Option<i32>,
    gap: bool,
) -> (Option<i32>, i64) {
    let floor = poll_interval.max(MIN_BUSY_SECS);
    let current = busy.map_or(normal, i64::from);
    let next = if gap {
        (current / 2).max(floor)
    } else {
        current.saturating_mul(2)
    };
    if next >= normal {
        (None, normal)
    } else {
        (i32::try_from(next).ok(), next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes_ago(n: i64) -> DateTime<Utc> {
        Utc::now() - chrono::Duration::minutes(n)
    }

    #[test]
    fn a_full_window_of_new_events_after_known_ones_is_a_gap() {
        // 300 events, one a minute, the oldest 400 minutes ago; the newest known 500 ago.
        let fetched: Vec<_> = (100..400).map(minutes_ago).collect();
        let gap = detect(Some(minutes_ago(500)), &fetched, false).expect("a gap");
        assert_eq!(gap.ended_at, fetched[299]);
        assert_eq!(
            gap.estimated_missing,
            Some(101),
            "399 - 500 minutes at one a minute"
        );
        assert_eq!(detect(None, &fetched, false), None, "nothing stored before");
        assert_eq!(
            detect(Some(minutes_ago(500)), &fetched, true),
            None,
            "met one"
        );
        assert_eq!(
            detect(Some(minutes_ago(500)), &fetched[..299], false),
            None,
            "the window was not full"
        );
    }

    #[test]
    fn busy_repositories_speed_up_and_relax() {
        // Normal 600 s, X-Poll-Interval 60 s.
        assert_eq!(next_interval(600, 60, None, true), (Some(300), 300));
        assert_eq!(next_interval(600, 60, Some(300), true), (Some(150), 150));
        assert_eq!(next_interval(600, 60, Some(75), true), (Some(60), 60));
        assert_eq!(next_interval(600, 60, Some(60), true), (Some(60), 60));
        assert_eq!(next_interval(600, 90, Some(100), true), (Some(90), 90));
        assert_eq!(next_interval(600, 60, Some(150), false), (Some(300), 300));
        assert_eq!(next_interval(600, 60, Some(300), false), (None, 600));
        assert_eq!(next_interval(600, 60, None, false), (None, 600));
        // Nothing to shorten when GitHub's interval is the normal one.
        assert_eq!(next_interval(60, 60, None, true), (None, 60));
    }
}
