//! "Sign in with GitHub" and the integration's sync, against the fake GitHub: the OAuth
//! flow by hand (state from the redirect), what gets stored, incremental resyncs, removal.

use std::time::{Duration, Instant};

use chrono::Utc;
use fake_github::FakeGitHub;
use gitpulse::config::{Config, Secret};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::support::{TestApp, json_of, with_token};

pub const TEST_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// OAuth configured, a fixed encryption key, the scheduler off.
pub fn oauth_config(config: &mut Config) {
    config.github_client_id = Some("client-123".into());
    config.github_client_secret = Some(Secret::new("client-secret"));
    config.token_encryption_key = Some(Secret::new(TEST_KEY));
    config.scheduler_enabled = false;
}

pub async fn oauth_app(gh: &FakeGitHub) -> TestApp {
    TestApp::with_github(gh, oauth_config).await
}

/// octocat, member of the acme organization (with hubot); three repositories (one empty,
/// one only reachable through the organization) with commits, a pull request, an issue and
/// an issue event. `widgets` has 105 commits: two pages.
pub fn seed(gh: &FakeGitHub) {
    gh.add_user("octocat", Some("The Octocat"));
    gh.add_org("acme", "Acme Corporation");
    gh.add_org_member("acme", "octocat");
    gh.add_org_member("acme", "hubot");
    gh.add_repo("octocat", "hello-world");
    gh.add_repo("octocat", "empty");
    gh.add_repo("acme", "widgets");
    let day = Utc::now() - chrono::Duration::days(30);
    gh.add_commit(
        "octocat",
        "hello-world",
        "Fix the login bug",
        "octocat",
        day,
    );
    gh.add_commit(
        "octocat",
        "hello-world",
        "Add README",
        "Monalisa Octocat",
        day,
    );
    gh.add_commit(
        "octocat",
        "hello-world",
        "Refactor the parser",
        "octocat",
        day,
    );
    for i in 0..105 {
        let at = day + chrono::Duration::minutes(i);
        gh.add_commit(
            "acme",
            "widgets",
            &format!("Widget change {i}"),
            "hubot",
            at,
        );
    }
    let issue = gh.add_issue("acme", "widgets", "Crash on start", "It crashes.", "hubot");
    gh.add_pull(
        "acme",
        "widgets",
        "Add turbo mode",
        "Faster widgets.",
        "octocat",
    );
    gh.add_issue_event("acme", "widgets", issue, "labeled", "octocat");
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// `GET /auth/github/login` (with `token` if given) and the `state` of its redirect.
pub async fn start_login(app: &TestApp, token: Option<&str>) -> String {
    let request = no_redirects().get(format!("{}/auth/github/login", app.url));
    let response = with_token(request, token).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let url = reqwest::Url::parse(&location).expect("absolute URL");
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {name} in {location}"))
    };
    assert!(url.path().ends_with("/login/oauth/authorize"), "{location}");
    assert_eq!(param("client_id"), "client-123");
    assert_eq!(param("scope"), "read:org repo read:user");
    assert_eq!(
        param("redirect_uri"),
        format!("{}/auth/github/callback", app.state.config.public_url())
    );
    param("state")
}

pub async fn callback(app: &TestApp, code: &str, state: &str) -> (StatusCode, Value) {
    let path = format!("/auth/github/callback?code={code}&state={state}");
    json_of(app.get(&path, None).await).await
}

/// The whole flow for `login`: returns the gitpulse token of the signed-in (or linking) user.
pub async fn sign_in(app: &TestApp, gh: &FakeGitHub, login: &str, token: Option<&str>) -> String {
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    gh.add_oauth_code(&code, login);
    let state = start_login(app, token).await;
    let (status, body) = callback(app, &code, &state).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// Polls `/integration/status` until no sync runs; returns the last status.
pub async fn wait_for_sync(app: &TestApp, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = json_of(app.get("/integration/status", Some(token)).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["status"] != "syncing" && body["sync"]["state"] != "running" {
            return body;
        }
        assert!(Instant::now() < deadline, "sync did not finish: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn total(app: &TestApp, token: &str, collection: &str) -> i64 {
    let (status, body) = json_of(
        app.get(&format!("/data/{collection}?limit=100"), Some(token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["pagination"]["total_items"].as_i64().expect("total")
}

async fn me(app: &TestApp, token: &str) -> Value {
    let (status, body) = json_of(app.get("/auth/me", Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn github_sign_in_creates_a_user_and_syncs_everything() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = oauth_app(&gh).await;

    let code = "code123";
    gh.add_oauth_code(code, "octocat");
    let state = start_login(&app, None).await;
    let (status, body) = callback(&app, code, &state).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "GitHub integration successful");
    assert_eq!(body["status"], "connected");
    assert_eq!(body["user"]["login"], "octocat");
    let token = body["access_token"].as_str().expect("token").to_string();
    let profile = me(&app, &token).await;
    assert_eq!(profile["username"], "octocat");
    assert_eq!(profile["github_login"], "octocat");

    let status = wait_for_sync(&app, &token).await;
    assert_eq!(status["status"], "connected", "{status}");
    assert_eq!(status["user"]["login"], "octocat");
    assert!(status["last_sync"].is_string(), "{status}");
    let counts = &status["sync"]["counts"];
    assert_eq!(counts["organizations"], 1, "{status}");
    assert_eq!(counts["repositories"], 3, "deduplicated: {status}");
    assert_eq!(counts["commits"], 108, "{status}");

    for (collection, expected) in [
        ("github_organizations", 1),
        ("github_users", 2),
        ("github_repos", 3),
        ("github_commits", 108),
        ("github_pulls", 1),
        ("github_issues", 1),
        ("github_changelogs", 1),
    ] {
        assert_eq!(
            total(&app, &token, collection).await,
            expected,
            "{collection}"
        );
    }
    // Issues exclude pull requests; the raw GitHub JSON is kept.
    let (_, issues) = json_of(app.get("/data/github_issues", Some(&token)).await).await;
    assert_eq!(issues["data"][0]["title"], "Crash on start");
    assert!(issues["data"][0].get("pull_request").is_none());
    assert!(issues["data"][0]["user"]["login"].is_string());

    // The user's own OAuth token was used, every page was fetched, the empty repo was fine.
    let requests = gh.requests();
    let user_repos = requests
        .iter()
        .find(|r| r.path == "/user/repos")
        .expect("listed repos");
    let auth = user_repos.header("authorization").expect("authenticated");
    assert!(auth.starts_with("Bearer gho_fake"), "{auth}");
    let widget_pages = requests
        .iter()
        .filter(|r| r.path == "/repos/acme/widgets/commits")
        .count();
    assert_eq!(widget_pages, 2);
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/repos/octocat/empty/commits" && r.status == 409)
    );

    // The token is stored encrypted, never in clear.
    let stored: Vec<u8> = sqlx::query_scalar("select token_ciphertext from github_integrations")
        .fetch_one(&app.state.db)
        .await
        .expect("row");
    let token_text = auth.trim_start_matches("Bearer ");
    assert!(!String::from_utf8_lossy(&stored).contains(token_text));
    assert_eq!(
        app.state.token_cipher.decrypt(&stored).expect("decrypts"),
        token_text
    );
}

#[tokio::test]
async fn signing_in_again_logs_into_the_same_user_and_names_are_deduplicated() {
    let gh = FakeGitHub::start().await;
    gh.add_user("octocat", None);
    let app = oauth_app(&gh).await;
    let password_user = app.register("octocat").await;

    let first = sign_in(&app, &gh, "octocat", None).await;
    let profile = me(&app, &first).await;
    assert_eq!(profile["username"], "octocat-2");
    assert_ne!(profile["id"], me(&app, &password_user).await["id"]);

    wait_for_sync(&app, &first).await;
    let again = sign_in(&app, &gh, "octocat", None).await;
    assert_eq!(me(&app, &again).await["id"], profile["id"]);
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(users, 2);
}

#[tokio::test]
async fn a_signed_in_user_links_github_and_nobody_else_can_take_it() {
    let gh = FakeGitHub::start().await;
    gh.add_user("octocat", None);
    let app = oauth_app(&gh).await;
    let alice = app.register("alice").await;
    let alice_id = me(&app, &alice).await["id"].clone();

    let linked = sign_in(&app, &gh, "octocat", Some(&alice)).await;
    let profile = me(&app, &linked).await;
    assert_eq!(profile["id"], alice_id);
    assert_eq!(profile["github_login"], "octocat");

    let bob = app.register("bob").await;
    gh.add_oauth_code("bob-code", "octocat");
    let state = start_login(&app, Some(&bob)).await;
    let (status, body) = callback(&app, "bob-code", &state).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("already linked"),
        "{body}"
    );

    // An invalid bearer token on the login route is refused rather than ignored.
    let response = no_redirects()
        .get(format!("{}/auth/github/login", app.url))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oauth_state_must_be_known_unused_and_fresh() {
    let gh = FakeGitHub::start().await;
    gh.add_user("octocat", None);
    let app = oauth_app(&gh).await;

    let (status, body) = json_of(app.get("/auth/github/callback?code=x", None).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("m")
            .contains("Missing OAuth state")
    );

    let (status, body) = callback(&app, "x", "made-up-state").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().expect("m").contains("Unknown"));

    gh.add_oauth_code("c1", "octocat");
    let state = start_login(&app, None).await;
    let (status, _) = callback(&app, "c1", &state).await;
    assert_eq!(status, StatusCode::OK);
    gh.add_oauth_code("c2", "octocat");
    let (status, body) = callback(&app, "c2", &state).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "reused: {body}");
    assert!(
        body["message"]
            .as_str()
            .expect("m")
            .contains("already used")
    );

    let state = start_login(&app, None).await;
    sqlx::query(
        "update oauth_states set expires_at = now() - interval '1 second' where used_at is null",
    )
    .execute(&app.state.db)
    .await
    .expect("expire");
    let (status, body) = callback(&app, "c2", &state).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "expired: {body}");
    assert!(body["message"].as_str().expect("m").contains("expired"));

    // States are stored hashed.
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from oauth_states where state_hash = convert_to($1, 'UTF8')",
    )
    .bind(&state)
    .fetch_one(&app.state.db)
    .await
    .expect("count");
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_refused_code_is_a_400_and_nothing_is_stored() {
    let gh = FakeGitHub::start().await;
    let app = oauth_app(&gh).await;
    let state = start_login(&app, None).await;
    let (status, body) = callback(&app, "never-issued", &state).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("m")
            .contains("bad_verification_code"),
        "{body}"
    );
    let integrations: i64 = sqlx::query_scalar("select count(*) from github_integrations")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(integrations, 0);

    let (status, body) = json_of(
        app.get(
            "/auth/github/callback?error=access_denied&error_description=The+user+declined",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("m")
            .contains("access_denied")
    );
}

#[tokio::test]
async fn oauth_routes_answer_503_when_unconfigured() {
    let gh = FakeGitHub::start().await;
    let app = TestApp::with_github(&gh, |c| {
        c.token_encryption_key = Some(Secret::new(TEST_KEY))
    })
    .await;
    for path in ["/auth/github/login", "/auth/github/callback?code=a&state=b"] {
        let (status, body) = json_of(app.get(path, None).await).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert!(
            body["message"]
                .as_str()
                .expect("m")
                .contains("GITHUB_CLIENT_ID"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn front_ends_can_ask_for_the_authorize_url_as_json() {
    let gh = FakeGitHub::start().await;
    let app = oauth_app(&gh).await;
    let response = app
        .request(reqwest::Method::GET, "/auth/github/login")
        .header("accept", "application/json")
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["authorize_url"].as_str().expect("url");
    assert!(
        url.starts_with(&format!(
            "{}/login/oauth/authorize?client_id=client-123",
            gh.url()
        )),
        "{url}"
    );
    assert!(url.contains("scope=read%3Aorg+repo+read%3Auser"), "{url}");
    let state = reqwest::Url::parse(url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");
    assert!(state.len() >= 43, "at least 256 bits: {state}");
}

#[tokio::test]
async fn incremental_resync_fetches_only_what_is_new() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = oauth_app(&gh).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;

    gh.clear_requests();
    gh.add_commit(
        "octocat",
        "hello-world",
        "Brand new commit",
        "octocat",
        Utc::now(),
    );
    gh.add_issue("octocat", "hello-world", "New issue", "Please fix", "hubot");
    let (status, body) = json_of(
        app.post_json("/integration/resync", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Resync completed successfully");
    assert!(body["sync_time"].is_string());
    let stats = &body["stats"];
    assert_eq!(stats["commits"], 1, "{body}");
    assert_eq!(stats["issues"], 1, "{body}");
    assert_eq!(stats["pulls"], 0, "{body}");
    assert_eq!(stats["changelogs"], 0, "{body}");
    assert_eq!(
        stats["organizations"], 0,
        "unchanged lists answer 304: {body}"
    );

    let requests = gh.requests();
    let commits: Vec<_> = requests
        .iter()
        .filter(|r| r.path.ends_with("/commits"))
        .collect();
    assert!(
        commits.iter().all(|r| r.query.contains("since=")),
        "{commits:?}"
    );
    assert_eq!(
        commits
            .iter()
            .filter(|r| r.path == "/repos/acme/widgets/commits")
            .count(),
        1
    );
    let orgs = requests
        .iter()
        .find(|r| r.path == "/user/orgs")
        .expect("orgs asked");
    assert_eq!(orgs.status, 304);
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/repos/acme/widgets/pulls" && r.status == 304)
    );
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/repos/acme/widgets/issues" && r.query.contains("since="))
    );
    assert_eq!(total(&app, &token, "github_commits").await, 109);

    // full=true refetches everything.
    let (status, body) = json_of(
        app.post_json("/integration/resync?full=true", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stats"]["commits"], 109, "{body}");
    assert_eq!(body["stats"]["repositories"], 3, "{body}");
    assert_eq!(
        total(&app, &token, "github_commits").await,
        109,
        "upserted, not duplicated"
    );
}

#[tokio::test]
async fn resync_without_waiting_answers_202_and_status_shows_it() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = oauth_app(&gh).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;

    gh.fail_next(
        "/user/orgs",
        fake_github::Fault::Delay(Duration::from_millis(300)),
    );
    let response = app
        .post_json(
            "/integration/resync?wait=false&full=true",
            &json!({}),
            Some(&token),
        )
        .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (_, during) = json_of(app.get("/integration/status", Some(&token)).await).await;
    assert_eq!(during["status"], "syncing", "{during}");
    assert_eq!(during["sync"]["state"], "running");

    // A second resync while one runs waits for it and reports its result.
    let (status, body) = json_of(
        app.post_json("/integration/resync", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["stats"]["commits"], 108,
        "the running full sync's result: {body}"
    );

    let after = wait_for_sync(&app, &token).await;
    assert_eq!(after["status"], "connected");
    assert_eq!(after["sync"]["state"], "finished");
    assert_eq!(after["sync"]["progress"]["repositories_done"], 3, "{after}");
}

#[tokio::test]
async fn remove_deletes_the_token_and_every_document() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = oauth_app(&gh).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;
    let github_id = me(&app, &token).await;
    assert!(github_id["github_login"].is_string());

    let (status, body) = json_of(
        app.post_json("/integration/remove", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Integration removed successfully");
    assert_eq!(
        body["total_removed"],
        1 + 1 + 2 + 3 + 108 + 1 + 1 + 1,
        "{body}"
    );
    let collections = body["removed_collections"].as_array().expect("list");
    assert_eq!(collections[0], "github_integration");
    assert!(collections.contains(&json!("github_commits")));

    for table in [
        "github_documents",
        "github_integrations",
        "github_sync_cursors",
    ] {
        let left: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&app.state.db)
            .await
            .expect("count");
        assert_eq!(left, 0, "{table}");
    }
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_logs where action like 'integration.%' order by id",
    )
    .fetch_all(&app.state.db)
    .await
    .expect("audit");
    assert_eq!(actions, ["integration.connected", "integration.removed"]);
    let (_, status) = json_of(app.get("/integration/status", Some(&token)).await).await;
    assert_eq!(status["status"], "not_connected");
    let (status, _) = json_of(
        app.post_json("/integration/remove", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn user_id_must_name_the_callers_own_integration() {
    let gh = FakeGitHub::start().await;
    let octocat_id = gh.add_user("octocat", None);
    let app = oauth_app(&gh).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;

    let (status, body) = json_of(
        app.get(
            &format!("/integration/status?user_id={octocat_id}"),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "connected");
    let (status, body) = json_of(
        app.get("/integration/status?user_id=999", Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "Integration not found");
    let (status, _) = json_of(
        app.post_json(
            "/integration/resync",
            &json!({"user_id": 999}),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json_of(
        app.post_json(
            "/integration/remove",
            &json!({"user_id": 999}),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let stranger = app.register("stranger").await;
    let (status, body) = json_of(app.get("/integration/status", Some(&stranger)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "not_connected");
    let (status, _) = json_of(
        app.get(
            &format!("/integration/status?user_id={octocat_id}"),
            Some(&stranger),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json_of(
        app.post_json("/integration/resync", &json!({}), Some(&stranger))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json_of(app.get("/integration/status", None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_user_sees_none_of_the_synced_data() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = oauth_app(&gh).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;
    assert_eq!(total(&app, &token, "github_commits").await, 108);

    let other = app.register("other").await;
    assert_eq!(total(&app, &other, "github_commits").await, 0);
    let (status, body) = json_of(app.get("/search?q=widget", Some(&other)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total_results"], 0, "{body}");
    let (_, body) = json_of(app.get("/search?q=widget", Some(&token)).await).await;
    assert!(body["total_results"].as_i64().expect("n") >= 105, "{body}");
    assert_eq!(
        body["results"]["github_commits"]
            .as_array()
            .expect("list")
            .len(),
        10
    );
}

#[tokio::test]
async fn search_covers_nested_commit_fields() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = oauth_app(&gh).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;
    let (status, body) = json_of(
        app.get("/data/github_commits?search=MONALISA", Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pagination"]["total_items"], 1, "{body}");
    assert_eq!(body["data"][0]["commit"]["message"], "Add README");
    let filter = r#"{"commit.author.name": "hubot"}"#;
    let response = app
        .request(reqwest::Method::GET, "/data/github_commits")
        .bearer_auth(&token)
        .query(&[
            ("filter", filter),
            ("sort_by", "commit.author.date"),
            ("sort_order", "desc"),
            ("limit", "5"),
        ])
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pagination"]["total_items"], 105);
    assert_eq!(body["data"][0]["commit"]["message"], "Widget change 104");
}

/// `launch` stops only once a background sync has stopped too: the sync sees the shutdown
/// at its next step, records itself interrupted and frees its lease, and nothing of it
/// talks to GitHub or the database afterwards.
#[tokio::test]
async fn stopping_the_server_waits_for_a_background_sync() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = oauth_app(&gh).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;

    // A replica over the same database starts a slow sync in the background and is stopped
    // while GitHub is still answering the sync's first request.
    let replica = app.replica().await;
    let delay = Duration::from_millis(800);
    gh.fail_next("/user/orgs", fake_github::Fault::Delay(delay));
    let (status, body) = json_of(
        replica
            .post_json(
                "/integration/resync?wait=false&full=true",
                &json!({}),
                Some(&token),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let stopping = Instant::now();
    replica.stop().await;
    assert!(
        stopping.elapsed() >= delay / 2,
        "the stop waited for the sync ({:?})",
        stopping.elapsed()
    );

    let (_, stopped) = json_of(app.get("/integration/status", Some(&token)).await).await;
    assert_eq!(stopped["status"], "error", "{stopped}");
    assert_eq!(stopped["sync"]["state"], "failed", "{stopped}");
    assert_eq!(stopped["sync"]["error"], "interrupted by shutdown");
    let requests = gh.requests().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        gh.requests().len(),
        requests,
        "no GitHub call after the stop"
    );

    // Its lease is free: the next sync runs at once, on the server still up.
    let (status, body) = json_of(
        app.post_json("/integration/resync?full=true", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stats"]["commits"], 108, "{body}");
}
