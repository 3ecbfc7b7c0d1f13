//! Background resyncs of GitHub integrations (issue 15, part 1): changes on GitHub arrive
//! without anyone asking, full passes remove what GitHub deleted, a revoked token stops
//! the syncs once, and one integration is never claimed twice.

use std::time::{Duration, Instant};

use chrono::Utc;
use fake_github::{FakeGitHub, Fault};
use gitpulse::config::Config;
use gitpulse::store::integrations;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::integration::{oauth_config, seed, sign_in, wait_for_sync};
use crate::support::{TestApp, json_of};

/// OAuth as in `integration`, the scheduler on, a background resync every second.
fn resync_every_second(config: &mut Config) {
    oauth_config(config);
    config.scheduler_enabled = true;
    config.integration_sync_interval_secs = 1;
}

/// The first 100 documents of `collection`.
async fn documents(app: &TestApp, token: &str, collection: &str) -> Vec<Value> {
    json_of(
        app.get(&format!("/data/{collection}?limit=100"), Some(token))
            .await,
    )
    .await
    .1["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// How many documents `collection` has.
async fn total(app: &TestApp, token: &str, collection: &str) -> i64 {
    let (status, body) = json_of(
        app.get(&format!("/data/{collection}?limit=1"), Some(token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["pagination"]["total_items"].as_i64().expect("total")
}

/// Waits (at most 20 s) until `check` holds for the documents of `collection`.
async fn eventually(
    app: &TestApp,
    token: &str,
    collection: &str,
    what: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let docs = documents(app, token, collection).await;
        if check(&docs) {
            return docs;
        }
        assert!(Instant::now() < deadline, "{what}: {docs:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn status(app: &TestApp, token: &str) -> Value {
    let (status, body) = json_of(app.get("/integration/status", Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn changes_on_github_arrive_with_the_next_background_resync() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = TestApp::with_github(&gh, resync_every_second).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;
    let issues = documents(&app, &token, "github_issues").await;
    assert_eq!(issues[0]["state"], "open", "{issues:#?}");
    let commits_before = total(&app, &token, "github_commits").await;

    // On GitHub: the issue is edited and closed, the pull request merged, a commit pushed,
    // a repository renamed.
    gh.edit_issue("acme", "widgets", 1, "Crash on start (fixed)");
    gh.close_issue("acme", "widgets", 1);
    gh.merge_pull("acme", "widgets", 2);
    gh.add_commit(
        "octocat",
        "hello-world",
        "Arrives on its own",
        "octocat",
        Utc::now(),
    );
    gh.rename_repo("octocat", "empty", "not-empty-any-more");

    let issues = eventually(&app, &token, "github_issues", "issue closed", |docs| {
        docs.first().is_some_and(|d| d["state"] == "closed")
    })
    .await;
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0]["title"], "Crash on start (fixed)");
    assert!(issues[0]["closed_at"].is_string(), "{issues:#?}");
    let pulls = eventually(&app, &token, "github_pulls", "pull merged", |docs| {
        docs.first().is_some_and(|d| d["merged_at"].is_string())
    })
    .await;
    assert_eq!(pulls[0]["state"], "closed");
    let deadline = Instant::now() + Duration::from_secs(20);
    while total(&app, &token, "github_commits").await != commits_before + 1 {
        assert!(Instant::now() < deadline, "the new commit never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let commits = documents(&app, &token, "github_commits").await;
    assert!(
        commits
            .iter()
            .any(|c| c["commit"]["message"] == "Arrives on its own"),
        "newest first: {commits:#?}"
    );
    let repos = eventually(&app, &token, "github_repos", "renamed repo", |docs| {
        docs.iter().any(|d| d["name"] == "not-empty-any-more")
    })
    .await;
    assert_eq!(repos.len(), 3, "renamed in place, same id: {repos:#?}");
    assert!(repos.iter().all(|d| d["name"] != "empty"), "{repos:#?}");

    // The timer is visible, and the background syncs were incremental (nothing removed).
    // (With a 1-second interval the next one may be running already.)
    let body = status(&app, &token).await;
    assert!(
        body["status"] == "connected" || body["status"] == "syncing",
        "{body}"
    );
    assert!(body["next_sync_at"].is_string(), "{body}");
    assert_eq!(body["sync"]["counts"]["removed"], 0, "{body}");
}

#[tokio::test]
async fn incremental_resyncs_keep_deleted_items_and_a_full_pass_removes_them() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    // The scheduler is off: every sync here is requested, so each answer is its own.
    let app = TestApp::with_github(&gh, oauth_config).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;
    gh.delete_issue("acme", "widgets", 1);
    gh.remove_repo("octocat", "empty");

    // An incremental sync only adds: the documents are still there.
    let (status, body) = json_of(
        app.post_json("/integration/resync", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stats"]["removed"], 0, "{body}");
    assert_eq!(documents(&app, &token, "github_issues").await.len(), 1);
    assert_eq!(documents(&app, &token, "github_repos").await.len(), 3);

    // A full pass removes them and counts them.
    let (status, body) = json_of(
        app.post_json("/integration/resync?full=true", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["stats"]["removed"], 2,
        "the issue and the repository: {body}"
    );
    assert!(documents(&app, &token, "github_issues").await.is_empty());
    let repos = documents(&app, &token, "github_repos").await;
    assert_eq!(repos.len(), 2, "{repos:#?}");
    assert_eq!(documents(&app, &token, "github_pulls").await.len(), 1);
    assert_eq!(total(&app, &token, "github_commits").await, 108);
}

#[tokio::test]
async fn a_background_full_pass_removes_an_issue_deleted_on_github() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = TestApp::with_github(&gh, |config| {
        resync_every_second(config);
        config.integration_full_sync_interval_secs = 2;
    })
    .await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;
    assert_eq!(documents(&app, &token, "github_issues").await.len(), 1);
    gh.delete_issue("acme", "widgets", 1);

    eventually(
        &app,
        &token,
        "github_issues",
        "issue removed",
        <[Value]>::is_empty,
    )
    .await;
    // The pull request (same list on GitHub's side) and the rest stay.
    assert_eq!(documents(&app, &token, "github_pulls").await.len(), 1);
    assert_eq!(total(&app, &token, "github_commits").await, 108);
    let row = integrations::find_for_user(&app.state.db, me_id(&app, &token).await)
        .await
        .expect("query")
        .expect("integration");
    assert!(row.last_full_sync.is_some(), "{row:?}");
}

async fn me_id(app: &TestApp, token: &str) -> i64 {
    let (_, me) = json_of(app.get("/auth/me", Some(token)).await).await;
    me["id"].as_i64().expect("id")
}

#[tokio::test]
async fn a_revoked_token_marks_the_integration_error_once_until_the_user_reconnects() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = TestApp::with_github(&gh, resync_every_second).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;

    let revoked = gh.revoke_tokens_of("octocat");
    assert_eq!(revoked.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let body = status(&app, &token).await;
        if body["status"] == "error" {
            break body;
        }
        assert!(Instant::now() < deadline, "never marked error: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let error = body["sync"]["error"].as_str().expect("error message");
    assert!(error.contains("401"), "{error}");
    assert!(error.contains("sign in with GitHub again"), "{error}");
    assert!(body["next_sync_at"].is_null(), "waits for the user: {body}");

    // Three more intervals: no retry storm, the token was tried exactly once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let tried = gh.requests_with_token(&revoked[0]);
    let refused: Vec<_> = tried.iter().filter(|r| r.status == 401).collect();
    let seen: Vec<_> = refused.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(refused.len(), 1, "{seen:#?}");
    assert_eq!(status(&app, &token).await["status"], "error");

    // Signing in with GitHub again reconnects: background syncs resume with the new token.
    sign_in(&app, &gh, "octocat", Some(&token)).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let body = status(&app, &token).await;
        if body["status"] == "connected" && body["sync"]["state"] == "finished" {
            break;
        }
        assert!(Instant::now() < deadline, "never reconnected: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = gh
        .requests_with_token(&revoked[0])
        .into_iter()
        .filter(|r| r.status == 401)
        .count();
    assert_eq!(refused, 1, "the old token is not tried again");
}

#[tokio::test]
async fn a_due_integration_is_claimed_once_across_replicas() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = TestApp::with_github(&gh, oauth_config).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;
    let replica = app.replica().await;
    let db = app.state.db.clone();
    sqlx::query("update github_integrations set next_sync_at = now() - interval '1 second'")
        .execute(&db)
        .await
        .expect("make it due");

    // Both replicas claim at once: one gets it, the other finds nothing due.
    let (a, b) = tokio::join!(
        integrations::claim_due(&app.state.db, 3600.0),
        integrations::claim_due(&replica.state.db, 3600.0),
    );
    let claims = [a.expect("claim"), b.expect("claim")];
    assert_eq!(claims.iter().filter(|c| c.is_some()).count(), 1);
    // Not claimable again while its lease is held.
    assert!(
        integrations::claim_due(&db, 3600.0)
            .await
            .expect("claim")
            .is_none()
    );
}

#[tokio::test]
async fn other_failures_back_off_exponentially_and_a_success_resets_it() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = TestApp::with_github(&gh, oauth_config).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;
    let user_id = me_id(&app, &token).await;
    let schedule = || async {
        let row = integrations::find_for_user(&app.state.db, user_id)
            .await
            .expect("query")
            .expect("integration");
        let finished = row.sync_finished_at.expect("finished");
        let wait = row.next_sync_at.expect("scheduled") - finished;
        (row.sync_failures, wait.num_seconds(), row.needs_reconnect)
    };
    assert_eq!(schedule().await, (0, 3600, false));

    // GitHub fails twice in a row (each time the first attempt and both retries): the wait
    // doubles per failure, and the integration still syncs in the background.
    for expected in [(1, 7200, false), (2, 14_400, false)] {
        for _ in 0..3 {
            gh.fail_next("/user/orgs", Fault::Status(502));
        }
        let (status, body) = json_of(
            app.post_json("/integration/resync", &json!({}), Some(&token))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(schedule().await, expected);
    }
    assert!(status(&app, &token).await["next_sync_at"].is_string());

    // A sync that works goes back to the interval.
    let (status_code, body) = json_of(
        app.post_json("/integration/resync", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status_code, StatusCode::OK, "{body}");
    assert_eq!(schedule().await, (0, 3600, false));
}
