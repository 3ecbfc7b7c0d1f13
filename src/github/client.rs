//! `GitHubClient`: every GitHub request goes through `get`, which paces, authenticates,
//! retries and interprets rate-limit answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::response::{GitHubError, GitHubRequest, GitHubResponse};
use super::tokens::{Pick, TokenPool, TokenQuota, TokenSlot, until};
use super::usage::TokenUsage;
use crate::config::{Config, Secret};
use crate::metrics::Metrics;

/// How persistent the client is before it gives up on a request.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, rate-limit waits and retries included.
    pub max_attempts: u32,
    /// The longest the client sleeps inside a request waiting for quota; beyond this the
    /// caller gets `RateLimited` and reschedules.
    pub max_inline_wait: Duration,
    /// Retries after a 5xx or network error (the next poll tries again anyway).
    pub server_error_retries: u32,
    /// First back-off after a 5xx or network error (doubles, with jitter).
    pub server_error_backoff: Duration,
    /// First back-off after a rate-limit answer that says nothing about when to retry.
    pub rate_limit_backoff: Duration,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_inline_wait: Duration::from_secs(60),
            server_error_retries: 2,
            server_error_backoff: Duration::from_millis(250),
            rate_limit_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

pub struct GitHubClient {
    http: reqwest::Client,
    api_url: String,
    tokens: Arc<TokenPool>,
    user_pools: Mutex<HashMap<[u8; 32], Arc<TokenPool>>>,
    requests_per_minute: u32,
    in_flight: Semaphore,
    /// After a rate-limit answer requests go one at a time until this moment.
    throttled_until: Mutex<Option<DateTime<Utc>>>,
    one_at_a_time: Semaphore,
    metrics: Arc<Metrics>,
    /// Answers per polling token, per minute and outcome (`GET /github/budget`).
    usage: TokenUsage,
    policy: RetryPolicy,
}

enum Outcome {
    Done(GitHubResponse),
    Fail(GitHubError),
    /// Try again after this pause (already applied to the token's cool-down if any).
    Retry(Duration),
    /// A 5xx or network error: retry after the pause, a limited number of times.
    ServerError(Duration, String),
}

impl GitHubClient {
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> Result<Self, reqwest::Error> {
        Self::with_policy(config, metrics, RetryPolicy::default())
    }

    pub fn with_policy(
        config: &Config,
        metrics: Arc<Metrics>,
        policy: RetryPolicy,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("gitpulse/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(policy.timeout)
            .build()?;
        Ok(Self {
            http,
            api_url: config.github_api_url.trim_end_matches('/').to_string(),
            tokens: Arc::new(TokenPool::new(
                &config.github_tokens,
                config.github_max_requests_per_minute,
            )),
            user_pools: Mutex::new(HashMap::new()),
            requests_per_minute: config.github_max_requests_per_minute,
            in_flight: Semaphore::new(config.github_max_concurrency),
            throttled_until: Mutex::new(None),
            one_at_a_time: Semaphore::new(1),
            metrics,
            usage: TokenUsage::default(),
            policy,
        })
    }

    /// `GET` of an API path (`/repos/o/r`) or of an absolute URL from a `Link` header,
    /// conditional on `etag` when given, with the polling tokens.
    pub async fn get(
        &self,
        path_or_url: &str,
        etag: Option<&str>,
    ) -> Result<GitHubResponse, GitHubError> {
        self.send(GitHubRequest {
            path_or_url,
            etag,
            ..GitHubRequest::default()
        })
        .await
    }

    /// Sends one request, with the same pacing, rate-limit handling and retries for all.
    pub async fn send(&self, request: GitHubRequest<'_>) -> Result<GitHubResponse, GitHubError> {
        let url = self.url(request.path_or_url);
        let polling = request.token.is_none();
        let pool = match request.token {
            Some(token) => self.user_pool(token),
            None => self.tokens.clone(),
        };
        let mut last_error = GitHubError::Unavailable("no attempt was made".into());
        let mut server_errors = 0;
        for attempt in 0..self.policy.max_attempts {
            let slot = self.ready_token(&pool).await?;
            match self.attempt(slot, &url, &request, attempt, polling).await {
                Outcome::Done(response) => return Ok(response),
                Outcome::Fail(error) => return Err(error),
                Outcome::ServerError(pause, error) => {
                    server_errors += 1;
                    if server_errors > self.policy.server_error_retries {
                        return Err(GitHubError::Unavailable(error));
                    }
                    last_error = GitHubError::Unavailable(error);
                    tokio::time::sleep(pause).await;
                }
                Outcome::Retry(pause) => {
                    last_error =
                        GitHubError::Unavailable(format!("gave up after {} attempts", attempt + 1));
                    if pause > self.policy.max_inline_wait {
                        return Err(GitHubError::RateLimited {
                            until: Utc::now()
                                + chrono::Duration::from_std(pause).unwrap_or_default(),
                        });
                    }
                    tokio::time::sleep(pause).await;
                }
            }
        }
        Err(last_error)
    }

    /// What GitHub last reported about each polling token's quota.
    pub fn quotas(&self) -> Vec<TokenQuota> {
        self.tokens.quotas()
    }

    /// The polling tokens' answers counted since the last [`TokenUsage::take`].
    pub fn usage(&self) -> &TokenUsage {
        &self.usage
    }

    /// `path_or_url` made absolute against `GITHUB_API_URL`.
    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.api_url)
        }
    }

    /// The pool of one user token (OAuth), kept so its pace and quota persist across calls.
    fn user_pool(&self, token: &str) -> Arc<TokenPool> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut pools = self.user_pools.lock().unwrap_or_else(|p| p.into_inner());
        pools
            .entry(key)
            .or_insert_with(|| {
                Arc::new(TokenPool::new(
                    &[Secret::new(token)],
                    self.requests_per_minute,
                ))
            })
            .clone()
    }

    /// Waits (briefly) for a token with quota and pace to spare.
    async fn ready_token<'p>(&self, pool: &'p TokenPool) -> Result<&'p TokenSlot, GitHubError> {
        loop {
            let now = Utc::now();
            match pool.pick(now) {
                Pick::Ready(slot) => {
                    slot.pace.until_ready().await;
                    return Ok(slot);
                }
                Pick::WaitUntil(at) if until(now, at) <= self.policy.max_inline_wait => {
                    tokio::time::sleep(until(now, at).max(Duration::from_millis(10))).await;
                }
                Pick::WaitUntil(at) => return Err(GitHubError::RateLimited { until: at }),
            }
        }
    }

    async fn attempt(
        &self,
        slot: &TokenSlot,
        url: &str,
        spec: &GitHubRequest<'_>,
        attempt: u32,
        polling: bool,
    ) -> Outcome {
        let mut request = self
            .http
            .request(spec.method.clone(), url)
            .header(header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(auth) = slot.authorization() {
            request = request.header(header::AUTHORIZATION, auth);
        }
        if let Some(etag) = spec.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(body) = spec.json {
            request = request.json(body);
        }
        let sent = {
            let Ok(_permit) = self.in_flight.acquire().await else {
                return Outcome::Fail(GitHubError::Unavailable("client is shutting down".into()));
            };
            let _serial = if self.throttled() {
                self.one_at_a_time.acquire().await.ok()
            } else {
                None
            };
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    response.bytes().await.map(|body| (status, headers, body))
                }
                Err(e) => Err(e),
            }
        };
        let (status, headers, body) = match sent {
            Ok(parts) => parts,
            Err(e) => {
                self.count("network");
                tracing::warn!(url = %redact_query(url), error = %e, attempt, "GitHub request failed");
                return Outcome::ServerError(
                    self.jittered(self.policy.server_error_backoff, attempt),
                    format!("network error: {e}"),
                );
            }
        };
        slot.observe(&headers);
        self.count(outcome_label(status));
        if polling {
            self.usage
                .record(&slot.fingerprint, outcome_label(status), Utc::now());
        }
        match status {
            s if s.is_success() || s == StatusCode::NOT_MODIFIED => Outcome::Done(GitHubResponse {
                status,
                headers,
                body,
            }),
            StatusCode::NOT_FOUND => Outcome::Fail(GitHubError::NotFound),
            StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
                if is_rate_limited(status, &headers, &body) =>
            {
                let pause = self.rate_limit_pause(&headers, attempt);
                slot.cool_down(Utc::now() + chrono::Duration::from_std(pause).unwrap_or_default());
                self.throttle_for(pause);
                tracing::warn!(
                    status = status.as_u16(),
                    wait_secs = pause.as_secs(),
                    "GitHub rate limit; waiting"
                );
                Outcome::Retry(Duration::ZERO)
            }
            s if s.is_server_error() => {
                tracing::warn!(url = %redact_query(url), status = s.as_u16(), attempt, "GitHub server error");
                Outcome::ServerError(
                    self.jittered(self.policy.server_error_backoff, attempt),
                    format!("GitHub answered {}", s.as_u16()),
                )
            }
            s => Outcome::Fail(GitHubError::Status {
                status: s.as_u16(),
                message: error_message(&body),
            }),
        }
    }

    /// Whether requests currently go one at a time (after a rate-limit answer).
    fn throttled(&self) -> bool {
        let until = *self
            .throttled_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        until.is_some_and(|t| t > Utc::now())
    }

    /// Lowers concurrency to one request at a time for twice the pause (at least a minute),
    /// as GitHub asks of clients that hit a secondary rate limit.
    fn throttle_for(&self, pause: Duration) {
        let span = (pause * 2).max(Duration::from_secs(60));
        let until = Utc::now() + chrono::Duration::from_std(span).unwrap_or_default();
        let mut current = self
            .throttled_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *current = (*current).max(Some(until));
    }

    /// `Retry-After` if given, else the quota reset when it is spent, else exponential back-off.
    fn rate_limit_pause(&self, headers: &HeaderMap, attempt: u32) -> Duration {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        if let Some(secs) = number("retry-after") {
            return Duration::from_secs(secs.max(1).unsigned_abs());
        }
        if number("x-ratelimit-remaining") == Some(0)
            && let Some(reset) =
                number("x-ratelimit-reset").and_then(|r| DateTime::from_timestamp(r, 0))
        {
            return until(Utc::now(), reset) + Duration::from_secs(1);
        }
        self.policy.rate_limit_backoff * 2u32.saturating_pow(attempt.min(5))
    }

    fn jittered(&self, base: Duration, attempt: u32) -> Duration {
        let backoff = base * 2u32.saturating_pow(attempt.min(6));
        let jitter = rand::thread_rng().gen_range(0.5..1.5);
        backoff.mul_f64(jitter)
    }

    fn count(&self, outcome: &str) {
        self.metrics
            .increment("gitpulse_github_requests_total", &[("outcome", outcome)]);
    }
}

fn outcome_label(status: StatusCode) -> &'static str {
    match status.as_u16() {
        304 => "304",
        200..=299 => "200",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// GitHub signals rate limits with 429, or 403 plus `retry-after`, a spent quota, or a
/// message saying so (secondary limits).
fn is_rate_limited(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || headers.contains_key(header::RETRY_AFTER)
        || headers
            .get("x-ratelimit-remaining")
            .is_some_and(|v| v == "0")
        || String::from_utf8_lossy(body)
            .to_ascii_lowercase()
            .contains("rate limit")
}

fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

/// Query strings never carry our tokens, but may carry OAuth codes: keep them out of logs.
fn redact_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(path, _)| path)
}
