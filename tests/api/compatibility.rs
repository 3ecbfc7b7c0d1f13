//! The original services' clients, unchanged: the fields seed 001's scripts filter on.

use fake_github::FakeGitHub;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::integration::{oauth_app, seed, sign_in, wait_for_sync};
use crate::support::{TestApp, json_of};

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
