//! What goes to GitHub and what comes back: one request, a successful answer, and the
//! failures a caller tells apart.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde::de::DeserializeOwned;

use super::link::next_link;

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("not found on GitHub")]
    NotFound,
    #[error("GitHub answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("GitHub rate limit reached until {until}")]
    RateLimited { until: DateTime<Utc> },
    #[error("GitHub is unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected answer from GitHub: {0}")]
    Decode(String),
}

/// A successful answer (2xx or 304).
#[derive(Debug)]
pub struct GitHubResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl GitHubResponse {
    pub fn not_modified(&self) -> bool {
        self.status == StatusCode::NOT_MODIFIED
    }

    pub fn etag(&self) -> Option<String> {
        self.header(header::ETAG.as_str()).map(str::to_string)
    }

    /// `X-Poll-Interval`, in seconds.
    pub fn poll_interval(&self) -> Option<u64> {
        self.header("x-poll-interval")
            .and_then(|v| v.trim().parse().ok())
    }

    pub fn next_page(&self) -> Option<String> {
        self.header(header::LINK.as_str()).and_then(next_link)
    }

    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GitHubError> {
        serde_json::from_slice(&self.body).map_err(|e| GitHubError::Decode(e.to_string()))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One request to GitHub; `GitHubRequest { path_or_url, ..Default::default() }` is a GET.
#[derive(Debug, Clone, Default)]
pub struct GitHubRequest<'a> {
    pub method: reqwest::Method,
    /// An API path (`/repos/o/r`) or an absolute URL (from a `Link` header).
    pub path_or_url: &'a str,
    /// Makes the request conditional (`If-None-Match`): a 304 costs no quota.
    pub etag: Option<&'a str>,
    pub json: Option<&'a serde_json::Value>,
    /// A user's own token (OAuth) instead of the polling tokens; paced and tracked on its own.
    pub token: Option<&'a str>,
}
