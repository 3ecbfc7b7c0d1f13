//! Event statistics (seed 000): for each event type, the mean time in seconds between
//! consecutive events of that type, over a window of the events of the last 7 days if
//! there are 1 to 500 of them, else the newest 500.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most events a window holds.
pub const WINDOW_MAX_EVENTS: i64 = 500;
/// Preferred window: the events of the last this many days.
pub const WINDOW_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TypeStatistics {
    /// Events of this type in the window.
    pub count: i64,
    /// Mean seconds between consecutive events of this type (0.0 for a single event), 3 decimals.
    pub avg_seconds_between: f64,
}

/// Event type → its statistics.
pub type Statistics = BTreeMap<String, TypeStatistics>;

pub use crate::store::events::EventPoint;

/// Computes the statistics of `newest_first` (the newest events of a repository, at most
/// 500, newest first) at time `now`. Also returns until when the answer holds if no event
/// arrives: the moment the oldest event of a 7-day window leaves it (`None`: forever).
pub fn compute(
    newest_first: &[EventPoint],
    now: DateTime<Utc>,
) -> (Statistics, Option<DateTime<Utc>>) {
    let cutoff = now - Duration::days(WINDOW_DAYS);
    let newest = &newest_first[..newest_first.len().min(WINDOW_MAX_EVENTS as usize)];
    let recent = newest.iter().take_while(|e| e.created_at >= cutoff).count();
    // Events arrive newest first, so the last 7 days are a prefix. With none in the last
    // 7 days, the window is the newest 500.
    let (window, valid_until) = if recent > 0 {
        let window = &newest[..recent];
        (
            window,
            window
                .last()
                .map(|oldest| oldest.created_at + Duration::days(WINDOW_DAYS)),
        )
    } else {
        (newest, None)
    };

    let mut spans: BTreeMap<&str, (i64, DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
    for event in window {
        spans
            .entry(event.event_type.as_str())
            .and_modify(|(count, first, last)| {
                *count += 1;
                *first = (*first).min(event.created_at);
                *last = (*last).max(event.created_at);
            })
            .or_insert((1, event.created_at, event.created_at));
    }
    let statistics = spans
        .into_iter()
        .map(|(event_type, (count, first, last))| {
            // The gaps between consecutive events add up to last - first.
            let mean = if count > 1 {
                (last - first).num_milliseconds() as f64 / 1000.0 / (count - 1) as f64
            } else {
                0.0
            };
            let stats = TypeStatistics {
                count,
                avg_seconds_between: round3(mean),
            };
            (event_type.to_string(), stats)
        })
        .collect();
    (statistics, valid_until)
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .expect("valid date")
    }

    /// Events given oldest first as (type, seconds before now); returned newest first.
    fn timeline(events: &[(&str, i64)]) -> Vec<EventPoint> {
        let mut points: Vec<EventPoint> = events
            .iter()
            .map(|(t, ago)| EventPoint {
                event_type: t.to_string(),
                created_at: now() - Duration::seconds(*ago),
            })
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.created_at));
        points
    }

    #[test]
    fn mean_gap_per_type() {
        let events = timeline(&[
            ("PushEvent", 300),
            ("WatchEvent", 250),
            ("PushEvent", 200),
            ("PushEvent", 110),
        ]);
        let (stats, valid_until) = compute(&events, now());
        assert_eq!(
            stats["PushEvent"],
            TypeStatistics {
                count: 3,
                avg_seconds_between: 95.0
            }
        );
        assert_eq!(
            stats["WatchEvent"],
            TypeStatistics {
                count: 1,
                avg_seconds_between: 0.0
            }
        );
        assert_eq!(
            valid_until,
            Some(now() - Duration::seconds(300) + Duration::days(7))
        );
    }

    #[test]
    fn rounds_to_three_places() {
        let base = now() - Duration::hours(1);
        let events = vec![
            EventPoint {
                event_type: "IssuesEvent".into(),
                created_at: base + Duration::milliseconds(10_000),
            },
            EventPoint {
                event_type: "IssuesEvent".into(),
                created_at: base + Duration::milliseconds(3_333),
            },
            EventPoint {
                event_type: "IssuesEvent".into(),
                created_at: base,
            },
        ];
        let (stats, _) = compute(&events, now());
        assert_eq!(stats["IssuesEvent"].avg_seconds_between, 5.0);
        let events = timeline(&[("A", 10), ("A", 9), ("A", 0)]);
        let (stats, _) = compute(&events, now());
        assert_eq!(stats["A"].avg_seconds_between, 5.0);
        let events = timeline(&[("A", 10), ("A", 0), ("A", 0)]);
        let (stats, _) = compute(&events, now());
        assert_eq!(stats["A"].avg_seconds_between, 5.0);
        let events = timeline(&[("A", 10), ("A", 9), ("A", 9), ("A", 0)]);
        let (stats, _) = compute(&events, now());
        assert_eq!(stats["A"].avg_seconds_between, 3.333);
    }

    #[test]
    fn old_events_are_left_out_when_the_last_week_has_some() {
        let day = 86_400;
        let events = timeline(&[
            ("PushEvent", 30 * day),
            ("PushEvent", 20 * day),
            ("PushEvent", 2 * day),
            ("PushEvent", day),
        ]);
        let (stats, _) = compute(&events, now());
        assert_eq!(
            stats["PushEvent"],
            TypeStatistics {
                count: 2,
                avg_seconds_between: 86_400.0
            }
        );
    }

    #[test]
    fn without_recent_events_the_newest_500_count() {
        let day = 86_400;
        let events = timeline(&[("ForkEvent", 30 * day), ("ForkEvent", 20 * day)]);
        let (stats, valid_until) = compute(&events, now());
        assert_eq!(
            stats["ForkEvent"],
            TypeStatistics {
                count: 2,
                avg_seconds_between: 864_000.0
            }
        );
        assert_eq!(valid_until, None, "stays true until new events arrive");
    }

    #[test]
    fn at_most_500_events_count() {
        let events: Vec<(&str, i64)> = (0..800).map(|i| ("PushEvent", 800 - i)).collect();
        let (stats, _) = compute(&timeline(&events), now());
        assert_eq!(stats["PushEvent"].count, 500);
        assert_eq!(stats["PushEvent"].avg_seconds_between, 1.0);
    }

    #[test]
    fn no_events_no_statistics() {
        let (stats, valid_until) = compute(&[], now());
        assert!(stats.is_empty());
        assert_eq!(valid_until, None);
    }
}
