//! The original services' clients, unchanged: seed 003's push client (`gitleague-client`,
//! Python and httpx) replayed request by request, and the fields seed 001's scripts filter on.

use fake_github::FakeGitHub;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::integration::{oauth_app, seed, sign_in, wait_for_sync};
use crate::support::push::{create_key, user_with_repo};
use crate::support::{TestApp, json_of};

/// One request as httpx sends it: its default headers, the key as a bearer token, and a
/// body written by Python's `json.dumps` (", " and ": " separators).
async fn as_httpx(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", app.url))
        .header("accept", "*/*")
        .header("accept-encoding", "gzip, deflate")
        .header("connection", "keep-alive")
        .header("user-agent", "python-httpx/0.27.0")
        .header("authorization", format!("Bearer {key}"));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    json_of(request.send().await.expect("sent")).await
}

/// The commit as the original client builds it; `date` is what it sends for `commit_date`.
fn original_commit(sha: &str, date: &str, title: &str) -> String {
    format!(
        r#"{{"sha": "{sha}", "author_name": "Alice Developer", "author_email": "alice@example.com", "committer_name": "Alice Developer", "committer_email": "alice@example.com", "commit_date": "{date}", "message_title": "{title}", "message_body": "Detailed description...", "additions": 42, "deletions": 15, "files_changed": 3, "is_merge": false, "parent_count": 1}}"#
    )
}

#[tokio::test]
async fn the_original_push_client_works_unchanged() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "commissioner").await;
    let (_, key) = create_key(&app, &jwt, json!({"scopes": "sync:commits,read:repos"})).await;
    let status_path = format!("/api/v1/sync/projects/{project}/repos/{repo}/status");
    let push_path = format!("/api/v1/sync/projects/{project}/repos/{repo}/commits");

    // `gitleague-client test`: the server is up, then the repository's status.
    let (status, _) = as_httpx(&app, reqwest::Method::GET, "/health", &key, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, before) = as_httpx(&app, reqwest::Method::GET, &status_path, &key, None).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(before["repo_id"], repo);
    assert_eq!(before["status"], "pending");
    assert_eq!(before["total_commits"], 0);
    assert!(before["last_ingested_sha"].is_null(), "{before}");

    // `gitleague-client sync`: dates as Python's isoformat() writes them, without an offset.
    let shas: Vec<String> = (0..3)
        .map(|i| format!("{i:0>2}{}", "c0ffee".repeat(6) + "ab"))
        .collect();
    let commits = [
        original_commit(&shas[0], "2026-01-02T12:00:00", "First"),
        original_commit(&shas[1], "2026-01-02T13:30:00.123456", "Second"),
        original_commit(&shas[2], "2026-01-02T15:00:00Z", "Third"),
    ];
    let body = format!(
        r#"{{"commits": [{}], "client_version": "0.1.0"}}"#,
        commits.join(", ")
    );
    let (status, pushed) =
        as_httpx(&app, reqwest::Method::POST, &push_path, &key, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{pushed}");
    // Every field the client reads, with the types it expects.
    assert_eq!(pushed["total"], 3);
    assert_eq!(pushed["inserted"], 3);
    assert_eq!(pushed["skipped"], 0);
    assert_eq!(pushed["errors"], 0);
    assert_eq!(pushed["last_ingested_sha"], shas[2].as_str());
    let details = pushed["details"].as_array().expect("details");
    assert_eq!(details.len(), 3);
    for (detail, sha) in details.iter().zip(&shas) {
        assert_eq!(detail["sha"], sha.as_str());
        assert_eq!(detail["inserted"], true);
        assert!(detail["error"].is_null(), "{detail}");
    }

    // The client resends after an interruption: everything is skipped, nothing doubles.
    let (status, again) =
        as_httpx(&app, reqwest::Method::POST, &push_path, &key, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(
        (again["inserted"].as_i64(), again["skipped"].as_i64()),
        (Some(0), Some(3))
    );
    assert!(
        again["details"]
            .as_array()
            .expect("details")
            .iter()
            .all(|d| d["inserted"] == false)
    );

    let (status, after) = as_httpx(&app, reqwest::Method::GET, &status_path, &key, None).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["status"], "healthy");
    assert_eq!(after["total_commits"], 3);
    assert_eq!(after["last_ingested_sha"], shas[2].as_str());
    assert!(after["last_sync_at"].is_string(), "{after}");
    assert!(after["error_message"].is_null(), "{after}");

    // The dates without an offset were taken as UTC, to the microsecond.
    let stored: Vec<String> = sqlx::query_scalar(
        "select to_char(commit_date at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')
         from repo_commits where repo_id = $1 order by commit_date",
    )
    .bind(repo)
    .fetch_all(&app.state.db)
    .await
    .expect("dates");
    assert_eq!(
        stored,
        [
            "2026-01-02T12:00:00.000000",
            "2026-01-02T13:30:00.123456",
            "2026-01-02T15:00:00.000000"
        ]
    );
}

/// `/data/{collection}` with a filter (and a sort): the status and the answer.
async fn query(
    app: &TestApp,
    token: &str,
    collection: &str,
    filter: &Value,
    sort_by: Option<&str>,
) -> Value {
    let filter = filter.to_string();
    let mut params = vec![("filter", filter.as_str()), ("limit", "100")];
    if let Some(sort_by) = sort_by {
        params.extend([("sort_by", sort_by), ("sort_order", "asc")]);
    }
    let response = app
        .request(reqwest::Method::GET, &format!("/data/{collection}"))
        .bearer_auth(token)
        .query(&params)
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn total(body: &Value) -> i64 {
    body["pagination"]["total_items"].as_i64().expect("total")
}

#[tokio::test]
async fn synced_documents_carry_the_fields_seed_001_clients_filter_on() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    gh.set_repo_language("acme", "widgets", "Python");
    gh.set_repo_language("octocat", "hello-world", "Rust");
    let octocat_id = gh.add_user("octocat", Some("The Octocat"));
    let app = oauth_app(&gh).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;

    let widgets = json!({"repository": "acme/widgets"});
    for (collection, expected) in [
        ("github_commits", 105),
        ("github_pulls", 1),
        ("github_issues", 1),
        ("github_changelogs", 1),
    ] {
        let body = query(&app, &token, collection, &widgets, None).await;
        assert_eq!(total(&body), expected, "{collection}: {body}");
        assert!(
            body["data"]
                .as_array()
                .expect("list")
                .iter()
                .all(|d| d["repository"] == "acme/widgets"),
            "{collection}"
        );
    }
    let hello = json!({"repository": {"$in": ["octocat/hello-world", "octocat/empty"]}});
    assert_eq!(
        total(&query(&app, &token, "github_commits", &hello, None).await),
        3
    );

    let python = query(
        &app,
        &token,
        "github_repos",
        &json!({"primary_language": "Python"}),
        None,
    )
    .await;
    assert_eq!(total(&python), 1, "{python}");
    assert_eq!(python["data"][0]["full_name"], "acme/widgets");
    // The raw GitHub JSON stays as it is beside the added fields.
    assert_eq!(python["data"][0]["language"], "Python");
    let by_language = query(
        &app,
        &token,
        "github_repos",
        &json!({}),
        Some("primary_language"),
    )
    .await;
    let languages: Vec<&Value> = by_language["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| &d["primary_language"])
        .collect();
    // JSON null sorts before strings, as in MongoDB.
    assert_eq!(languages, [&Value::Null, &json!("Python"), &json!("Rust")]);

    let members = query(
        &app,
        &token,
        "github_users",
        &json!({"organization": "acme"}),
        None,
    )
    .await;
    assert_eq!(total(&members), 2, "{members}");

    // Every document of every collection names the integration's GitHub user.
    let mine = json!({"integration_user_id": octocat_id});
    for (collection, expected) in [
        ("github_organizations", 1),
        ("github_users", 2),
        ("github_repos", 3),
        ("github_commits", 108),
        ("github_pulls", 1),
        ("github_issues", 1),
        ("github_changelogs", 1),
    ] {
        let body = query(&app, &token, collection, &mine, None).await;
        assert_eq!(total(&body), expected, "{collection}: {body}");
    }
}

/// Documents synced before 0.8.0 get the fields from the migration: `repository` from each
/// document's API `url`, `primary_language` from `language`, `integration_user_id` from the
/// integration; the member lists are fetched again by the next sync (their ETags are gone).
#[tokio::test]
async fn the_migration_adds_the_fields_to_documents_synced_before() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let app = oauth_app(&gh).await;
    let token = sign_in(&app, &gh, "octocat", None).await;
    wait_for_sync(&app, &token).await;
    let db = &app.state.db;
    let strip = "update github_documents set doc = doc - 'repository' - 'organization'
                 - 'integration_user_id' - 'primary_language'";
    sqlx::query(strip).execute(db).await.expect("stripped");
    let etags: i64 = sqlx::query_scalar(
        "select count(*) from github_sync_cursors where list_key like 'org:%:members'
         and etag is not null",
    )
    .fetch_one(db)
    .await
    .expect("count");
    assert!(etags > 0, "the member lists keep ETags");

    let migration = include_str!("../../migrations/20261201000200_document_fields_of_seed_001.sql");
    sqlx::raw_sql(migration)
        .execute(db)
        .await
        .expect("migrated");

    let widgets = json!({"repository": "acme/widgets"});
    let commits = query(&app, &token, "github_commits", &widgets, None).await;
    assert_eq!(total(&commits), 105);
    for collection in ["github_pulls", "github_issues", "github_changelogs"] {
        let body = query(&app, &token, collection, &widgets, None).await;
        assert_eq!(total(&body), 1, "{collection}: {body}");
    }
    let octocat_id = gh.add_user("octocat", Some("The Octocat"));
    let repos = query(
        &app,
        &token,
        "github_repos",
        &json!({"integration_user_id": octocat_id, "primary_language": null}),
        None,
    )
    .await;
    assert_eq!(total(&repos), 3, "{repos}");

    let acme = json!({"organization": "acme"});
    assert_eq!(
        total(&query(&app, &token, "github_users", &acme, None).await),
        0
    );
    let (status, body) = json_of(
        app.post_json("/integration/resync", &json!({}), Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        total(&query(&app, &token, "github_users", &acme, None).await),
        2
    );
}
