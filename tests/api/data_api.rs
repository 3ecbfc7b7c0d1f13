//! The data API over synced documents: every filter operator, sorting, paging, search, and
//! hostile input that must be answered 400 (never 500) with the tables intact.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, json_of};

/// A user whose integration holds `docs` in `github_repos`; returns the user's token.
async fn user_with_repos(app: &TestApp, username: &str, github_id: i64, docs: &[Value]) -> String {
    let token = app.register(username).await;
    let integration = app.integration_for(username, github_id).await;
    for doc in docs {
        sqlx::query(
            "insert into github_documents (integration_id, collection, key, doc)
             values ($1, 'github_repos', $2, $3)",
        )
        .bind(integration)
        .bind(doc["id"].to_string())
        .bind(doc)
        .execute(&app.state.db)
        .await
        .expect("document");
    }
    token
}

fn repos() -> Vec<Value> {
    vec![
        json!({"id": 1, "name": "alpha", "full_name": "acme/alpha", "description": "Fast parser",
               "language": "Rust", "stargazers_count": 150, "fork": false, "topics": ["cli", "parser"],
               "owner": {"login": "acme", "type": "Organization"}, "license": null,
               "pushed_at": "2024-03-01T10:00:00Z"}),
        json!({"id": 2, "name": "beta", "full_name": "acme/beta", "description": "Web 100% framework",
               "language": "Python", "stargazers_count": 50, "fork": true,
               "owner": {"login": "acme", "type": "Organization"}, "license": {"key": "mit"},
               "pushed_at": "2024-01-15T10:00:00Z"}),
        json!({"id": 3, "name": "gamma", "full_name": "octo/gamma", "description": null,
               "language": "Rust", "stargazers_count": 5, "fork": false,
               "owner": {"login": "octo", "type": "User"}, "pushed_at": "2023-12-31T23:59:59Z"}),
        json!({"id": 4, "name": "delta", "full_name": "octo/delta", "description": "Delta_tool",
               "language": "Go", "stargazers_count": "1000", "fork": false,
               "owner": {"login": "octo", "type": "User"}}),
    ]
}

async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let token = user_with_repos(&app, "reader", 1, &repos()).await;
    (app, token)
}

async fn query(app: &TestApp, token: &str, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = app
        .request(reqwest::Method::GET, "/data/github_repos")
        .bearer_auth(token)
        .query(params)
        .send()
        .await
        .expect("sent");
    json_of(response).await
}

/// Names matching `filter`, sorted by name.
async fn names(app: &TestApp, token: &str, filter: &str) -> Vec<String> {
    let (status, body) = query(app, token, &[("filter", filter), ("sort_by", "name")]).await;
    assert_eq!(status, StatusCode::OK, "{filter}: {body}");
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| d["name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test]
async fn every_operator_filters_as_in_mongodb() {
    let (app, token) = setup().await;
    let cases: &[(&str, &[&str])] = &[
        (r#"{"language": "Rust"}"#, &["alpha", "gamma"]),
        (r#"{"owner.login": "octo"}"#, &["delta", "gamma"]),
        (r#"{"language": {"$eq": "Go"}}"#, &["delta"]),
        (r#"{"language": {"$ne": "Rust"}}"#, &["beta", "delta"]),
        // Numbers compare numerically; the string "1000" is not a number.
        (r#"{"stargazers_count": {"$gt": 50}}"#, &["alpha"]),
        (r#"{"stargazers_count": {"$gte": 50}}"#, &["alpha", "beta"]),
        (r#"{"stargazers_count": {"$lt": 50}}"#, &["gamma"]),
        (r#"{"stargazers_count": {"$lte": 50, "$gt": 5}}"#, &["beta"]),
        (
            r#"{"pushed_at": {"$gte": "2024-01-01T00:00:00Z"}}"#,
            &["alpha", "beta"],
        ),
        (r#"{"fork": true}"#, &["beta"]),
        (r#"{"fork": {"$ne": true}}"#, &["alpha", "delta", "gamma"]),
        (
            r#"{"language": {"$in": ["Go", "Python"]}}"#,
            &["beta", "delta"],
        ),
        (
            r#"{"stargazers_count": {"$in": [5, 150]}}"#,
            &["alpha", "gamma"],
        ),
        (r#"{"language": {"$nin": ["Rust"]}}"#, &["beta", "delta"]),
        (r#"{"license": {"$exists": true}}"#, &["alpha", "beta"]),
        (r#"{"license": {"$exists": false}}"#, &["delta", "gamma"]),
        // null matches a null value and a missing field, like MongoDB.
        (r#"{"license": null}"#, &["alpha", "delta", "gamma"]),
        (r#"{"license.key": "mit"}"#, &["beta"]),
        (r#"{"license": {"key": "mit"}}"#, &["beta"]),
        (r#"{"topics.1": "parser"}"#, &["alpha"]),
        (r#"{"description": {"$regex": "^fast"}}"#, &[]),
        (
            r#"{"description": {"$regex": "^fast", "$options": "i"}}"#,
            &["alpha"],
        ),
        (
            r#"{"full_name": {"$regex": "^octo/"}}"#,
            &["delta", "gamma"],
        ),
        (
            r#"{"$or": [{"language": "Go"}, {"stargazers_count": {"$gt": 100}}]}"#,
            &["alpha", "delta"],
        ),
        (
            r#"{"$and": [{"language": "Rust"}, {"fork": false}, {"stargazers_count": {"$lt": 100}}]}"#,
            &["gamma"],
        ),
        (r#"{"$not": {"language": "Rust"}}"#, &["beta", "delta"]),
        (
            r#"{"stargazers_count": {"$not": {"$gt": 10}}}"#,
            &["delta", "gamma"],
        ),
        (r#"{"name": "x' or '1'='1"}"#, &[]),
        (r#"{}"#, &["alpha", "beta", "delta", "gamma"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(names(&app, &token, filter).await, *expected, "{filter}");
    }
    let (_, body) = query(&app, &token, &[("filter", r#"{"fork": true}"#)]).await;
    assert_eq!(body["meta"]["filters_applied"], true);
    assert_eq!(body["meta"]["search_applied"], false);
    assert_eq!(body["meta"]["collection"], "github_repos");
}

#[tokio::test]
async fn sorting_and_pagination() {
    let (app, token) = setup().await;
    let (status, body) = query(
        &app,
        &token,
        &[
            ("sort_by", "pushed_at"),
            ("sort_order", "desc"),
            ("limit", "2"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| d["name"].as_str().expect("n"))
        .collect();
    assert_eq!(page, ["alpha", "beta"]);
    assert_eq!(
        body["pagination"],
        json!({"current_page": 1, "total_pages": 2, "total_items": 4, "items_per_page": 2,
               "has_next": true, "has_previous": false})
    );
    assert_eq!(body["meta"]["sort_by"], "pushed_at");
    assert_eq!(body["meta"]["sort_order"], "desc");

    // Missing values sort last either way.
    let (_, body) = query(
        &app,
        &token,
        &[("sort_by", "pushed_at"), ("page", "2"), ("limit", "2")],
    )
    .await;
    let page: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| d["name"].as_str().expect("n"))
        .collect();
    assert_eq!(page, ["alpha", "delta"]);
    assert_eq!(body["pagination"]["has_previous"], true);
    assert_eq!(body["pagination"]["has_next"], false);

    let (status, body) = query(&app, &token, &[("page", "9"), ("limit", "3")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], json!([]));
    assert_eq!(body["pagination"]["total_items"], 4);
    assert_eq!(body["pagination"]["total_pages"], 2);
    assert_eq!(body["pagination"]["has_next"], false);

    for (name, value) in [
        ("limit", "0"),
        ("limit", "101"),
        ("page", "0"),
        ("page", "-1"),
        ("limit", "ten"),
        ("sort_order", "sideways"),
        ("sort_by", "name;drop"),
        ("sort_by", "a..b"),
    ] {
        let (status, body) = query(&app, &token, &[(name, value)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}={value}: {body}");
    }
    let (status, body) = query(&app, &token, &[("limit", "100")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn search_is_case_insensitive_and_literal() {
    let (app, token) = setup().await;
    let found = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|d| d["name"].as_str().expect("n").to_string())
            .collect()
    };
    let (status, body) = query(&app, &token, &[("search", "PARSER")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(found(&body), ["alpha"]);
    assert_eq!(body["meta"]["search_applied"], true);
    // LIKE metacharacters match themselves.
    let (_, body) = query(&app, &token, &[("search", "100%")]).await;
    assert_eq!(found(&body), ["beta"]);
    let (_, body) = query(&app, &token, &[("search", "_")]).await;
    assert_eq!(found(&body), ["delta"]);
    let (_, body) = query(
        &app,
        &token,
        &[("search", "octo/"), ("filter", r#"{"language": "Rust"}"#)],
    )
    .await;
    assert_eq!(found(&body), ["gamma"]);
    let (status, _) = query(&app, &token, &[("search", &"x".repeat(201))]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = json_of(app.get("/search?q=ACME", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["keyword"], "ACME");
    assert_eq!(body["total_results"], 2);
    assert_eq!(
        body["collections_searched"].as_array().expect("list").len(),
        7
    );
    assert_eq!(
        body["results"]["github_repos"]
            .as_array()
            .expect("list")
            .len(),
        2
    );
    assert_eq!(body["results"]["github_commits"], json!([]));
    let (_, body) = json_of(app.get("/search?q=acme&limit=1", Some(&token)).await).await;
    assert_eq!(body["total_results"], 2);
    assert_eq!(
        body["results"]["github_repos"]
            .as_array()
            .expect("list")
            .len(),
        1
    );
    for path in [
        "/search?q=a",
        "/search",
        "/search?q=ab&limit=51",
        "/search?q=ab&limit=0",
    ] {
        let (status, body) = json_of(app.get(path, Some(&token)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    }
}

#[tokio::test]
async fn unknown_collections_list_the_allowed_ones() {
    let (app, token) = setup().await;
    let (status, body) = json_of(app.get("/data/users", Some(&token)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["message"].as_str().expect("message");
    for c in [
        "github_organizations",
        "github_users",
        "github_repos",
        "github_commits",
        "github_pulls",
        "github_issues",
        "github_changelogs",
    ] {
        assert!(message.contains(c), "{message}");
    }
    let (status, _) = json_of(app.get("/data/github_repos", None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn hostile_filters_are_400_and_the_tables_survive() {
    let (app, token) = setup().await;
    let mut deep = json!({"name": "alpha"});
    for _ in 0..9 {
        deep = json!({"$or": [deep]});
    }
    let many: Vec<i64> = (0..1001).collect();
    let huge = format!(r#"{{"name": "{}"}}"#, "x".repeat(17 * 1024));
    let hostile: Vec<String> = vec![
        r#"{"name'; drop table users; --": 1}"#.into(),
        r#"{"name\"); delete from github_documents; --": 1}"#.into(),
        r#"{"name": {"$where": "1 = 1"}}"#.into(),
        r#"{"$where": "this.a == 1"}"#.into(),
        r#"{"$expr": {"$gt": ["$a", 1]}}"#.into(),
        r#"{"name": {"$regex": "("}}"#.into(),
        r#"{"name": {"$regex": "a{2,1}"}}"#.into(),
        r#"{"name": {"$gt": {"$ne": 1}}}"#.into(),
        deep.to_string(),
        json!({"id": {"$in": many}}).to_string(),
        huge,
        "[1, 2]".into(),
        "42".into(),
        "null".into(),
        "{\"name\": ".into(),
        "not json at all".into(),
        r#"{"a.b.c.d.e.f.g.h.i": 1}"#.into(),
    ];
    for filter in &hostile {
        let (status, body) = query(&app, &token, &[("filter", filter)]).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{}: {body}",
            &filter[..filter.len().min(80)]
        );
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .starts_with("Invalid filter"),
            "{body}"
        );
    }
    let (status, body) = query(&app, &token, &[("filter", r#"{"name": {"$where": 1}}"#)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().expect("m").contains("$where"),
        "names the problem: {body}"
    );

    // At the limits it still works.
    let thousand: Vec<i64> = (0..1000).collect();
    let (status, body) = query(
        &app,
        &token,
        &[("filter", &json!({"id": {"$in": thousand}}).to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pagination"]["total_items"], 4);

    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.state.db)
        .await
        .expect("users table intact");
    assert_eq!(users, 1);
    let docs: i64 = sqlx::query_scalar("select count(*) from github_documents")
        .fetch_one(&app.state.db)
        .await
        .expect("documents intact");
    assert_eq!(docs, 4);
}

#[tokio::test]
async fn each_user_queries_only_their_own_documents() {
    let (app, token) = setup().await;
    let other = user_with_repos(&app, "other", 2, &[json!({"id": 99, "name": "zeta"})]).await;
    assert_eq!(names(&app, &other, "{}").await, ["zeta"]);
    assert_eq!(
        names(&app, &token, r#"{"name": "zeta"}"#).await,
        Vec::<String>::new()
    );
    let nobody = app.register("nobody").await;
    let (status, body) = query(&app, &nobody, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["pagination"]["total_items"], 0);
}
