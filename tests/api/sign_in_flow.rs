//! "Sign in with GitHub" as a browser does it, over the demo world: gitpulse's login
//! redirects to the fake GitHub, whose authorize step approves at once (`set_authorize_as`)
//! and redirects to gitpulse's callback, which answers the JSON with a gitpulse token. The
//! same walk `curl -L` does in the README's quick start.

use fake_github::{DEMO_LOGIN, FakeGitHub};
use reqwest::StatusCode;
use serde_json::Value;

use crate::integration::{oauth_app, wait_for_sync};
use crate::support::{TestApp, json_of};

/// A client that follows redirects, as a browser (or `curl -L`) does.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().build().expect("client")
}

async fn demo_app() -> (FakeGitHub, TestApp) {
    let gh = FakeGitHub::start().await;
    gh.seed_demo_world(0);
    gh.set_authorize_as(DEMO_LOGIN);
    let app = oauth_app(&gh).await;
    (gh, app)
}

/// `GET /auth/github/login` (with `token`, to link) followed to its end.
async fn follow_login(app: &TestApp, token: Option<&str>) -> (reqwest::Url, StatusCode, Value) {
    let mut request = browser().get(format!("{}/auth/github/login", app.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("sent");
    let url = response.url().clone();
    let (status, body) = json_of(response).await;
    (url, status, body)
}

async fn total(app: &TestApp, token: &str, collection: &str) -> i64 {
    let path = format!("/data/{collection}?limit=1");
    let (status, body) = json_of(app.get(&path, Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["pagination"]["total_items"].as_i64().expect("total")
}

#[tokio::test]
async fn following_the_redirects_signs_in_and_syncs_every_collection() {
    let (gh, app) = demo_app().await;

    let (url, status, body) = follow_login(&app, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(url.path(), "/auth/github/callback", "ended at gitpulse");
    assert_eq!(body["message"], "GitHub integration successful");
    assert_eq!(body["user"]["login"], "octocat");
    let token = body["access_token"].as_str().expect("token").to_string();
    let (_, me) = json_of(app.get("/auth/me", Some(&token)).await).await;
    assert_eq!(me["username"], "octocat");
    assert_eq!(me["github_login"], "octocat");

    // Each step was taken once: the authorize page and one exchange of its code.
    let requests = gh.requests();
    let count = |path: &str| requests.iter().filter(|r| r.path == path).count();
    assert_eq!(count("/login/oauth/authorize"), 1);
    assert_eq!(count("/login/oauth/access_token"), 1);

    let status = wait_for_sync(&app, &token).await;
    assert_eq!(status["status"], "connected", "{status}");
    for collection in gitpulse::data::COLLECTIONS {
        assert!(
            total(&app, &token, collection).await > 0,
            "{collection} is empty: {status}"
        );
    }
}

#[tokio::test]
async fn following_the_redirects_with_a_token_links_github_to_that_user() {
    let (_gh, app) = demo_app().await;
    let alice = app.register("alice").await;

    let (_, status, body) = follow_login(&app, Some(&alice)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().expect("token");
    let (_, me) = json_of(app.get("/auth/me", Some(token)).await).await;
    assert_eq!(me["username"], "alice", "linked, not a new user: {me}");
    assert_eq!(me["github_login"], "octocat");
    wait_for_sync(&app, token).await;

    // Signing in again (no token) finds the linked user.
    let (_, status, body) = follow_login(&app, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let again = body["access_token"].as_str().expect("token");
    let (_, me) = json_of(app.get("/auth/me", Some(again)).await).await;
    assert_eq!(me["username"], "alice");
}
