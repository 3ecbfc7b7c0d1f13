//! Requests per polling token, per minute and outcome (`200`, `304`, `4xx`, `5xx`), counted
//! in memory as answers arrive and written to PostgreSQL every few seconds (the
//! `github_usage` job), so `GET /github/budget` adds up every replica's requests.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// One count: `requests` answers with `outcome` to the token `fingerprint` in `minute`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageCount {
    pub fingerprint: String,
    pub minute: DateTime<Utc>,
    pub outcome: &'static str,
    pub requests: i64,
}

type Key = (String, DateTime<Utc>, &'static str);

/// The counts not yet written.
#[derive(Debug, Default)]
pub struct TokenUsage {
    pending: Mutex<HashMap<Key, i64>>,
}

impl TokenUsage {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, i64>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one answer to the token `fingerprint`.
    pub fn record(&self, fingerprint: &str, outcome: &'static str, at: DateTime<Utc>) {
        let minute = at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at);
        *self
            .lock()
            .entry((fingerprint.to_string(), minute, outcome))
            .or_default() += 1;
    }

    /// Takes the counts out for writing.
    pub fn take(&self) -> Vec<UsageCount> {
        self.lock()
            .drain()
            .map(|((fingerprint, minute, outcome), requests)| UsageCount {
                fingerprint,
                minute,
                outcome,
                requests,
            })
            .collect()
    }

    /// Puts counts back (their write failed) to be written with the next ones.
    pub fn restore(&self, counts: Vec<UsageCount>) {
        let mut pending = self.lock();
        for c in counts {
            *pending
                .entry((c.fingerprint, c.minute, c.outcome))
                .or_default() += c.requests;
        }
    }

    /// The counts not yet written, from `since` on (added to the database's by readers).
    pub fn pending_since(&self, since: DateTime<Utc>) -> Vec<UsageCount> {
        self.lock()
            .iter()
            .filter(|((_, minute, _), _)| *minute >= since)
            .map(|((fingerprint, minute, outcome), requests)| UsageCount {
                fingerprint: fingerprint.clone(),
                minute: *minute,
                outcome,
                requests: *requests,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_minute_and_outcome_and_survive_a_failed_write() {
        let usage = TokenUsage::default();
        let at = DateTime::from_timestamp(1_699_999_980, 0).expect("a whole minute");
        usage.record("aa", "200", at);
        usage.record("aa", "200", at + TimeDelta::seconds(10));
        usage.record("aa", "304", at);
        usage.record("bb", "200", at + TimeDelta::minutes(1));
        let mut taken = usage.take();
        taken.sort_by_key(|c| (c.fingerprint.clone(), c.minute, c.outcome));
        assert_eq!(taken.len(), 3);
        assert_eq!(taken[0].requests, 2);
        assert!(usage.take().is_empty());
        usage.restore(taken);
        usage.record("aa", "200", at);
        let pending = usage.pending_since(at);
        let two_hundreds: i64 = pending
            .iter()
            .filter(|c| c.fingerprint == "aa" && c.outcome == "200")
            .map(|c| c.requests)
            .sum();
        assert_eq!(two_hundreds, 3);
    }
}
