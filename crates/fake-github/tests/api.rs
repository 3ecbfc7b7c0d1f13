//! Real HTTP against `FakeGitHub::start()`.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use fake_github::{FakeEvent, FakeGitHub, Fault};
use reqwest::StatusCode;
use serde_json::Value;

const TOKEN: &str = "token ghp_test";

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get(gh: &FakeGitHub, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", gh.url()))
        .header("authorization", TOKEN)
        .send()
        .await
        .expect("request")
}

async fn get_if(gh: &FakeGitHub, path: &str, etag: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", gh.url()))
        .header("authorization", TOKEN)
        .header("if-none-match", etag)
        .send()
        .await
        .expect("request")
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_string())
}

fn remaining(resp: &reqwest::Response) -> i64 {
    header(resp, "x-ratelimit-remaining")
        .expect("x-ratelimit-remaining")
        .parse()
        .expect("number")
}

#[tokio::test]
async fn repository_etag_and_304() {
    let gh = FakeGitHub::start().await;
    let id = gh.add_repo("octocat", "Hello-World");
    gh.set_repo_counts("octocat", "Hello-World", 80, 9, 42);

    let resp = get(&gh, "/repos/octocat/hello-world").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let etag = header(&resp, "etag").expect("etag");
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 66);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["id"], id);
    assert_eq!(body["full_name"], "octocat/Hello-World");
    assert_eq!(body["owner"]["login"], "octocat");
    assert_eq!(body["owner"]["type"], "User");
    assert!(body["owner"].get("bio").is_none(), "owner is a simple user");
    assert_eq!(body["private"], false);
    assert_eq!(body["stargazers_count"], 80);
    assert_eq!(body["watchers_count"], 80);
    assert_eq!(body["forks_count"], 9);
    assert_eq!(body["subscribers_count"], 42);
    assert_eq!(
        body["html_url"],
        format!("{}/octocat/Hello-World", gh.url())
    );
    assert_eq!(
        body["url"],
        format!("{}/repos/octocat/Hello-World", gh.url())
    );

    let resp = get_if(&gh, "/repos/octocat/Hello-World", &etag).await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&resp, "etag").as_deref(), Some(etag.as_str()));
    assert!(resp.bytes().await.expect("body").is_empty());

    gh.set_repo_counts("octocat", "Hello-World", 81, 9, 42);
    let resp = get_if(&gh, "/repos/octocat/Hello-World", &etag).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(header(&resp, "etag").as_deref(), Some(etag.as_str()));
}

#[tokio::test]
async fn unknown_things_are_404() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("octocat", "gone");
    for path in [
        "/repos/octocat/nope",
        "/users/nobody",
        "/no/such/path",
        "/users/nobody/repos",
    ] {
        let resp = get(&gh, path).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(header(&resp, "x-ratelimit-limit").is_some(), "{path}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["message"], "Not Found");
        assert_eq!(body["documentation_url"], "https://docs.github.com/rest");
    }
    assert_eq!(
        get(&gh, "/repos/OctoCat/GONE").await.status(),
        StatusCode::OK
    );
    gh.remove_repo("octocat", "gone");
    assert_eq!(
        get(&gh, "/repos/octocat/gone").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&gh, "/users/octocat").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn events_newest_first_with_300_window() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("demo", "busy");
    let start = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let ids = gh.generate_events("demo", "busy", 800, "PushEvent", start, 60);
    assert_eq!(ids.len(), 800);

    let path = "/repos/demo/busy/events?per_page=100";
    let resp = get(&gh, path).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "x-poll-interval").as_deref(), Some("60"));
    let base = gh.url();
    assert_eq!(
        header(&resp, "link").expect("link"),
        format!(
            "<{base}/repos/demo/busy/events?per_page=100&page=2>; rel=\"next\", \
             <{base}/repos/demo/busy/events?per_page=100&page=3>; rel=\"last\""
        )
    );
    let page1: Vec<Value> = resp.json().await.expect("json");
    assert_eq!(page1.len(), 100);
    assert_eq!(page1[0]["id"], ids[799].as_str());
    assert_eq!(page1[99]["id"], ids[700].as_str());
    assert_eq!(page1[0]["type"], "PushEvent");
    assert_eq!(page1[0]["repo"]["name"], "demo/busy");
    assert_eq!(page1[0]["actor"]["login"], "demo");
    assert_eq!(page1[0]["public"], true);
    let t0 = page1[0]["created_at"].as_str().expect("created_at");
    let t1 = page1[1]["created_at"].as_str().expect("created_at");
    assert!(t0 > t1 && t0.ends_with('Z'), "{t0} {t1}");

    let resp = get(&gh, "/repos/demo/busy/events?per_page=100&page=2").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let link = header(&resp, "link").expect("link");
    assert!(link.contains("page=1>; rel=\"prev\"") && link.contains("page=3>; rel=\"next\""));

    let resp = get(&gh, "/repos/demo/busy/events?per_page=100&page=3").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let link = header(&resp, "link").expect("link");
    assert!(
        !link.contains("rel=\"next\"") && !link.contains("rel=\"last\""),
        "{link}"
    );
    assert!(link.contains("page=2>; rel=\"prev\"") && link.contains("page=1>; rel=\"first\""));
    let page3: Vec<Value> = resp.json().await.expect("json");
    assert_eq!(page3.len(), 100);
    assert_eq!(page3[99]["id"], ids[500].as_str());

    let resp = get(&gh, "/repos/demo/busy/events?per_page=100&page=4").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("pagination is limited")
    );

    // Default per_page is 30: ten pages of the window.
    let resp = get(&gh, "/repos/demo/busy/events").await;
    let link = header(&resp, "link").expect("link");
    assert!(link.contains("events?page=10>; rel=\"last\""), "{link}");
    assert_eq!(resp.json::<Vec<Value>>().await.expect("json").len(), 30);
    assert_eq!(
        get(&gh, "/repos/demo/busy/events?page=11").await.status(),
        422
    );
}

#[tokio::test]
async fn events_etag_changes_on_new_event_and_poll_interval() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("demo", "r");
    gh.set_poll_interval(17);
    let start = Utc::now() - chrono::Duration::hours(1);
    gh.generate_events("demo", "r", 3, "WatchEvent", start, 10);

    let resp = get(&gh, "/repos/demo/r/events").await;
    assert_eq!(header(&resp, "x-poll-interval").as_deref(), Some("17"));
    assert!(header(&resp, "link").is_none());
    let etag = header(&resp, "etag").expect("etag");
    let events: Vec<Value> = resp.json().await.expect("json");
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["payload"]["action"], "started");

    let resp = get_if(&gh, "/repos/demo/r/events", &etag).await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&resp, "x-poll-interval").as_deref(), Some("17"));

    let id = gh.next_event_id();
    gh.push_events(
        "demo",
        "r",
        vec![FakeEvent {
            id: id.clone(),
            event_type: "IssuesEvent".into(),
            created_at: Utc::now(),
            actor_login: "someone".into(),
        }],
    );
    let resp = get_if(&gh, "/repos/demo/r/events", &etag).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(header(&resp, "etag").as_deref(), Some(etag.as_str()));
    let events: Vec<Value> = resp.json().await.expect("json");
    assert_eq!(events[0]["id"], id.as_str());
    assert_eq!(events[0]["actor"]["login"], "someone");
    // The actor became a user.
    assert_eq!(get(&gh, "/users/someone").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn rate_limit_headers_charge_200_not_304() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("octocat", "Hello-World");
    let resp = get(&gh, "/repos/octocat/Hello-World").await;
    assert_eq!(header(&resp, "x-ratelimit-limit").as_deref(), Some("5000"));
    assert_eq!(remaining(&resp), 4999);
    assert_eq!(header(&resp, "x-ratelimit-used").as_deref(), Some("1"));
    assert_eq!(
        header(&resp, "x-ratelimit-resource").as_deref(),
        Some("core")
    );
    assert!(header(&resp, "x-ratelimit-reset").is_some());
    let etag = header(&resp, "etag").expect("etag");

    let resp = get_if(&gh, "/repos/octocat/Hello-World", &etag).await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(remaining(&resp), 4999);
    let resp = get(&gh, "/repos/octocat/Hello-World").await;
    assert_eq!(remaining(&resp), 4998);

    // /rate_limit is free and reports the same budget.
    let resp = get(&gh, "/rate_limit").await;
    assert_eq!(remaining(&resp), 4998);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["resources"]["core"]["remaining"], 4998);
    assert_eq!(body["rate"]["used"], 2);

    // Unauthenticated requests have their own 60/hour budget.
    let resp = client()
        .get(format!("{}/repos/octocat/Hello-World", gh.url()))
        .send()
        .await
        .expect("request");
    assert_eq!(header(&resp, "x-ratelimit-limit").as_deref(), Some("60"));
    assert_eq!(remaining(&resp), 59);

    // A spent budget answers 403 until reset.
    let reset = Utc::now().timestamp() + 600;
    gh.set_rate_limit(5000, 1, reset);
    assert_eq!(
        get(&gh, "/repos/octocat/Hello-World").await.status(),
        StatusCode::OK
    );
    let resp = get(&gh, "/repos/octocat/Hello-World").await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(remaining(&resp), 0);
    assert_eq!(header(&resp, "x-ratelimit-reset"), Some(reset.to_string()));
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .starts_with("API rate limit exceeded")
    );
    // Reset in the past: a fresh window.
    gh.set_rate_limit(5000, 0, Utc::now().timestamp() - 1);
    assert_eq!(
        remaining(&get(&gh, "/repos/octocat/Hello-World").await),
        4999
    );
}

#[tokio::test]
async fn faults_are_served_once_in_order() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("octocat", "Hello-World");
    let path = "/repos/octocat/Hello-World";
    gh.fail_next("/repos/octocat", Fault::Status(500));
    gh.fail_next(
        "/repos/octocat",
        Fault::RateLimited403 {
            retry_after: Some(30),
        },
    );
    gh.fail_next("/repos/", Fault::TooMany429 { retry_after: 5 });
    gh.fail_next("/users/", Fault::Status(502));

    let resp = get(&gh, path).await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(header(&resp, "x-ratelimit-remaining").is_some());
    let body: Value = resp.json().await.expect("json");
    assert!(body["message"].is_string());

    let resp = get(&gh, path).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("30"));
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("secondary rate limit")
    );

    let resp = get(&gh, path).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("5"));

    assert_eq!(get(&gh, path).await.status(), StatusCode::OK);
    assert_eq!(
        get(&gh, "/users/octocat").await.status(),
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(get(&gh, "/users/octocat").await.status(), StatusCode::OK);

    gh.fail_next(
        path,
        Fault::RateLimitedPrimary {
            reset_epoch: 1_900_000_000,
        },
    );
    let resp = get(&gh, path).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(remaining(&resp), 0);
    assert_eq!(
        header(&resp, "x-ratelimit-reset").as_deref(),
        Some("1900000000")
    );

    gh.fail_next(path, Fault::Delay(Duration::from_millis(300)));
    let t = Instant::now();
    assert_eq!(get(&gh, path).await.status(), StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(300));

    let statuses: Vec<u16> = gh.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 403, 429, 200, 502, 200, 403, 200]);
}

#[tokio::test]
async fn user_repos_paginate_with_links() {
    let gh = FakeGitHub::start().await;
    let uid = gh.add_user("alice", Some("Alice Liddell"));
    for i in 0..25 {
        gh.add_repo("alice", &format!("r{i:02}"));
    }
    gh.add_repo("bob", "not-alice");
    let base = gh.url();

    let resp = get(&gh, "/users/alice").await;
    let user: Value = resp.json().await.expect("json");
    assert_eq!(user["id"], uid);
    assert_eq!(user["name"], "Alice Liddell");
    assert_eq!(user["type"], "User");
    assert_eq!(user["public_repos"], 25);

    let mut seen = Vec::new();
    let mut next = Some(format!("{base}/users/alice/repos?per_page=10"));
    let mut links = Vec::new();
    while let Some(url) = next.take() {
        let resp = client()
            .get(&url)
            .header("authorization", TOKEN)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::OK);
        let link = header(&resp, "link").expect("link");
        next = link
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').expect(">")].to_string());
        links.push(link);
        let page: Vec<Value> = resp.json().await.expect("json");
        seen.extend(
            page.iter()
                .map(|r| r["name"].as_str().expect("name").to_string()),
        );
    }
    assert_eq!(links.len(), 3);
    let u = |p: u32| format!("<{base}/users/alice/repos?per_page=10&page={p}>");
    assert_eq!(
        links[0],
        format!("{}; rel=\"next\", {}; rel=\"last\"", u(2), u(3))
    );
    assert_eq!(
        links[1],
        format!(
            "{}; rel=\"prev\", {}; rel=\"next\", {}; rel=\"last\", {}; rel=\"first\"",
            u(1),
            u(3),
            u(3),
            u(1)
        )
    );
    assert_eq!(
        links[2],
        format!("{}; rel=\"prev\", {}; rel=\"first\"", u(2), u(1))
    );
    let expected: Vec<String> = (0..25).map(|i| format!("r{i:02}")).collect();
    assert_eq!(seen, expected);

    let resp = get(&gh, "/users/alice/repos?per_page=10&page=2").await;
    let etag = header(&resp, "etag").expect("etag");
    let resp = get_if(&gh, "/users/alice/repos?per_page=10&page=2", &etag).await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn request_log_records_headers() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("octocat", "Hello-World");
    get_if(&gh, "/repos/octocat/Hello-World?x=1", "\"abc\"").await;
    get(&gh, "/users/octocat").await;

    let reqs = gh.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].path, "/repos/octocat/Hello-World");
    assert_eq!(reqs[0].query, "x=1");
    assert_eq!(reqs[0].status, 200);
    assert_eq!(reqs[0].header("Authorization"), Some(TOKEN));
    assert_eq!(reqs[0].header("if-none-match"), Some("\"abc\""));
    assert!(
        reqs[0]
            .headers
            .iter()
            .all(|(n, _)| n == &n.to_ascii_lowercase())
    );
    assert_eq!(gh.request_count("/repos/"), 1);
    assert_eq!(gh.request_count("/"), 2);
    gh.clear_requests();
    assert!(gh.requests().is_empty());
}

async fn get_as(gh: &FakeGitHub, path: &str, token: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", gh.url()))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn each_token_has_its_own_budget_and_a_revoked_one_gets_401() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("octocat", "Hello-World");
    let path = "/repos/octocat/Hello-World";
    for _ in 0..3 {
        get_as(&gh, path, "tok-a").await;
    }
    let resp = get_as(&gh, path, "tok-b").await;
    assert_eq!(remaining(&resp), 4999, "tok-b spends its own budget");
    assert_eq!(gh.rate_limit_of("tok-a").1, 4997);

    gh.revoke_token("tok-a");
    let resp = get_as(&gh, path, "tok-a").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["message"], "Bad credentials");
    assert_eq!(get_as(&gh, path, "tok-b").await.status(), StatusCode::OK);

    let statuses: Vec<u16> = gh
        .requests_with_token("tok-a")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 401]);
    assert_eq!(gh.requests_with_token("tok-b").len(), 2);
}

#[tokio::test]
async fn issues_closed_merged_edited_and_deleted_upstream() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "widgets");
    let issue = gh.add_issue("acme", "widgets", "Crash", "It crashes.", "hubot");
    let pull = gh.add_pull("acme", "widgets", "Turbo", "Faster.", "hubot");
    gh.edit_issue("acme", "widgets", issue, "Crash (fixed)");
    gh.close_issue("acme", "widgets", issue);
    gh.merge_pull("acme", "widgets", pull);

    let issues: Value = get(&gh, "/repos/acme/widgets/issues?state=all")
        .await
        .json()
        .await
        .expect("json");
    let first = issues
        .as_array()
        .and_then(|l| l.iter().find(|i| i["number"] == issue))
        .expect("issue listed");
    assert_eq!(first["state"], "closed");
    assert_eq!(first["title"], "Crash (fixed)");
    assert!(first["closed_at"].is_string());
    let pulls: Value = get(&gh, "/repos/acme/widgets/pulls?state=all")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(pulls[0]["state"], "closed");
    assert!(pulls[0]["merged_at"].is_string());

    gh.delete_issue("acme", "widgets", issue);
    let issues: Value = get(&gh, "/repos/acme/widgets/issues?state=all")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        issues.as_array().map(Vec::len),
        Some(1),
        "only the pull request"
    );

    gh.rename_repo("acme", "widgets", "gadgets");
    assert_eq!(
        get(&gh, "/repos/acme/widgets").await.status(),
        StatusCode::NOT_FOUND
    );
    let repo: Value = get(&gh, "/repos/acme/gadgets")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(repo["name"], "gadgets");
    let pulls: Value = get(&gh, "/repos/acme/gadgets/pulls?state=all")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(pulls.as_array().map(Vec::len), Some(1), "items moved along");
}
