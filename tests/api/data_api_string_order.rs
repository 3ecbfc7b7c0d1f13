//! Deep pages of a search sorted by a path that holds only strings are sorted by text: the
//! same documents in the same order as the plain `jsonb` order, ascending and descending,
//! with ties and missing values; once the path holds another type, the `jsonb` order is used.

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;

use gitpulse::store::documents::{DEEP_OFFSET, DocumentQuery, KeyOrder, SortOrder, key_order};

use crate::support::{TestApp, json_of};

/// 6,000 commits, every other one mentioning "parser" (3,000 matches: many, so the total is
/// estimated and the page read in order); 30 distinct dates (ties), every 11th without one.
const SEED: &str = "
insert into github_documents (integration_id, collection, key, doc)
select $1, 'github_commits', md5(g::text), jsonb_build_object(
    'sha', md5(g::text),
    'commit', jsonb_build_object(
        'message', case when g % 2 = 0 then 'Fix the parser ' else 'Change ' end || g,
        'author', jsonb_build_object('name', 'a') ||
            case when g % 11 = 0 then '{}'::jsonb
                 else jsonb_build_object('date', '2026-01-' || lpad((1 + g % 30)::text, 2, '0')
                      || 'T00:00:00Z') end))
from generate_series(1, 6000) g";

async fn order_for(app: &TestApp, integration: i64, order: SortOrder, offset: i64) -> KeyOrder {
    let path = vec!["commit".to_string(), "author".into(), "date".into()];
    let q = DocumentQuery {
        integration_id: integration,
        collection: "github_commits",
        filter: None,
        search: Some("parser"),
        sort_by: Some(&path),
        order,
        limit: 20,
        offset,
        after: None,
    };
    let url = crate::support::database_url(&app.database);
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connects");
    key_order(&mut conn, &q).await.expect("key order")
}

/// The page from the API next to the plain query's.
async fn compare(app: &TestApp, token: &str, integration: i64, desc: bool, page: i64) {
    let dir = if desc { "desc" } else { "asc" };
    let response = app
        .request(reqwest::Method::GET, "/data/github_commits")
        .bearer_auth(token)
        .query(&[
            ("search", "parser".to_string()),
            ("sort_by", "commit.author.date".into()),
            ("sort_order", dir.into()),
            ("page", page.to_string()),
            ("limit", "20".into()),
        ])
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected: Vec<Value> = sqlx::query_scalar(&format!(
        "select doc from github_documents
         where integration_id = $1 and collection = 'github_commits'
           and search_text like '%parser%'
         order by doc #> '{{commit,author,date}}' {dir} nulls last, key limit 20 offset $2"
    ))
    .bind(integration)
    .bind((page - 1) * 20)
    .fetch_all(&app.state.db)
    .await
    .expect("reference");
    assert!(
        !expected.is_empty(),
        "page {page} {dir} is within the matches"
    );
    assert!(
        body["data"].as_array() == Some(&expected),
        "page {page} {dir}: {:?} vs {:?}",
        body["data"].as_array().map(|d| d
            .iter()
            .take(3)
            .map(|d| d["sha"].clone())
            .collect::<Vec<_>>()),
        expected
            .iter()
            .take(3)
            .map(|d| &d["sha"])
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn deep_pages_sorted_by_a_string_path_are_the_jsonb_order() {
    let app = TestApp::spawn().await;
    let token = app.register("strings").await;
    let integration = app.integration_for("strings", 78).await;
    sqlx::query(SEED)
        .bind(integration)
        .execute(&app.state.db)
        .await
        .expect("seeded");

    let deep = DEEP_OFFSET + 180;
    assert!(matches!(
        order_for(&app, integration, SortOrder::Desc, deep).await,
        KeyOrder::Text { .. }
    ));
    assert_eq!(
        order_for(&app, integration, SortOrder::Desc, 0).await,
        KeyOrder::Json,
        "shallow pages keep the index order"
    );
    // Deep pages in both directions, through ties and into the documents without a date.
    for (desc, page) in [
        (true, 60),
        (false, 60),
        (true, 100),
        (false, 149),
        (true, 150),
    ] {
        compare(&app, &token, integration, desc, page).await;
    }

    // One number at the path: no longer only strings, and the pages stay the same.
    sqlx::query(
        "insert into github_documents (integration_id, collection, key, doc)
         values ($1, 'github_commits', 'number',
                 '{\"sha\": \"number\", \"commit\": {\"message\": \"parser\", \"author\": {\"date\": 5}}}')",
    )
    .bind(integration)
    .execute(&app.state.db)
    .await
    .expect("inserted");
    assert_eq!(
        order_for(&app, integration, SortOrder::Asc, deep).await,
        KeyOrder::Json
    );
    for (desc, page) in [(true, 60), (false, 150)] {
        compare(&app, &token, integration, desc, page).await;
    }
}

/// The list of indexed sort paths is the database's: each has an index in both directions,
/// partial to its collection, and no sort index is missing from the list.
#[tokio::test]
async fn the_indexed_sort_paths_are_the_migrations() {
    let app = TestApp::spawn().await;
    let definitions: Vec<String> = sqlx::query_scalar(
        "select indexdef from pg_indexes
         where tablename = 'github_documents' and indexdef like '%(doc #> %, key) WHERE%'",
    )
    .fetch_all(&app.state.db)
    .await
    .expect("indexes");
    assert_eq!(
        definitions.len(),
        2 * gitpulse::store::documents::INDEXED_SORT_PATHS.len(),
        "{definitions:#?}"
    );
    for (collection, path) in gitpulse::store::documents::INDEXED_SORT_PATHS {
        let expression = format!("((doc #> '{{{}}}'::text[]))", path.join(","));
        for direction in ["", " DESC NULLS LAST"] {
            let wanted =
                format!("{expression}{direction}, key) WHERE (collection = '{collection}'::text)");
            assert!(
                definitions.iter().any(|d| d.ends_with(&wanted)),
                "no index ending in {wanted}: {definitions:#?}"
            );
        }
    }
}
