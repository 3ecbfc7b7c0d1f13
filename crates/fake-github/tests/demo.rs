//! Real HTTP against the pieces the standalone binary's demo relies on: the auto-approving
//! OAuth authorize step.

use fake_github::FakeGitHub;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

async fn get(gh: &FakeGitHub, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = client().get(format!("{}{path}", gh.url()));
    if let Some(token) = token {
        request = request.header("authorization", format!("token {token}"));
    }
    request.send().await.expect("request")
}

async fn json(gh: &FakeGitHub, path: &str, token: Option<&str>) -> Value {
    let response = get(gh, path, token).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.expect("json")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii").to_string())
}

#[tokio::test]
async fn authorize_is_a_stand_in_page_until_told_who_signs_in() {
    let gh = FakeGitHub::start().await;
    let page = get(
        &gh,
        "/login/oauth/authorize?client_id=c&redirect_uri=http://app/cb&state=s",
        None,
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        header(&page, "content-type")
            .expect("type")
            .starts_with("text/html")
    );
}

/// Exchanges `code`; the answer's `access_token` or `error`.
async fn exchange(gh: &FakeGitHub, code: &str) -> Value {
    client()
        .post(format!("{}/login/oauth/access_token", gh.url()))
        .header("accept", "application/json")
        .form(&[("client_id", "c"), ("client_secret", "s"), ("code", code)])
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn authorize_as_redirects_back_with_a_code_that_works_once() {
    let gh = FakeGitHub::start().await;
    gh.set_authorize_as("octocat");
    let response = get(
        &gh,
        "/login/oauth/authorize?client_id=c&redirect_uri=http%3A%2F%2Fapp.test%2Fcb&scope=repo&state=a%2Bb%3D",
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = header(&response, "location").expect("location");
    let url = reqwest::Url::parse(&location).expect("url");
    assert_eq!(url.as_str().split('?').next(), Some("http://app.test/cb"));
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        param("state").as_deref(),
        Some("a+b="),
        "state comes back as sent"
    );
    let code = param("code").expect("code");

    let granted = exchange(&gh, &code).await;
    let token = granted["access_token"].as_str().expect("token").to_string();
    let user = json(&gh, "/user", Some(&token)).await;
    assert_eq!(user["login"], "octocat");
    assert_eq!(
        exchange(&gh, &code).await["error"],
        "bad_verification_code",
        "a code works once"
    );

    let second = get(
        &gh,
        "/login/oauth/authorize?client_id=c&redirect_uri=http://app.test/cb?x=1",
        None,
    )
    .await;
    let location = header(&second, "location").expect("location");
    assert!(
        location.starts_with("http://app.test/cb?x=1&code="),
        "{location}"
    );
    assert!(!location.contains("state="), "no state sent, none returned");
    assert_ne!(location, url.as_str(), "a fresh code each time");

    for (query, problem) in [
        ("client_id=c", "redirect_uri is required"),
        ("client_id=c&redirect_uri=", "redirect_uri is required"),
        ("redirect_uri=http://app.test/cb", "client_id is required"),
        (
            "client_id=c&redirect_uri=javascript:alert(1)",
            "redirect_uri must be an absolute http(s) URL",
        ),
    ] {
        let refused = get(&gh, &format!("/login/oauth/authorize?{query}"), None).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = refused.json().await.expect("json");
        assert_eq!(body["message"], problem, "{query}");
    }
}
