//! The HTTP side of the client: authenticated JSON calls that retry 429, 5xx and
//! network errors with exponential backoff, honouring `Retry-After`. A server that was
//! never reached (refused connection, unknown host) fails at once: that is a wrong
//! `api_url`, not a hiccup.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::Rng;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ClientError;

/// Longest wait the client accepts from a `Retry-After` header or the backoff.
const MAX_WAIT: Duration = Duration::from_secs(300);

pub struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
    max_retries: u32,
    backoff_base: Duration,
    /// Some request got an HTTP answer: later connection failures are worth retrying.
    reached: AtomicBool,
}

impl Api {
    pub fn new(
        base: &str,
        key: &str,
        max_retries: u32,
        backoff_base: Duration,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("gitpulse-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Failed(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: base.trim().trim_end_matches('/').to_string(),
            key: key.to_string(),
            max_retries,
            backoff_base,
            reached: AtomicBool::new(false),
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call::<(), T>(Method::GET, path, None).await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&self.key);
            if let Some(body) = body {
                request = request.json(body);
            }
            let (problem, retry_after) = match request.send().await {
                Ok(response) if response.status().is_success() => {
                    return response.json::<T>().await.map_err(|e| {
                        ClientError::Failed(format!("unexpected answer from {url}: {e}"))
                    });
                }
                Ok(response) => {
                    self.reached.store(true, Ordering::Relaxed);
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let message = error_message(response).await;
                    let problem = format!("{method} {path} answered {status}: {message}");
                    if status == StatusCode::PAYLOAD_TOO_LARGE {
                        return Err(ClientError::TooLarge(problem));
                    }
                    if !retryable(status) {
                        return Err(ClientError::Failed(problem));
                    }
                    (problem, retry_after)
                }
                Err(e) if e.is_connect() && !self.reached.load(Ordering::Relaxed) => {
                    return Err(ClientError::Failed(format!(
                        "cannot reach the gitpulse server at {}: {} (is api_url right, and is the server running?)",
                        self.base,
                        root_cause(&e)
                    )));
                }
                Err(e) => (format!("cannot reach {url}: {}", root_cause(&e)), None),
            };
            if attempt >= self.max_retries {
                return Err(ClientError::Failed(format!(
                    "{problem} (gave up after {} attempts)",
                    attempt + 1
                )));
            }
            let wait = retry_after
                .unwrap_or_else(|| self.backoff(attempt))
                .min(MAX_WAIT);
            eprintln!(
                "gitpulse client: {problem}; retrying in {} (attempt {} of {})",
                crate::error::seconds(wait.as_secs_f64().ceil() as u64),
                attempt + 2,
                self.max_retries + 1
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// base × 2^attempt, ±25 % jitter, at most `MAX_WAIT`.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(2u32.saturating_pow(attempt.min(16)));
        let jitter = rand::thread_rng().gen_range(0.75..1.25);
        exp.mul_f64(jitter).min(MAX_WAIT)
    }
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

async fn error_message(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(String::from))
        .unwrap_or_else(|| text.chars().take(200).collect())
}

fn root_cause(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}
