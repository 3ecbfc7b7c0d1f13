//! Tracking repositories and reading their event statistics.

use chrono::{Duration, Utc};
use fake_github::{FakeGitHub, Fault};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, json_of};

async fn app_with(gh: &FakeGitHub) -> TestApp {
    TestApp::with_github(gh, |c| c.scheduler_enabled = false).await
}

#[tokio::test]
async fn add_list_and_remove_repositories() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("octocat", "Hello-World");
    gh.add_repo("rust-lang", "rust");
    let app = app_with(&gh).await;
    let token = app.register("alice").await;

    // Names are matched case-insensitively and stored as GitHub spells them.
    let body = json!({"owner": "OCTOCAT", "name": "hello-world"});
    let (status, answer) = json_of(app.post_json("/repositories", &body, Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"message": "Repository was added"}));
    let (status, answer) = json_of(app.post_json("/repositories", &body, Some(&token)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["message"], "Repository is already added");

    // The seed's alias.
    let rust = json!({"owner": "rust-lang", "name": "rust"});
    let (status, _) = json_of(app.post_json("/repository", &rust, Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);

    let (status, list) = json_of(app.get("/repositories", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list["repositories"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["full_name"].as_str())
        .collect();
    assert_eq!(names, ["octocat/Hello-World", "rust-lang/rust"]);
    assert!(list["repositories"][0]["last_synchronized"].is_null());
    assert_eq!(list["repositories"][0]["events_stored"], 0);

    // Three ways to remove.
    let removed = app
        .send_json(Method::DELETE, "/repositories", &body, Some(&token))
        .await;
    let (status, answer) = json_of(removed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["message"], "Repository was removed");
    let again = app
        .send_json(Method::DELETE, "/repositories", &body, Some(&token))
        .await;
    let (status, answer) = json_of(again).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["message"], "Repository is not in your list");
    let by_path = app
        .request(Method::DELETE, "/repositories/rust-lang/rust")
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(by_path.status(), StatusCode::OK);
    app.post_json("/repositories", &body, Some(&token)).await;
    let alias = app
        .send_json(Method::DELETE, "/repository", &body, Some(&token))
        .await;
    assert_eq!(alias.status(), StatusCode::OK);
    let (_, list) = json_of(app.get("/repositories", Some(&token)).await).await;
    assert_eq!(list["repositories"], json!([]));
}

#[tokio::test]
async fn bad_input_is_rejected_before_asking_github() {
    let gh = FakeGitHub::start().await;
    let app = app_with(&gh).await;
    let token = app.register("bob").await;

    let (status, answer) = json_of(
        app.post_json("/repositories", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["message"], "Missing required fields: owner, name");
    let (_, answer) = json_of(
        app.post_json("/repositories", &json!({"owner": "x"}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(answer["message"], "Missing required fields: name");
    for (owner, name) in [
        ("../etc", "passwd"),
        ("octocat", ".."),
        ("-rf", "x"),
        ("a b", "c"),
        ("o", "n?x=1"),
    ] {
        let body = json!({"owner": owner, "name": name});
        let response = app.post_json("/repositories", &body, Some(&token)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{owner}/{name}");
    }
    assert_eq!(gh.request_count("/"), 0, "no GitHub call for invalid input");

    let (status, answer) = json_of(
        app.post_json(
            "/repositories",
            &json!({"owner": "ghost", "name": "nothing"}),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["message"], "Repository does not exist");

    let response = app
        .post_json("/repositories", &json!({"owner": "a", "name": "b"}), None)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let tracked: i64 = sqlx::query_scalar("select count(*) from tracked_repositories")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(tracked, 0, "failed requests wrote nothing");
}

#[tokio::test]
async fn github_outage_while_adding_is_503() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("octocat", "Hello-World");
    for _ in 0..5 {
        gh.fail_next("/repos/octocat/Hello-World", Fault::Status(502));
    }
    let app = app_with(&gh).await;
    let token = app.register("carol").await;
    let body = json!({"owner": "octocat", "name": "Hello-World"});
    let (status, answer) = json_of(app.post_json("/repositories", &body, Some(&token)).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["message"], "GitHub is unavailable; try again later");
}

#[tokio::test]
async fn a_repository_is_stored_once_for_all_its_users() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("octocat", "Hello-World");
    let app = app_with(&gh).await;
    let body = json!({"owner": "octocat", "name": "Hello-World"});
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    assert_eq!(
        app.post_json("/repositories", &body, Some(&alice))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.post_json("/repositories", &body, Some(&bob))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        gh.request_count("/repos/octocat/Hello-World"),
        1,
        "the second add needs no GitHub call"
    );
    let rows: i64 = sqlx::query_scalar("select count(*) from repositories")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(rows, 1);

    // Bob's removal leaves Alice's list alone.
    app.send_json(Method::DELETE, "/repositories", &body, Some(&bob))
        .await;
    let (_, list) = json_of(app.get("/repositories", Some(&alice)).await).await;
    assert_eq!(list["repositories"].as_array().map(Vec::len), Some(1));
    let (_, list) = json_of(app.get("/repositories", Some(&bob)).await).await;
    assert_eq!(list["repositories"], json!([]));
}

#[tokio::test]
async fn statistics_after_the_first_poll() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("octocat", "Hello-World");
    gh.add_repo("octocat", "Spoon-Knife");
    let start = Utc::now() - Duration::hours(2);
    gh.generate_events("octocat", "Hello-World", 3, "PushEvent", start, 45);
    gh.generate_events(
        "octocat",
        "Hello-World",
        1,
        "WatchEvent",
        start + Duration::minutes(5),
        0,
    );
    let app = app_with(&gh).await;
    let token = app.register("dave").await;
    for name in ["Hello-World", "Spoon-Knife"] {
        let body = json!({"owner": "octocat", "name": name});
        assert_eq!(
            app.post_json("/repositories", &body, Some(&token))
                .await
                .status(),
            StatusCode::OK
        );
    }

    // Before any poll: no data.
    let (status, answer) = json_of(
        app.get(
            "/repository/stats?owner=octocat&name=Hello-World",
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["message"],
        "We don't have any data for this repository yet"
    );
    let (status, all) = json_of(app.get("/repository/all/stats", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        all["repositories_statistics"][0]["statistics"],
        serde_json::Value::Null
    );
    assert_eq!(
        all["repositories_statistics"][0]["last_synchronized"],
        serde_json::Value::Null
    );

    let summary = gitpulse::jobs::poller::poll_due(&app.state)
        .await
        .expect("poll");
    assert_eq!(summary.polled, 2);
    assert_eq!(summary.new_events, 4);

    let (status, stats) = json_of(
        app.get(
            "/repository/stats?owner=octocat&name=hello-world",
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["repository"], "octocat/Hello-World");
    assert_eq!(
        stats["statistics"],
        json!({
            "PushEvent": {"count": 3, "avg_seconds_between": 45.0},
            "WatchEvent": {"count": 1, "avg_seconds_between": 0.0},
        })
    );
    assert!(
        stats["last_synchronized"]
            .as_str()
            .is_some_and(|t| t.parse::<chrono::DateTime<Utc>>().is_ok())
    );

    // The seed also accepted a JSON body on the GET.
    let by_body = app
        .request(Method::GET, "/repository/stats")
        .bearer_auth(&token)
        .json(&json!({"owner": "octocat", "name": "Hello-World"}))
        .send()
        .await
        .expect("sent");
    let (status, same) = json_of(by_body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same["statistics"], stats["statistics"]);

    let (_, all) = json_of(app.get("/repository/all/stats", Some(&token)).await).await;
    let all = all["repositories_statistics"]
        .as_array()
        .expect("array")
        .clone();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["statistics"], stats["statistics"]);
    assert_eq!(all[1]["repository"], "octocat/Spoon-Knife");
    assert_eq!(all[1]["statistics"], json!({}), "synced, no events");

    // Cached statistics follow new events.
    gh.generate_events(
        "octocat",
        "Hello-World",
        1,
        "PushEvent",
        start + Duration::seconds(90 + 45),
        0,
    );
    sqlx::query("update repositories set next_poll_at = now()")
        .execute(&app.state.db)
        .await
        .expect("due");
    gitpulse::jobs::poller::poll_due(&app.state)
        .await
        .expect("poll");
    let (_, stats) = json_of(
        app.get(
            "/repository/stats?owner=octocat&name=Hello-World",
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(
        stats["statistics"]["PushEvent"],
        json!({"count": 4, "avg_seconds_between": 45.0})
    );

    // The answer for all repositories (served from a per-user cache) follows too.
    let (_, all) = json_of(app.get("/repository/all/stats", Some(&token)).await).await;
    assert_eq!(
        all["repositories_statistics"][0]["statistics"]["PushEvent"],
        json!({"count": 4, "avg_seconds_between": 45.0})
    );
    // So does the set of repositories.
    let body = json!({"owner": "octocat", "name": "Spoon-Knife"});
    app.send_json(Method::DELETE, "/repositories", &body, Some(&token))
        .await;
    let (_, all) = json_of(app.get("/repository/all/stats", Some(&token)).await).await;
    assert_eq!(
        all["repositories_statistics"].as_array().map(Vec::len),
        Some(1)
    );

    // Another user sees none of it.
    let eve = app.register("eve").await;
    let (status, answer) = json_of(
        app.get(
            "/repository/stats?owner=octocat&name=Hello-World",
            Some(&eve),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["message"], "Repository is not in your list");
    let (_, all) = json_of(app.get("/repository/all/stats", Some(&eve)).await).await;
    assert_eq!(all["repositories_statistics"], json!([]));
}
