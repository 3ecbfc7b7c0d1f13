//! The values tests hand to the fake and read back from it.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// One event to put on a repository's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeEvent {
    /// Numeric string, as GitHub's event ids are.
    pub id: String,
    /// E.g. `PushEvent`, `WatchEvent`, `IssuesEvent`.
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    /// The actor; a user of that login is created if missing.
    pub actor_login: String,
}

/// A fault to answer one request with, queued by [`FakeGitHub::fail_next`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// That status with a plain error JSON body `{"message": ..}`.
    Status(u16),
    /// 403 "You have exceeded a secondary rate limit", with `retry-after` if `Some`.
    RateLimited403 { retry_after: Option<u64> },
    /// 403 "API rate limit exceeded" with `x-ratelimit-remaining: 0` and this reset.
    RateLimitedPrimary { reset_epoch: i64 },
    /// 429 secondary rate limit with `retry-after`.
    TooMany429 { retry_after: u64 },
    /// Answer normally after sleeping this long.
    Delay(Duration),
}

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw query string without `?` (empty if none).
    pub query: String,
    /// Header names in lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    /// Status answered; 0 while the request is still in flight.
    pub status: u16,
}

impl RecordedRequest {
    /// First value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
