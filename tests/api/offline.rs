//! What gitpulse answers when GitHub is unreachable (`GITHUB_API_URL=http://127.0.0.1:1`):
//! the README's "Offline behaviour" table, row by row. Data is made by a server that reaches
//! the fake GitHub; a replica over the same database then finds GitHub unreachable.

use fake_github::{DEMO_LOGIN, FakeGitHub};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::integration::{oauth_app, wait_for_sync};
use crate::support::{TestApp, json_of, with_token};

/// An address nothing listens on.
const UNREACHABLE: &str = "http://127.0.0.1:1";

/// Operations that ask GitHub while answering; their documented 503 carries `Retry-After`.
const ASK_GITHUB: [(&str, &str); 5] = [
    ("post", "/repositories"),
    ("post", "/repository"),
    ("put", "/v1/users"),
    ("get", "/auth/github/callback"),
    ("post", "/integration/resync"),
];

fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Status, `Retry-After` and body of a request to `app`.
async fn ask(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    token: &str,
) -> (StatusCode, Option<u64>, Value) {
    let mut request = with_token(app.request(method, path), Some(token));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("sent");
    let wait = retry_after(&response);
    let (status, body) = json_of(response).await;
    (status, wait, body)
}

#[tokio::test]
async fn routes_that_ask_github_answer_503_with_retry_after_and_the_rest_work() {
    let gh = FakeGitHub::start().await;
    gh.seed_demo_world(0);
    gh.set_authorize_as(DEMO_LOGIN);
    let online = oauth_app(&gh).await;
    let alice = online.register("alice").await;
    let added = online
        .post_json(
            "/repositories",
            &json!({"owner": "acme", "name": "widgets"}),
            Some(&alice),
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let signed_in = reqwest::get(format!("{}/auth/github/login", online.url))
        .await
        .expect("sent");
    let (status, body) = json_of(signed_in).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let octocat = body["access_token"].as_str().expect("token").to_string();
    wait_for_sync(&online, &octocat).await;

    let offline = online
        .replica_with(|c| {
            c.github_api_url = UNREACHABLE.into();
            c.github_web_url = UNREACHABLE.into();
        })
        .await;
    let unavailable = "GitHub is unavailable; try again later";
    use reqwest::Method;
    for (method, path, body, message) in [
        (
            Method::POST,
            "/repositories",
            json!({"owner": "acme", "name": "gadgets"}),
            unavailable,
        ),
        (
            Method::POST,
            "/repository",
            json!({"owner": "acme", "name": "gadgets"}),
            unavailable,
        ),
        (
            Method::PUT,
            "/v1/users",
            json!({"login": "octocat"}),
            unavailable,
        ),
        (
            Method::POST,
            "/integration/resync",
            json!({}),
            "Resync failed: GitHub is unavailable; try again later",
        ),
    ] {
        let token = if path.starts_with("/integration") {
            &octocat
        } else {
            &alice
        };
        let (status, wait, answer) = ask(&offline, method, path, Some(body), token).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {answer}");
        assert_eq!(answer["message"], message, "{path}");
        assert_eq!(wait, Some(30), "{path}");
    }

    // In the background, a resync fails into the status.
    let path = "/integration/resync?wait=false";
    let (status, _, answer) = ask(&offline, Method::POST, path, None, &octocat).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let after = wait_for_sync(&offline, &octocat).await;
    assert_eq!(after["status"], "error", "{after}");
    assert_eq!(after["sync"]["state"], "failed", "{after}");

    // A repository somebody already tracks is added without asking GitHub.
    let bob = offline.register("bob").await;
    let body = json!({"owner": "acme", "name": "widgets"});
    let (status, _, answer) = ask(&offline, Method::POST, "/repositories", Some(body), &bob).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // The login still redirects (GitHub is not asked); the callback cannot finish.
    let no_redirects = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let login = no_redirects
        .get(format!("{}/auth/github/login", offline.url))
        .send()
        .await
        .expect("sent");
    assert_eq!(login.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = login.headers()["location"].to_str().expect("ascii");
    assert!(location.starts_with(UNREACHABLE), "{location}");
    let state = location.rsplit_once("state=").expect("state").1.to_string();
    let callback = format!("/auth/github/callback?code=abc&state={state}");
    let (status, wait, answer) = ask(&offline, Method::GET, &callback, None, &alice).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(
        answer["message"],
        "GitHub is unavailable, so the sign-in could not finish; try again later from /auth/github/login"
    );
    assert_eq!(wait, Some(30));

    // Everything else reads what is stored.
    for (path, token) in [
        ("/repositories", &alice),
        ("/repository/all/stats", &alice),
        ("/v1/users", &alice),
        ("/integration/status", &octocat),
        ("/data/github_repos", &octocat),
        ("/search?q=widget", &octocat),
    ] {
        let (status, _, answer) = ask(&offline, Method::GET, path, None, token).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    }
}

#[test]
fn routes_that_ask_github_document_503_with_retry_after() {
    let doc = serde_json::to_value(gitpulse::http::openapi()).expect("json");
    for (method, path) in ASK_GITHUB {
        let answer = &doc["paths"][path][method]["responses"]["503"];
        assert!(
            answer["description"]
                .as_str()
                .is_some_and(|d| d.contains("GitHub is unavailable")),
            "{method} {path}: {answer}"
        );
        assert!(
            answer["headers"]["Retry-After"].is_object(),
            "{method} {path}: {answer}"
        );
    }
}
