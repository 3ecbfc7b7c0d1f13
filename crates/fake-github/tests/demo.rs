//! Real HTTP against the pieces the standalone binary's demo relies on: the star history,
//! the auto-approving OAuth authorize step, and the demo world itself.

use chrono::{Duration, NaiveDate};
use fake_github::{DEMO_LOGIN, FakeGitHub};
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

fn day(text: &str) -> NaiveDate {
    text.parse().expect("date")
}

#[tokio::test]
async fn star_history_pages_weeks_newest_first() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("octocat", "Hello-World");
    gh.add_repo("octocat", "quiet");
    // 2026-01-04 is a Sunday: 35 weeks, 2 stars on the first day of each, 1 on its Wednesday.
    let first = day("2026-01-04");
    let gains: Vec<(NaiveDate, i64)> = (0..35)
        .flat_map(|w| {
            let sunday = first + Duration::weeks(w);
            [(sunday, 2), (sunday + Duration::days(3), 1)]
        })
        .collect();
    gh.set_star_history("octocat", "Hello-World", gains);
    gh.add_star_gain("octocat", "Hello-World", first, 4);

    let path = "/repos/octocat/Hello-World/stargazers/history";
    let response = get(&gh, path, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let base = format!("{}{path}", gh.url());
    assert_eq!(
        header(&response, "link").expect("link"),
        format!("<{base}?page=2>; rel=\"next\", <{base}?page=2>; rel=\"last\"")
    );
    let etag = header(&response, "etag").expect("etag");
    let weeks: Vec<Value> = response.json().await.expect("json");
    assert_eq!(weeks.len(), 30, "30 weeks by default");
    let newest = first + Duration::weeks(34);
    let unix = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("t").and_utc().timestamp();
    assert_eq!(weeks[0]["week"], unix(newest));
    assert_eq!(weeks[0]["days"], serde_json::json!([2, 0, 0, 1, 0, 0, 0]));
    assert_eq!(weeks[0]["total"], 3);
    assert_eq!(weeks[1]["week"], unix(newest - Duration::weeks(1)));

    let last: Vec<Value> = json(&gh, &format!("{path}?page=2"), None)
        .await
        .as_array()
        .cloned()
        .expect("array");
    assert_eq!(last.len(), 5);
    assert_eq!(last[4]["week"], unix(first));
    assert_eq!(last[4]["total"], 7, "a day named twice adds up");

    let clamped = json(&gh, &format!("{path}?per_page=100"), None).await;
    assert_eq!(
        clamped.as_array().map(Vec::len),
        Some(30),
        "at most 30 per page"
    );
    let small = get(&gh, &format!("{path}?per_page=10&page=2"), None).await;
    assert_eq!(
        header(&small, "link").expect("link"),
        format!(
            "<{base}?per_page=10&page=1>; rel=\"prev\", <{base}?per_page=10&page=3>; rel=\"next\", \
             <{base}?per_page=10&page=4>; rel=\"last\", <{base}?per_page=10&page=1>; rel=\"first\""
        )
    );
    assert_eq!(
        get(&gh, &format!("{path}?page=100"), None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&gh, &format!("{path}?page=101"), None).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let unchanged = client()
        .get(format!("{}{path}", gh.url()))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    gh.add_star_gain("octocat", "Hello-World", newest, 1);
    let changed = client()
        .get(format!("{}{path}", gh.url()))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(
        changed.status(),
        StatusCode::OK,
        "a new star changes the ETag"
    );

    let quiet = json(&gh, "/repos/octocat/quiet/stargazers/history", None).await;
    assert_eq!(quiet, serde_json::json!([]));
    let unknown = get(&gh, "/repos/octocat/ghost/stargazers/history", None).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
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

#[tokio::test]
async fn the_demo_world_fills_every_list_a_sign_in_reads() {
    let gh = FakeGitHub::start().await;
    let repos = gh.seed_demo_world(2);
    assert!(
        repos
            .iter()
            .any(|r| r.owner == "demo" && r.name == "repo-1")
    );
    gh.set_authorize_as(DEMO_LOGIN);
    let response = get(
        &gh,
        "/login/oauth/authorize?client_id=c&redirect_uri=http://app.test/cb",
        None,
    )
    .await;
    let location = header(&response, "location").expect("location");
    let code = location.rsplit_once("code=").expect("code").1.to_string();
    let token = exchange(&gh, &code).await["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let token = Some(token.as_str());
    let count = |v: &Value| v.as_array().map_or(0, Vec::len);

    let orgs = json(&gh, "/user/orgs", token).await;
    assert_eq!(orgs[0]["login"], "acme");
    assert!(count(&json(&gh, "/orgs/acme/members", token).await) >= 3);
    let repos = json(&gh, "/user/repos?per_page=100", token).await;
    assert_eq!(count(&repos), 4, "octocat's two and acme's two");
    for repo in repos.as_array().expect("array") {
        let full_name = repo["full_name"].as_str().expect("name");
        assert!(
            count(&json(&gh, &format!("/repos/{full_name}/commits"), token).await) > 0,
            "{full_name}"
        );
        assert!(count(&json(&gh, &format!("/repos/{full_name}/events"), token).await) > 0);
        let history = json(
            &gh,
            &format!("/repos/{full_name}/stargazers/history"),
            token,
        )
        .await;
        assert_eq!(
            count(&history),
            30,
            "{full_name}: a year of weeks, 30 a page"
        );
    }
    for list in ["pulls", "issues", "issues/events"] {
        let items = json(&gh, &format!("/repos/acme/widgets/{list}?state=all"), token).await;
        assert!(count(&items) > 0, "{list}");
    }
    let octocat = json(&gh, "/users/octocat/repos", None).await;
    assert_eq!(count(&octocat), 2);
    let spoon = json(&gh, "/repos/octocat/Spoon-Knife", None).await;
    assert_eq!(spoon["stargazers_count"], 12800);
}
