//! `GET /github/budget` against the requests the fake GitHub counted (issue 15, part 3).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fake_github::{FakeGitHub, Fault};
use gitpulse::config::Secret;
use gitpulse::jobs::poller::poll_due;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, json_of};

const TOKENS: [&str; 2] = ["ghp_budget_token_a", "ghp_budget_token_b"];

/// The fake's count of requests with `token`, by outcome as gitpulse labels them.
fn counted_by_fake(gh: &FakeGitHub, token: &str) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for r in gh.requests_with_token(token) {
        let outcome = match r.status {
            304 => "304",
            200..=299 => "200",
            400..=499 => "4xx",
            _ => "5xx",
        };
        *counts.entry(outcome.to_string()).or_default() += 1;
    }
    counts
}

fn reported(token: &Value) -> BTreeMap<String, i64> {
    ["200", "304", "4xx", "5xx"]
        .into_iter()
        .map(|o| {
            (
                o.to_string(),
                token["requests_last_hour"][o].as_i64().unwrap_or(-1),
            )
        })
        .filter(|(_, n)| *n != 0)
        .collect()
}

async fn budget(app: &TestApp, token: &str) -> Value {
    let (status, body) = json_of(app.get("/github/budget", Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn the_budget_matches_the_requests_github_counted_across_replicas() {
    let gh = FakeGitHub::start().await;
    let tokens: Vec<Secret> = TOKENS.iter().map(|t| Secret::new(*t)).collect();
    let app = TestApp::with_github(&gh, |c| {
        c.scheduler_enabled = false;
        c.github_tokens = tokens;
    })
    .await;
    let user = app.register("operator").await;
    for name in ["one", "two", "three", "four"] {
        gh.add_repo("acme", name);
        let body = json!({"owner": "acme", "name": name});
        let (status, answer) =
            json_of(app.post_json("/repositories", &body, Some(&user)).await).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    gh.fail_next("/repos/acme/two/events", Fault::Status(502));
    gh.fail_next("/repos/acme/three/events", Fault::Status(422));
    poll_due(&app.state).await.expect("first poll");
    // A replica polls again (304s from the ETags): its counts reach this server's answer
    // once written (every 5 seconds).
    let replica = app.replica().await;
    sqlx::query("update repositories set next_poll_at = now(), lease_until = null")
        .execute(&app.state.db)
        .await
        .expect("due");
    poll_due(&replica.state).await.expect("second poll");

    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let body = budget(&app, &user).await;
        let all_match = TOKENS
            .iter()
            .enumerate()
            .all(|(i, token)| reported(&body["tokens"][i]) == counted_by_fake(&gh, token));
        if all_match {
            break body;
        }
        let fake: Vec<_> = TOKENS.iter().map(|t| counted_by_fake(&gh, t)).collect();
        assert!(Instant::now() < deadline, "{body:#}\nfake: {fake:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let total: i64 = TOKENS
        .iter()
        .map(|t| gh.requests_with_token(t).len() as i64)
        .sum();
    let outcomes: i64 = (0..2)
        .map(|i| {
            body["tokens"][i]["requests_last_hour"]["total"]
                .as_i64()
                .expect("total")
        })
        .sum();
    assert_eq!(outcomes, total, "{body:#}");
    let all: BTreeMap<String, i64> = TOKENS.iter().fold(BTreeMap::new(), |mut acc, t| {
        for (k, v) in counted_by_fake(&gh, t) {
            *acc.entry(k).or_default() += v;
        }
        acc
    });
    assert!(all.get("304").copied().unwrap_or(0) >= 1, "{all:?}");
    assert!(all.get("5xx").copied().unwrap_or(0) >= 1, "{all:?}");
    assert!(all.get("4xx").copied().unwrap_or(0) >= 1, "{all:?}");

    // The quota is GitHub's own per token; the token itself is never shown.
    for (i, token) in TOKENS.iter().enumerate() {
        let t = &body["tokens"][i];
        assert_eq!(t["index"], i, "{body:#}");
        assert_eq!(t["fingerprint"].as_str().map(str::len), Some(8), "{body:#}");
        if t["limit"].is_null() {
            continue; // only the replica used it
        }
        let (limit, _, reset) = gh.rate_limit_of(token);
        assert_eq!(t["limit"], limit, "{body:#}");
        let reset_at = chrono::DateTime::from_timestamp(reset, 0).expect("reset");
        assert_eq!(
            t["reset_at"]
                .as_str()
                .map(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok()),
            Some(Some(reset_at)),
            "{body:#}"
        );
        assert!(t["forecast"]["more_repositories"].as_i64().expect("n") > 0);
    }
    let text = body.to_string();
    assert!(TOKENS.iter().all(|t| !text.contains(t)), "{text}");

    // The same figures in /metrics.
    let metrics = app.get("/metrics", None).await.text().await.expect("text");
    let first = &body["tokens"][0];
    let line = format!(
        "gitpulse_github_token_requests_last_hour{{token=\"0:{}\",outcome=\"200\"}} {}",
        first["fingerprint"].as_str().expect("fp"),
        first["requests_last_hour"]["200"]
    );
    assert!(metrics.contains(&line), "{line}\n{metrics}");
    assert!(TOKENS.iter().all(|t| !metrics.contains(t)));
}

#[tokio::test]
async fn the_budget_needs_a_session_or_a_key_that_reads_tracking() {
    let gh = FakeGitHub::start().await;
    let app = TestApp::with_github(&gh, |c| c.scheduler_enabled = false).await;
    let (status, _) = json_of(app.get("/github/budget", None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let user = app.register("operator").await;
    let (status, created) = json_of(
        app.post_json(
            "/api/v1/api-keys/",
            &json!({"name": "pusher", "scopes": "sync:commits"}),
            Some(&user),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["full_key"].as_str().expect("key");
    let (status, _) = json_of(app.get("/github/budget", Some(key)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Without GITHUB_TOKENS: one anonymous slot, nothing asked yet.
    let body = budget(&app, &user).await;
    assert_eq!(body["tokens"][0]["fingerprint"], "anonymous", "{body}");
    assert_eq!(
        body["tokens"][0]["requests_last_hour"]["total"], 0,
        "{body}"
    );
}
