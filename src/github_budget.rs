//! The GitHub budget of the polling tokens (`GITHUB_TOKENS`): what GitHub last reported
//! (limit, remaining, reset), the requests each token made in the last hour by outcome
//! (every replica's, from `github_token_requests`, plus this process's not yet written),
//! and a forecast at the current rate. Tokens are named by their place in `GITHUB_TOKENS`
//! and a short fingerprint, never by their value.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::github::TokenQuota;
use crate::state::AppState;
use crate::store::github_usage;

/// The outcomes counted, as `gitpulse_github_requests_total` labels them.
pub const OUTCOMES: [&str; 4] = ["200", "304", "4xx", "5xx"];

/// Requests in the last hour by outcome.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct HourRequests {
    #[serde(rename = "200")]
    pub ok: i64,
    #[serde(rename = "304")]
    pub not_modified: i64,
    #[serde(rename = "4xx")]
    pub client_error: i64,
    #[serde(rename = "5xx")]
    pub server_error: i64,
    pub total: i64,
}

impl HourRequests {
    fn add(&mut self, outcome: &str, n: i64) {
        match outcome {
            "200" => self.ok += n,
            "304" => self.not_modified += n,
            "4xx" => self.client_error += n,
            "5xx" => self.server_error += n,
            _ => return,
        }
        self.total += n;
    }

    /// Requests that cost quota (GitHub does not charge a 304).
    fn charged(&self) -> i64 {
        self.total - self.not_modified
    }

    fn get(&self, outcome: &str) -> i64 {
        match outcome {
            "200" => self.ok,
            "304" => self.not_modified,
            "4xx" => self.client_error,
            _ => self.server_error,
        }
    }
}

/// At the rate of the last hour.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Forecast {
    /// When the remaining quota runs out at the last hour's rate of charged requests;
    /// `null` when it lasts until the reset (or nothing is known yet).
    pub runs_out_at: Option<DateTime<Utc>>,
    /// How many more repositories this token could keep fresh at the poll interval
    /// (one request per poll), bounded by both its hourly quota and its pace
    /// (`GITHUB_MAX_REQUESTS_PER_MINUTE`).
    pub more_repositories: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenBudget {
    /// The token's place in `GITHUB_TOKENS` (0-based).
    pub index: usize,
    /// The first 8 hex digits of a SHA-256 of the token (`anonymous` without tokens).
    pub fingerprint: String,
    /// As GitHub last reported them to this process (`null` before its first answer).
    pub limit: Option<i64>,
    pub remaining: Option<i64>,
    pub reset_at: Option<DateTime<Utc>>,
    /// Kept out of use until then after a rate-limit answer.
    pub cooling_down_until: Option<DateTime<Utc>>,
    pub requests_last_hour: HourRequests,
    pub forecast: Forecast,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GitHubBudget {
    pub tokens: Vec<TokenBudget>,
    /// `EVENTS_POLL_INTERVAL_SECS`: the interval of the forecast.
    pub poll_interval_secs: u64,
    /// `GITHUB_MAX_REQUESTS_PER_MINUTE`: each token's pace.
    pub max_requests_per_minute: u32,
    pub checked_at: DateTime<Utc>,
}

/// The start of the last hour's minutes (the current minute and the 59 before it).
fn hour_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let minute = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now);
    minute - TimeDelta::minutes(59)
}

/// Writes this process's counts to the database (put back if that fails).
pub async fn flush(state: &AppState) -> Result<(), sqlx::Error> {
    let usage = state.github.usage();
    let counts = usage.take();
    if let Err(e) = github_usage::add(&state.db, &counts).await {
        usage.restore(counts);
        return Err(e);
    }
    Ok(())
}

/// Every polling token's budget.
pub async fn budget(state: &AppState) -> Result<GitHubBudget, sqlx::Error> {
    let now = Utc::now();
    let since = hour_start(now);
    let mut hour: BTreeMap<String, HourRequests> = BTreeMap::new();
    for (fingerprint, outcome, n) in github_usage::since(&state.db, since).await? {
        hour.entry(fingerprint).or_default().add(&outcome, n);
    }
    for c in state.github.usage().pending_since(since) {
        hour.entry(c.fingerprint)
            .or_default()
            .add(c.outcome, c.requests);
    }
    let config = &state.config;
    let tokens = state
        .github
        .quotas()
        .into_iter()
        .map(|quota| {
            let requests = hour.remove(&quota.fingerprint).unwrap_or_default();
            let forecast = forecast(
                now,
                &quota,
                &requests,
                config.events_poll_interval_secs,
                config.github_max_requests_per_minute,
            );
            TokenBudget {
                index: quota.index,
                fingerprint: quota.fingerprint,
                limit: quota.limit,
                remaining: quota.remaining,
                reset_at: quota.reset,
                cooling_down_until: quota.cooldown_until.filter(|t| *t > now),
                requests_last_hour: requests,
                forecast,
            }
        })
        .collect();
    Ok(GitHubBudget {
        tokens,
        poll_interval_secs: config.events_poll_interval_secs,
        max_requests_per_minute: config.github_max_requests_per_minute,
        checked_at: now,
    })
}

/// The forecast of one token at the last hour's rate.
pub fn forecast(
    now: DateTime<Utc>,
    quota: &TokenQuota,
    hour: &HourRequests,
    poll_interval_secs: u64,
    per_minute: u32,
) -> Forecast {
    let charged = hour.charged();
    let runs_out_at = match (quota.remaining, quota.reset) {
        (Some(remaining), Some(reset)) if charged > 0 && reset > now => {
            let secs = remaining.max(0).saturating_mul(3600) / charged;
            Some(now + TimeDelta::seconds(secs)).filter(|at| *at < reset)
        }
        _ => None,
    };
    let polls_per_hour = 3600.0 / poll_interval_secs.max(1) as f64;
    let spare_pace = f64::from(per_minute) * 60.0 - hour.total as f64;
    let spare_quota = quota.limit.map_or(f64::INFINITY, |l| (l - charged) as f64);
    let spare = spare_pace.min(spare_quota).max(0.0);
    Forecast {
        runs_out_at,
        more_repositories: (spare / polls_per_hour).floor() as i64,
    }
}

/// The budget gauges for `/metrics` (`token` is `index:fingerprint`).
pub fn gauges(budget: &GitHubBudget) -> String {
    let mut out = String::new();
    let metrics: [(&str, &str); 4] = [
        (
            "gitpulse_github_token_limit",
            "The token's hourly quota as GitHub last reported it.",
        ),
        (
            "gitpulse_github_token_remaining",
            "The token's remaining quota as GitHub last reported it.",
        ),
        (
            "gitpulse_github_token_reset_timestamp_seconds",
            "When the token's quota resets (Unix time).",
        ),
        (
            "gitpulse_github_token_more_repositories",
            "How many more repositories the token could keep fresh at the poll interval.",
        ),
    ];
    for (name, help) in metrics {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for t in &budget.tokens {
            let value = match name {
                "gitpulse_github_token_limit" => t.limit,
                "gitpulse_github_token_remaining" => t.remaining,
                "gitpulse_github_token_reset_timestamp_seconds" => {
                    t.reset_at.map(|r| r.timestamp())
                }
                _ => Some(t.forecast.more_repositories),
            };
            if let Some(value) = value {
                let _ = writeln!(
                    out,
                    "{name}{{token=\"{}:{}\"}} {value}",
                    t.index, t.fingerprint
                );
            }
        }
    }
    out.push_str("# HELP gitpulse_github_token_requests_last_hour Requests of the token in the last hour, by outcome (all replicas).\n");
    out.push_str("# TYPE gitpulse_github_token_requests_last_hour gauge\n");
    for t in &budget.tokens {
        for outcome in OUTCOMES {
            let _ = writeln!(
                out,
                "gitpulse_github_token_requests_last_hour{{token=\"{}:{}\",outcome=\"{outcome}\"}} {}",
                t.index,
                t.fingerprint,
                t.requests_last_hour.get(outcome)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(limit: i64, remaining: i64, reset: DateTime<Utc>) -> TokenQuota {
        TokenQuota {
            index: 0,
            fingerprint: "abcd1234".into(),
            limit: Some(limit),
            remaining: Some(remaining),
            reset: Some(reset),
            cooldown_until: None,
        }
    }

    #[test]
    fn forecasts_when_the_quota_runs_out_and_how_many_repositories_fit() {
        let now = Utc::now();
        let mut hour = HourRequests::default();
        hour.add("200", 1000);
        hour.add("304", 2000);
        // 1000 charged per hour, 500 left, reset in 50 minutes: out in 30 minutes.
        let f = forecast(
            now,
            &quota(5000, 500, now + TimeDelta::minutes(50)),
            &hour,
            300,
            720,
        );
        assert_eq!(f.runs_out_at, Some(now + TimeDelta::minutes(30)));
        // Pace: 43,200 an hour, 3,000 used; quota: 5,000, 1,000 charged → 4,000 spare;
        // 12 polls per repository an hour → 333 more repositories.
        assert_eq!(f.more_repositories, 333);
        // Plenty left: lasts until the reset.
        let f = forecast(
            now,
            &quota(5000, 4900, now + TimeDelta::minutes(50)),
            &hour,
            300,
            720,
        );
        assert_eq!(f.runs_out_at, None);
        // Nothing known yet: no date, the pace alone bounds it.
        let unknown = TokenQuota {
            limit: None,
            remaining: None,
            reset: None,
            ..quota(0, 0, now)
        };
        let f = forecast(now, &unknown, &HourRequests::default(), 300, 720);
        assert_eq!(
            f,
            Forecast {
                runs_out_at: None,
                more_repositories: 3600
            }
        );
    }
}
