//! The middleware around every route: request log, injected faults, primary rate limits
//! (charging and `x-ratelimit-*` headers on every answer).

use std::sync::Arc;

use axum::extract::{Request, State as AxumState};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::budget::Budget;
use super::http::{error_json, error_with_headers, put};
use super::state::State;
use crate::types::{Fault, RecordedRequest};

const PRIMARY_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";
const SECONDARY_DOCS: &str = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";
const SECONDARY_MESSAGE: &str = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.";

/// Paths that are never charged against the budget: the rate-limit status, and the OAuth
/// web flow (a web page and its token exchange, not REST API calls).
fn is_free(path: &str) -> bool {
    path == "/rate_limit" || path.starts_with("/login/oauth/")
}

pub(crate) async fn github_layer(
    AxumState(state): AxumState<Arc<State>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let who = req
        .headers()
        .get(AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let seq = state.log.record(RecordedRequest {
        method: req.method().to_string(),
        path: path.clone(),
        query: req.uri().query().unwrap_or_default().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        status: 0,
    });

    let mut resp = if state.oauth.is_revoked(req.headers()) {
        bad_credentials()
    } else {
        match state.take_fault(&path) {
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                answer(&state, req, next, &path, who.as_deref()).await
            }
            Some(fault) => fault_response(&fault, state.budget(who.as_deref())),
            None => answer(&state, req, next, &path, who.as_deref()).await,
        }
    };
    put(
        resp.headers_mut(),
        HeaderName::from_static("x-github-request-id"),
        &format!("FAKE:{seq:08X}"),
    );
    state.log.set_status(seq, resp.status().as_u16());
    resp
}

/// Normal handling under the primary budget of `who` (the `Authorization` value; each token
/// has its own budget): 403 once spent, else the route's answer, charged unless it is a 304
/// or the path is free.
async fn answer(
    state: &State,
    req: Request,
    next: Next,
    path: &str,
    who: Option<&str>,
) -> Response {
    let budget = state.budget(who);
    let free = is_free(path);
    if !free && budget.remaining <= 0 {
        return primary_exceeded(who.is_some(), budget);
    }
    let mut resp = next.run(req).await;
    let after = if !free && resp.status() != StatusCode::NOT_MODIFIED {
        state.charge(who)
    } else {
        state.budget(who)
    };
    rate_headers(resp.headers_mut(), after);
    resp
}

/// GitHub's answer to a revoked or expired token.
fn bad_credentials() -> Response {
    error_json(
        StatusCode::UNAUTHORIZED,
        "Bad credentials",
        "https://docs.github.com/rest",
    )
}

/// `x-ratelimit-*` as GitHub sends them.
fn rate_headers(headers: &mut HeaderMap, b: Budget) {
    let pairs = [
        ("x-ratelimit-limit", b.limit.to_string()),
        ("x-ratelimit-remaining", b.remaining.to_string()),
        ("x-ratelimit-used", b.used().to_string()),
        ("x-ratelimit-reset", b.reset.to_string()),
        ("x-ratelimit-resource", "core".to_string()),
    ];
    for (name, value) in pairs {
        put(headers, HeaderName::from_static(name), &value);
    }
}

/// The 403 GitHub answers once a primary budget is spent.
fn primary_exceeded(authenticated: bool, b: Budget) -> Response {
    let message = if authenticated {
        "API rate limit exceeded for user. If you reach out to GitHub Support for help, please include the request ID."
    } else {
        "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)"
    };
    let mut resp = error_json(StatusCode::FORBIDDEN, message, PRIMARY_DOCS);
    rate_headers(resp.headers_mut(), Budget { remaining: 0, ..b });
    resp
}

fn fault_response(fault: &Fault, budget: Budget) -> Response {
    let mut headers = HeaderMap::new();
    let mut budget = budget;
    let (status, message, docs) = match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = match status.as_u16() {
                500 => "Server Error",
                _ => status.canonical_reason().unwrap_or("Error"),
            };
            (status, message, "https://docs.github.com/rest")
        }
        Fault::RateLimited403 { retry_after } => {
            if let Some(secs) = retry_after {
                put(&mut headers, RETRY_AFTER, &secs.to_string());
            }
            (StatusCode::FORBIDDEN, SECONDARY_MESSAGE, SECONDARY_DOCS)
        }
        Fault::TooMany429 { retry_after } => {
            put(&mut headers, RETRY_AFTER, &retry_after.to_string());
            (
                StatusCode::TOO_MANY_REQUESTS,
                SECONDARY_MESSAGE,
                SECONDARY_DOCS,
            )
        }
        Fault::RateLimitedPrimary { reset_epoch } => {
            budget = Budget {
                remaining: 0,
                reset: *reset_epoch,
                ..budget
            };
            (
                StatusCode::FORBIDDEN,
                "API rate limit exceeded for user. If you reach out to GitHub Support for help, please include the request ID.",
                PRIMARY_DOCS,
            )
        }
        Fault::Delay(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Server Error", ""),
    };
    rate_headers(&mut headers, budget);
    error_with_headers(status, message, docs, headers)
}
