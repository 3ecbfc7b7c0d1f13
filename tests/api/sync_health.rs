//! `GET /sync/health` and the lag gauges of `/metrics` (issue 15, part 2).

use fake_github::{FakeGitHub, Fault};
use gitpulse::jobs::poller::poll_due;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::integration::{oauth_config, seed, sign_in, wait_for_sync};
use crate::support::{TestApp, json_of};

async fn health(app: &TestApp, token: &str) -> Value {
    let (status, body) = json_of(app.get("/sync/health", Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn item<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .and_then(|items| items.iter().find(|i| i["name"] == name))
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[tokio::test]
async fn a_repository_whose_polls_fail_is_failing_and_a_quiet_one_is_ok() {
    let gh = FakeGitHub::start().await;
    let app = TestApp::with_github(&gh, |c| c.scheduler_enabled = false).await;
    let token = app.register("watcher").await;
    for name in ["quiet", "broken"] {
        gh.add_repo("acme", name);
        let body = json!({"owner": "acme", "name": name});
        let (status, answer) =
            json_of(app.post_json("/repositories", &body, Some(&token)).await).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    // Every attempt of broken's poll (the first and both retries) is a 502.
    for _ in 0..3 {
        gh.fail_next("/repos/acme/broken/events", Fault::Status(502));
    }
    poll_due(&app.state).await.expect("poll");

    let body = health(&app, &token).await;
    assert_eq!(body["status"], "failing", "{body}");
    let quiet = item(&body["repositories"], "acme/quiet");
    assert_eq!(quiet["status"], "ok", "{body}");
    assert!(quiet["last_success"].is_string(), "{body}");
    assert!(quiet["last_error"].is_null(), "{body}");
    assert!(quiet["next_run"].is_string(), "{body}");
    assert_eq!(quiet["event_gaps"], 0, "{body}");
    assert_eq!(quiet["interval_secs"], 300, "{body}");
    let broken = item(&body["repositories"], "acme/broken");
    assert_eq!(broken["status"], "failing", "{body}");
    assert!(broken["last_success"].is_null(), "{body}");
    assert!(
        broken["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("502")),
        "{body}"
    );
    // Nothing else is tracked; no integration.
    assert_eq!(body["accounts"], json!([]));
    assert_eq!(body["pull_repositories"], json!([]));
    assert_eq!(body["backups"], json!([]));
    assert!(body["integration"].is_null());

    // The quiet one, not polled for over twice its interval, is stale.
    sqlx::query(
        "update repositories set last_synchronized = now() - interval '11 minutes'
         where name = 'quiet'",
    )
    .execute(&app.state.db)
    .await
    .expect("age it");
    let body = health(&app, &token).await;
    assert_eq!(item(&body["repositories"], "acme/quiet")["status"], "stale");

    // The same in /metrics, across users.
    let text = app.get("/metrics", None).await.text().await.expect("text");
    assert!(
        text.contains("gitpulse_sync_failing{kind=\"repository\"} 1"),
        "{text}"
    );
    let lag: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("gitpulse_sync_lag_seconds{kind=\"repository\"} "))
        .expect("repository lag")
        .parse()
        .expect("number");
    assert!(lag >= 11.0 * 60.0 - 1.0, "{text}");

    // Another user sees nothing of this.
    let other = app.register("stranger").await;
    let body = health(&app, &other).await;
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["repositories"], json!([]));
}

#[tokio::test]
async fn the_integration_is_reported_and_an_api_key_sees_only_its_sections() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = TestApp::with_github(&gh, oauth_config).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;

    let body = health(&app, &token).await;
    let integration = &body["integration"];
    assert_eq!(integration["name"], "octocat", "{body}");
    assert_eq!(integration["status"], "ok", "{body}");
    assert_eq!(integration["state"], "finished", "{body}");
    assert!(integration["last_success"].is_string(), "{body}");
    assert!(integration["next_run"].is_string(), "{body}");
    assert_eq!(integration["interval_secs"], 3600, "{body}");
    assert_eq!(integration["counts"]["commits"], 108, "{body}");

    // A key that reads only tracking data sees no integration and no backups.
    let (status, created) = json_of(
        app.post_json(
            "/api/v1/api-keys/",
            &json!({"name": "dashboard", "scopes": "read:tracking"}),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["full_key"].as_str().expect("key");
    let body = health(&app, key).await;
    assert_eq!(body["repositories"], json!([]), "{body}");
    assert!(body["integration"].is_null(), "{body}");
    assert!(body["backups"].is_null(), "{body}");
    assert!(body["pull_repositories"].is_null(), "{body}");

    // A key without any read scope is refused.
    let (status, created) = json_of(
        app.post_json(
            "/api/v1/api-keys/",
            &json!({"name": "pusher", "scopes": "sync:commits"}),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let pusher = created["full_key"].as_str().expect("key");
    let (status, body) = json_of(app.get("/sync/health", Some(pusher)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = json_of(app.get("/sync/health", None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A revoked token makes the integration failing, with the reason.
    gh.revoke_tokens_of("octocat");
    let (status, _) = json_of(
        app.post_json("/integration/resync", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body = health(&app, &token).await;
    assert_eq!(body["status"], "failing", "{body}");
    assert_eq!(body["integration"]["status"], "failing", "{body}");
    assert!(body["integration"]["next_run"].is_null(), "{body}");
    assert!(
        body["integration"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("sign in with GitHub again")),
        "{body}"
    );
}
