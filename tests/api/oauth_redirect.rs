//! "Sign in with GitHub" for a single-page app: `redirect_to` (origins in `FRONTEND_URLS`)
//! ends the callback in a 302 back to the app with the outcome in the URL fragment.

use fake_github::FakeGitHub;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;

use crate::integration::{callback, oauth_config};
use crate::support::{TestApp, json_of};

const APP: &str = "http://localhost:5173";

async fn spa_app(gh: &FakeGitHub) -> TestApp {
    TestApp::with_github(gh, |config| {
        oauth_config(config);
        config.frontend_urls = vec![APP.into()];
    })
    .await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// `GET /auth/github/login?redirect_to=…`: the status, and the `state` when it redirected.
async fn start(app: &TestApp, redirect_to: &str) -> (StatusCode, Option<String>, Value) {
    let response = no_redirects()
        .get(format!("{}/auth/github/login", app.url))
        .query(&[("redirect_to", redirect_to)])
        .send()
        .await
        .expect("sent");
    let status = response.status();
    if status != StatusCode::TEMPORARY_REDIRECT {
        let (_, body) = json_of(response).await;
        return (status, None, body);
    }
    let location = reqwest::Url::parse(response.headers()["location"].to_str().expect("ascii"))
        .expect("absolute");
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned());
    (status, state, Value::Null)
}

/// The callback's 302: the `Location` before `#` and the fragment's pairs.
async fn callback_redirect(app: &TestApp, query: &str) -> (String, Vec<(String, String)>) {
    let response = no_redirects()
        .get(format!("{}/auth/github/callback?{query}", app.url))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let location = response.headers()["location"].to_str().expect("ascii");
    let (base, fragment) = location.split_once('#').expect("a fragment");
    let pairs = url::form_urlencoded::parse(fragment.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    (base.to_string(), pairs)
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

async fn states(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from oauth_states")
        .fetch_one(&app.state.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_single_page_app_gets_the_token_in_the_fragment() {
    let gh = FakeGitHub::start().await;
    gh.add_user("octocat", Some("The Octocat"));
    let app = spa_app(&gh).await;
    let back = format!("{APP}/after-login?tab=repos");
    let (status, state, body) = start(&app, &back).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT, "{body}");
    let state = state.expect("state");
    gh.add_oauth_code("spa-code", "octocat");

    let (base, pairs) = callback_redirect(&app, &format!("code=spa-code&state={state}")).await;
    assert_eq!(base, back);
    assert_eq!(get(&pairs, "token_type"), Some("bearer"));
    assert_eq!(get(&pairs, "expires_in"), Some("3600"));
    let token = get(&pairs, "access_token").expect("token");
    let (status, me) = json_of(app.get("/auth/me", Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["github_login"], "octocat");
}

#[tokio::test]
async fn failures_after_the_state_is_known_go_back_to_the_app() {
    let gh = FakeGitHub::start().await;
    gh.add_user("octocat", None);
    let app = spa_app(&gh).await;

    // The person declined on GitHub.
    let (_, state, _) = start(&app, APP).await;
    let state = state.expect("state");
    let query = format!("error=access_denied&error_description=The+user+declined&state={state}");
    let (base, pairs) = callback_redirect(&app, &query).await;
    assert_eq!(base, format!("{APP}/"));
    assert_eq!(get(&pairs, "error"), Some("access_denied"));
    assert!(
        get(&pairs, "error_description").is_some_and(|d| d.contains("The user declined")),
        "{pairs:?}"
    );
    assert_eq!(get(&pairs, "access_token"), None);

    // GitHub refused the code.
    let (_, state, _) = start(&app, APP).await;
    let state = state.expect("state");
    let (_, pairs) = callback_redirect(&app, &format!("code=nope&state={state}")).await;
    assert_eq!(get(&pairs, "error"), Some("invalid_request"), "{pairs:?}");
    assert!(
        get(&pairs, "error_description").is_some_and(|d| d.contains("bad_verification_code")),
        "{pairs:?}"
    );
    // Reusing the spent state.
    gh.add_oauth_code("late", "octocat");
    let (_, pairs) = callback_redirect(&app, &format!("code=late&state={state}")).await;
    assert!(
        get(&pairs, "error_description").is_some_and(|d| d.contains("already used")),
        "{pairs:?}"
    );
    // GitHub unreachable during the exchange.
    let (_, state, _) = start(&app, APP).await;
    let state = state.expect("state");
    gh.add_oauth_code("down", "octocat");
    gh.fail_next("/login/oauth/access_token", fake_github::Fault::Status(502));
    let (_, pairs) = callback_redirect(&app, &format!("code=down&state={state}")).await;
    assert_eq!(
        get(&pairs, "error"),
        Some("temporarily_unavailable"),
        "{pairs:?}"
    );

    // An unknown state has no redirect_to: JSON, as without one.
    let (status, body) = callback(&app, "x", "made-up").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn an_origin_not_allowed_is_a_400_before_anything_is_stored() {
    let gh = FakeGitHub::start().await;
    let app = spa_app(&gh).await;
    for (bad, why) in [
        ("https://evil.example.com/steal", "not in FRONTEND_URLS"),
        ("http://localhost:5174/", "not in FRONTEND_URLS"),
        ("http://localhost.evil.net:5173/", "not in FRONTEND_URLS"),
        ("/after-login", "absolute"),
        ("javascript:alert(1)", "absolute"),
        ("http://localhost:5173/#frag", "fragment"),
        ("http://user@localhost:5173/", "user name"),
    ] {
        let (status, _, body) = start(&app, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        let message = body["message"].as_str().expect("message");
        assert!(message.contains(why), "{bad}: {message}");
    }
    assert_eq!(states(&app).await, 0, "nothing was stored");

    // Without FRONTEND_URLS the CORS origins are the allow-list; with neither, only the
    // server's own origin.
    let cors = TestApp::with_github(&gh, |config| {
        oauth_config(config);
        config.cors_origins = vec![APP.into()];
    })
    .await;
    let (status, _, body) = start(&cors, &format!("{APP}/x")).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT, "{body}");
    let none = TestApp::with_github(&gh, oauth_config).await;
    let (status, _, body) = start(&none, &format!("{APP}/x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("m")
            .contains("FRONTEND_URLS")
    );
}

#[tokio::test]
async fn the_dashboards_own_origin_is_accepted_without_configuration() {
    let gh = FakeGitHub::start().await;
    gh.add_user("octocat", None);
    // Neither FRONTEND_URLS nor CORS_ORIGINS: PUBLIC_URL (the test server's address) only.
    let app = TestApp::with_github(&gh, oauth_config).await;
    let dashboard = format!("{}/", app.url);
    let (status, state, body) = start(&app, &dashboard).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT, "{body}");
    gh.add_oauth_code("own-code", "octocat");
    let query = format!("code=own-code&state={}", state.expect("state"));
    let (base, pairs) = callback_redirect(&app, &query).await;
    assert_eq!(base, dashboard);
    let token = get(&pairs, "access_token").expect("token");
    let (status, me) = json_of(app.get("/auth/me", Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{me}");

    // Another port of the same host is another origin.
    let other = app.url.rsplit_once(':').expect("port").0.to_string() + ":1/";
    let (status, _, body) = start(&app, &other).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
