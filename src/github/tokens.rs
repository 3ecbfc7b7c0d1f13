//! The polling tokens (`GITHUB_TOKENS`): each has its own pace (secondary-limit guard),
//! its remaining quota as GitHub last reported it, and a cool-down after a rate-limit
//! answer. Requests go to the usable token with the most quota left.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;

use crate::config::Secret;

#[derive(Debug, Clone, Copy)]
struct Reported {
    limit: i64,
    remaining: i64,
    reset: DateTime<Utc>,
}

#[derive(Debug)]
struct Status {
    quota: Option<Reported>,
    cooldown_until: Option<DateTime<Utc>>,
}

pub struct TokenSlot {
    /// The token's place in `GITHUB_TOKENS` (0 for the anonymous slot).
    pub index: usize,
    /// A short one-way hash naming the token in answers and metrics (`anonymous` without one).
    pub fingerprint: String,
    pub secret: Option<Secret>,
    pub pace: DefaultDirectRateLimiter,
    status: Mutex<Status>,
}

/// What the pool answers when asked for a token.
pub enum Pick<'a> {
    Ready(&'a TokenSlot),
    /// No token is usable before this moment.
    WaitUntil(DateTime<Utc>),
}

pub struct TokenPool {
    slots: Vec<TokenSlot>,
}

impl TokenPool {
    /// One slot per token, or one anonymous slot when there are none.
    pub fn new(tokens: &[Secret], requests_per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(requests_per_minute).unwrap_or(NonZeroU32::MIN);
        // A small burst keeps a cold start quick without breaking the per-minute pace.
        let burst = NonZeroU32::new(requests_per_minute.clamp(1, 10)).unwrap_or(NonZeroU32::MIN);
        let slot = |(index, secret): (usize, Option<Secret>)| TokenSlot {
            index,
            fingerprint: secret
                .as_ref()
                .map_or_else(|| "anonymous".to_string(), |s| fingerprint(s.expose())),
            secret,
            pace: RateLimiter::direct(Quota::per_minute(per_minute).allow_burst(burst)),
            status: Mutex::new(Status {
                quota: None,
                cooldown_until: None,
            }),
        };
        let slots = if tokens.is_empty() {
            vec![slot((0, None))]
        } else {
            tokens
                .iter()
                .cloned()
                .map(Some)
                .enumerate()
                .map(slot)
                .collect()
        };
        Self { slots }
    }

    /// The usable token with the most remaining quota, keeping a reserve of 2% of each
    /// token's limit for interactive requests.
    pub fn pick(&self, now: DateTime<Utc>) -> Pick<'_> {
        let mut best: Option<(&TokenSlot, i64)> = None;
        let mut earliest: Option<DateTime<Utc>> = None;
        for slot in &self.slots {
            let status = slot.lock();
            let mut blocked_until = status.cooldown_until.filter(|t| *t > now);
            let remaining = match status.quota {
                Some(q) if q.reset > now => {
                    let reserve = q.limit / 50;
                    if q.remaining <= reserve {
                        blocked_until = blocked_until.max(Some(q.reset));
                    }
                    q.remaining
                }
                _ => i64::MAX,
            };
            match blocked_until {
                Some(until) => earliest = Some(earliest.map_or(until, |e| e.min(until))),
                None if best.is_none_or(|(_, r)| remaining > r) => best = Some((slot, remaining)),
                None => {}
            }
        }
        match (best, earliest) {
            (Some((slot, _)), _) => Pick::Ready(slot),
            (None, Some(until)) => Pick::WaitUntil(until),
            (None, None) => Pick::WaitUntil(now),
        }
    }
}

/// What GitHub last reported about one token's quota, for `GET /github/budget`.
#[derive(Debug, Clone)]
pub struct TokenQuota {
    pub index: usize,
    pub fingerprint: String,
    pub limit: Option<i64>,
    pub remaining: Option<i64>,
    pub reset: Option<DateTime<Utc>>,
    /// Kept out of use until then after a rate-limit answer.
    pub cooldown_until: Option<DateTime<Utc>>,
}

impl TokenPool {
    /// Every token's last reported quota, in `GITHUB_TOKENS` order.
    pub fn quotas(&self) -> Vec<TokenQuota> {
        self.slots
            .iter()
            .map(|slot| {
                let status = slot.lock();
                TokenQuota {
                    index: slot.index,
                    fingerprint: slot.fingerprint.clone(),
                    limit: status.quota.map(|q| q.limit),
                    remaining: status.quota.map(|q| q.remaining),
                    reset: status.quota.map(|q| q.reset),
                    cooldown_until: status.cooldown_until,
                }
            })
            .collect()
    }
}

/// The first 8 hex digits of a domain-separated SHA-256 of `token`: enough to tell a
/// handful of tokens apart, nothing to recover one from.
pub fn fingerprint(token: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"gitpulse polling token fingerprint v1\0")
        .chain_update(token.as_bytes())
        .finalize();
    hex::encode(&digest[..4])
}

impl TokenSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the `x-ratelimit-*` headers of an answer.
    pub fn observe(&self, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        if let (Some(limit), Some(remaining), Some(reset)) = (
            number("x-ratelimit-limit"),
            number("x-ratelimit-remaining"),
            number("x-ratelimit-reset"),
        ) && let Some(reset) = DateTime::from_timestamp(reset, 0)
        {
            self.lock().quota = Some(Reported {
                limit,
                remaining,
                reset,
            });
        }
    }

    /// Keeps this token out of use until `until`.
    pub fn cool_down(&self, until: DateTime<Utc>) {
        let mut status = self.lock();
        status.cooldown_until = status.cooldown_until.max(Some(until));
    }

    /// `Authorization` header value, if this slot has a token.
    pub fn authorization(&self) -> Option<String> {
        self.secret
            .as_ref()
            .map(|s| format!("Bearer {}", s.expose()))
    }
}

/// Seconds from `now` until `until`, at least zero.
pub fn until(now: DateTime<Utc>, until: DateTime<Utc>) -> Duration {
    (until - now).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(limit: i64, remaining: i64, reset: i64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from(limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        h.insert("x-ratelimit-reset", HeaderValue::from(reset));
        h
    }

    #[test]
    fn picks_the_token_with_most_quota_and_skips_spent_ones() {
        let pool = TokenPool::new(&[Secret::new("a"), Secret::new("b")], 720);
        let now = Utc::now();
        let reset = now.timestamp() + 600;
        pool.slots[0].observe(&headers(5000, 4000, reset));
        pool.slots[1].observe(&headers(5000, 4500, reset));
        let Pick::Ready(slot) = pool.pick(now) else {
            panic!("a token is usable")
        };
        assert_eq!(slot.authorization().as_deref(), Some("Bearer b"));

        // b drops into its reserve (2% of 5000 = 100): a is used.
        pool.slots[1].observe(&headers(5000, 100, reset));
        let Pick::Ready(slot) = pool.pick(now) else {
            panic!("a token is usable")
        };
        assert_eq!(slot.authorization().as_deref(), Some("Bearer a"));

        // a cools down after a secondary limit: nothing usable until the earlier moment.
        pool.slots[0].cool_down(now + chrono::Duration::seconds(30));
        match pool.pick(now) {
            Pick::WaitUntil(t) => assert_eq!(t, now + chrono::Duration::seconds(30)),
            Pick::Ready(_) => panic!("both tokens are blocked"),
        }
        // After the reset, quota is assumed refreshed.
        let later = now + chrono::Duration::seconds(601);
        assert!(matches!(pool.pick(later), Pick::Ready(_)));
    }

    #[test]
    fn anonymous_pool_has_one_slot_without_authorization() {
        let pool = TokenPool::new(&[], 60);
        let Pick::Ready(slot) = pool.pick(Utc::now()) else {
            panic!("usable")
        };
        assert!(slot.authorization().is_none());
    }
}
