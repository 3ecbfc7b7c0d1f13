//! Tracked GitHub accounts (`/v1/users`), their daily statistics and repository history,
//! against the fake GitHub.

use chrono::{Days, NaiveDate, Utc};
use fake_github::FakeGitHub;
use gitpulse::config::Secret;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, json_of};

/// A server talking to `gh`, scheduler off (tests drive the scan), pacing lifted;
/// `with_token` configures a polling token (GraphQL path), else REST.
pub(crate) async fn server(gh: &FakeGitHub, with_token: bool) -> TestApp {
    TestApp::with_github(gh, |c| {
        c.scheduler_enabled = false;
        c.github_max_requests_per_minute = 100_000;
        if with_token {
            c.github_tokens = vec![Secret::new("ghp_test_token")];
        }
    })
    .await
}

pub(crate) async fn put_account(app: &TestApp, token: &str, login: &str) -> (StatusCode, Value) {
    json_of(
        app.send_json(
            Method::PUT,
            "/v1/users",
            &json!({ "login": login }),
            Some(token),
        )
        .await,
    )
    .await
}

pub(crate) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub(crate) fn days_ago(n: u64) -> NaiveDate {
    today()
        .checked_sub_days(Days::new(n))
        .expect("a valid date")
}

/// Rows stored for `date`, over all repositories.
pub(crate) async fn rows_on(app: &TestApp, date: NaiveDate) -> i64 {
    sqlx::query_scalar("select count(*) from repository_daily_stats where date = $1")
        .bind(date)
        .fetch_one(&app.state.db)
        .await
        .expect("count rows")
}

/// `owner` with `count` repositories `name-000`, `name-001`, ...
pub(crate) fn seed_account(gh: &FakeGitHub, owner: &str, name: &str, count: usize) -> i64 {
    let id = gh.add_user(owner, Some(&format!("{owner} (name)")));
    for i in 0..count {
        gh.add_repo(owner, &format!("{name}-{i:03}"));
    }
    id
}

#[tokio::test]
async fn tracking_an_account_loads_every_page_and_records_today() {
    let gh = FakeGitHub::start().await;
    let id = seed_account(&gh, "octo", "repo", 250);
    gh.set_repo_counts("octo", "repo-007", 42, 9, 14);
    let app = server(&gh, true).await;
    let token = app.register("alice").await;

    let (status, body) = put_account(&app, &token, "octo").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({"id": id, "login": "octo", "name": "octo (name)", "repositories": 250})
    );
    let pages: Vec<_> = gh
        .requests()
        .into_iter()
        .filter(|r| r.path == "/users/octo/repos")
        .collect();
    assert_eq!(pages.len(), 3, "250 repositories are 3 pages of 100");
    assert!(pages[0].query.contains("per_page=100") && pages[0].query.contains("type=owner"));
    assert_eq!(
        gh.request_count("/graphql"),
        3,
        "100 repositories per GraphQL request"
    );
    assert_eq!(
        rows_on(&app, today()).await,
        250,
        "today's rows exist at once"
    );

    let (status, again) = put_account(&app, &token, "OCTO").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, body);
    assert_eq!(rows_on(&app, today()).await, 250);
    assert_eq!(
        gh.request_count("/graphql"),
        3,
        "today's rows exist: nothing to ask again"
    );
}

#[tokio::test]
async fn bad_or_unknown_logins_are_refused() {
    let gh = FakeGitHub::start().await;
    let app = server(&gh, true).await;
    let token = app.register("alice").await;

    let (status, body) = put_account(&app, &token, "ghost").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"message": "user not found on GitHub"}));

    let (status, body) = json_of(
        app.send_json(Method::PUT, "/v1/users", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Missing required fields: login");
    for bad in ["a/b", "-x", "../etc", &"a".repeat(40)] {
        let (status, body) = put_account(&app, &token, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, _) = json_of(
        app.send_json(Method::PUT, "/v1/users", &json!({"login": 5}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let response = app
        .send_json(Method::PUT, "/v1/users", &json!({"login": "octo"}), None)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let tracked: i64 = sqlx::query_scalar("select count(*) from tracked_accounts")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(tracked, 0);
}

#[tokio::test]
async fn accounts_are_listed_fetched_and_removed_per_user() {
    let gh = FakeGitHub::start().await;
    let zed = seed_account(&gh, "zed", "z", 1);
    let amy = seed_account(&gh, "amy", "a", 2);
    let app = server(&gh, true).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    put_account(&app, &alice, "zed").await;
    put_account(&app, &alice, "amy").await;

    let (status, list) = json_of(app.get("/v1/users", Some(&alice)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list,
        json!([
            {"id": amy, "login": "amy", "name": "amy (name)"},
            {"id": zed, "login": "zed", "name": "zed (name)"},
        ])
    );
    let (_, list) = json_of(app.get("/v1/users", Some(&bob)).await).await;
    assert_eq!(list, json!([]));

    let (status, one) = json_of(app.get(&format!("/v1/users/{amy}"), Some(&alice)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        one,
        json!({"id": amy, "login": "amy", "name": "amy (name)"})
    );
    for (path, token) in [
        (format!("/v1/users/{amy}"), &bob),
        ("/v1/users/999999".to_string(), &alice),
    ] {
        let (status, body) = json_of(app.get(&path, Some(token)).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, json!({"message": "user not found"}));
    }
    let (status, _) = json_of(app.get("/v1/users/abc", Some(&alice)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let delete = |token: String| {
        let app = &app;
        async move {
            json_of(
                app.send_json(
                    Method::DELETE,
                    &format!("/v1/users/{amy}"),
                    &json!({}),
                    Some(&token),
                )
                .await,
            )
            .await
        }
    };
    assert_eq!(delete(bob.clone()).await.0, StatusCode::NOT_FOUND);
    let (status, body) = delete(alice.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"message": "user removed"}));
    assert_eq!(delete(alice.clone()).await.0, StatusCode::NOT_FOUND);
    let (status, _) = json_of(app.get(&format!("/v1/users/{amy}"), Some(&alice)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stats_cover_an_inclusive_range_ordered_by_repository_then_date() {
    let gh = FakeGitHub::start().await;
    let id = seed_account(&gh, "octo", "repo", 3);
    gh.set_repo_counts("octo", "repo-001", 42, 9, 14);
    let app = server(&gh, true).await;
    let token = app.register("alice").await;
    put_account(&app, &token, "octo").await;
    // Two earlier days, as earlier scans would have left them.
    for (days, stars) in [(2, 40), (1, 41)] {
        sqlx::query(
            "insert into repository_daily_stats (repository_id, date, stargazers, forks, watchers)
             select id, $1, $2, 0, 0 from repositories where account_id = $3",
        )
        .bind(days_ago(days))
        .bind(stars)
        .bind(id)
        .execute(&app.state.db)
        .await
        .expect("seed rows");
    }

    let path = format!(
        "/v1/users/{id}/stats?date_from={}&date_to={}",
        days_ago(2),
        today()
    );
    let (status, body) = json_of(app.get(&path, Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["user"],
        json!({"id": id, "login": "octo", "name": "octo (name)"})
    );
    let stats = body["stats"].as_array().expect("stats");
    assert_eq!(stats.len(), 9);
    let keys: Vec<(i64, String)> = stats
        .iter()
        .map(|s| {
            (
                s["repo_id"].as_i64().expect("id"),
                s["date"].as_str().expect("date").to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "ordered by repo_id then date");
    let repo_001 =
        sqlx::query_scalar::<_, i64>("select github_id from repositories where name = 'repo-001'")
            .fetch_one(&app.state.db)
            .await
            .expect("github id");
    let today_row = stats
        .iter()
        .find(|s| s["repo_id"] == repo_001 && s["date"] == today().to_string())
        .expect("today's row");
    assert_eq!(
        today_row,
        &json!({"repo_id": repo_001, "date": today().to_string(), "stargazers": 42, "forks": 9, "watchers": 14, "source": "snapshot"})
    );

    // One day only; the default range (last 30 days) has all; an old range has none.
    let one_day = format!(
        "/v1/users/{id}/stats?date_from={0}&date_to={0}",
        days_ago(1)
    );
    let (_, body) = json_of(app.get(&one_day, Some(&token)).await).await;
    assert_eq!(body["stats"].as_array().map(Vec::len), Some(3));
    assert!(
        body["stats"]
            .as_array()
            .expect("stats")
            .iter()
            .all(|s| s["stargazers"] == 41)
    );
    let (_, body) = json_of(
        app.get(&format!("/v1/users/{id}/stats"), Some(&token))
            .await,
    )
    .await;
    assert_eq!(body["stats"].as_array().map(Vec::len), Some(9));
    let old = format!("/v1/users/{id}/stats?date_from=2020-01-01&date_to=2020-01-31");
    let (status, body) = json_of(app.get(&old, Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["stats"], json!([]));

    for query in [
        "date_from=2026-13-01",
        "date_to=yesterday",
        "date_from=2026-02-30",
        "date_from=2026-03-02&date_to=2026-03-01",
    ] {
        let (status, body) = json_of(
            app.get(&format!("/v1/users/{id}/stats?{query}"), Some(&token))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
    let (status, _) = json_of(app.get("/v1/users/424242/stats", Some(&token)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn watchers_are_people_watching_not_stars() {
    for with_token in [true, false] {
        let gh = FakeGitHub::start().await;
        seed_account(&gh, "octo", "repo", 1);
        gh.set_repo_counts("octo", "repo-000", 500, 7, 3);
        let app = server(&gh, with_token).await;
        let token = app.register("alice").await;
        let (status, body) = put_account(&app, &token, "octo").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let row: (i64, i64, i64) =
            sqlx::query_as("select stargazers, forks, watchers from repository_daily_stats")
                .fetch_one(&app.state.db)
                .await
                .expect("row");
        assert_eq!(row, (500, 7, 3), "with token: {with_token}");
        assert_eq!(gh.request_count("/graphql") > 0, with_token);
    }
}

#[tokio::test]
async fn removing_an_account_hides_its_stats_from_that_user_only() {
    let gh = FakeGitHub::start().await;
    let id = seed_account(&gh, "octo", "repo", 2);
    let app = server(&gh, true).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    put_account(&app, &alice, "octo").await;
    let (status, _) = put_account(&app, &bob, "octo").await;
    assert_eq!(status, StatusCode::CREATED, "new for bob");

    let response = app
        .send_json(
            Method::DELETE,
            &format!("/v1/users/{id}"),
            &json!({}),
            Some(&alice),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let stats = format!("/v1/users/{id}/stats");
    let (status, _) = json_of(app.get(&stats, Some(&alice)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json_of(
        app.get("/repositories/octo/repo-000/history", Some(&alice))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = json_of(app.get(&stats, Some(&bob)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["stats"].as_array().map(Vec::len), Some(2));
    let (status, _) = json_of(
        app.get("/repositories/octo/repo-000/history", Some(&bob))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn history_of_a_tracked_repository() {
    let gh = FakeGitHub::start().await;
    seed_account(&gh, "octo", "repo", 1);
    gh.add_repo("acme", "widget");
    gh.set_repo_counts("acme", "widget", 10, 2, 1);
    let app = server(&gh, true).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    put_account(&app, &alice, "octo").await;
    let (status, _) = json_of(
        app.post_json(
            "/repositories",
            &json!({"owner": "acme", "name": "widget"}),
            Some(&alice),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    gitpulse::daily_stats::run_daily_scan(&app.state, days_ago(1))
        .await
        .expect("scan yesterday");
    gh.set_repo_counts("acme", "widget", 12, 2, 1);
    gitpulse::daily_stats::run_daily_scan(&app.state, today())
        .await
        .expect("scan today");

    let (status, body) = json_of(
        app.get("/repositories/acme/widget/history", Some(&alice))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"repository": "acme/widget", "history": [
            {"date": days_ago(1).to_string(), "stargazers": 10, "forks": 2, "watchers": 1, "source": "snapshot"},
            {"date": today().to_string(), "stargazers": 12, "forks": 2, "watchers": 1, "source": "snapshot"},
        ]})
    );
    let path = format!("/repositories/acme/widget/history?from={0}&to={0}", today());
    let (_, body) = json_of(app.get(&path, Some(&alice)).await).await;
    assert_eq!(body["history"].as_array().map(Vec::len), Some(1));
    // Through the tracked account too.
    let (status, body) = json_of(
        app.get("/repositories/octo/repo-000/history", Some(&alice))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["history"].as_array().map(Vec::len), Some(2));

    let (status, body) = json_of(
        app.get("/repositories/acme/widget/history", Some(&bob))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = json_of(
        app.get(
            "/repositories/acme/widget/history?from=2026-01-02&to=2026-01-01",
            Some(&alice),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = json_of(
        app.get("/repositories/acme/widget/history?to=nope", Some(&alice))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn routes_are_documented() {
    let app = TestApp::spawn().await;
    let (_, doc) = json_of(app.get("/openapi.json", None).await).await;
    for path in [
        "/v1/users",
        "/v1/users/{id}",
        "/v1/users/{id}/stats",
        "/repositories/{owner}/{name}/history",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["paths"]["/v1/users"]["put"].is_object());
    assert!(doc["paths"]["/v1/users/{id}"]["delete"].is_object());
}
