//! The data API's fast paths (sort indexes, GIN pre-filter, keys-first paging, counted or
//! estimated totals) answer exactly what the plain query answers: the same documents in
//! the same order, ties broken by key, for every query shape, over documents with ties,
//! missing fields, JSON nulls and mixed types.

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;

use crate::support::{TestApp, json_of};

/// 12,000 commits (more than the 4,000 matches counted exactly): 7 authors, 40 distinct dates (many ties); every 11th has no date, every
/// 13th a JSON null date, every 17th a number as its date; every 9th mentions "parser".
const SEED: &str = "
insert into github_documents (integration_id, collection, key, doc)
select $1, 'github_commits', md5(g::text), jsonb_build_object(
    'sha', md5(g::text),
    'commit', jsonb_build_object(
        'message', case when g % 9 = 0 then 'Fix the parser ' else 'Change ' end || g,
        'author', jsonb_build_object('name', 'author-' || (g % 7)) ||
            case when g % 11 = 0 then '{}'::jsonb
                 when g % 13 = 0 then '{\"date\": null}'::jsonb
                 when g % 17 = 0 then jsonb_build_object('date', g)
                 else jsonb_build_object('date', '2026-01-' || lpad((1 + g % 40 / 2)::text, 2, '0')
                      || 'T0' || (g % 2) || ':00:00Z') end),
    'stats', jsonb_build_object('additions', g % 50),
    'parents', jsonb_build_array(jsonb_build_object('sha', md5((g - 1)::text))))
from generate_series(1, 12000) g";

struct Setup {
    app: TestApp,
    token: String,
    integration: i64,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let token = app.register("fast").await;
    let integration = app.integration_for("fast", 77).await;
    sqlx::query(SEED)
        .bind(integration)
        .execute(&app.state.db)
        .await
        .expect("seeded");
    sqlx::query("analyze github_documents")
        .execute(&app.state.db)
        .await
        .expect("analyzed");
    Setup {
        app,
        token,
        integration,
    }
}

/// One shape: the API's parameters and the plain SQL condition and order it must equal.
struct Shape {
    params: Vec<(&'static str, String)>,
    condition: &'static str,
    order: &'static str,
}

fn shape(params: &[(&'static str, &str)], condition: &'static str, order: &'static str) -> Shape {
    Shape {
        params: params.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        condition,
        order,
    }
}

fn shapes() -> Vec<Shape> {
    let author = r#"{"commit.author.name": "author-3"}"#;
    let authors = r#"{"commit.author.name": {"$in": ["author-1", "author-4"]}}"#;
    let by_date = [("sort_by", "commit.author.date"), ("sort_order", "desc")];
    let eq = "coalesce(doc #> '{commit,author,name}', 'null') = '\"author-3\"'";
    let within =
        "coalesce(doc #> '{commit,author,name}', 'null') in ('\"author-1\"', '\"author-4\"')";
    let date_desc = "doc #> '{commit,author,date}' desc nulls last, key";
    let date_asc = "doc #> '{commit,author,date}' asc nulls last, key";
    let parser = "search_text like '%parser%'";
    vec![
        shape(&[], "true", "key"),
        shape(&[("filter", author)], eq, "key"),
        shape(&[("filter", authors)], within, "key"),
        shape(&by_date, "true", date_desc),
        shape(&[("sort_by", "commit.author.date")], "true", date_asc),
        shape(
            &[("filter", authors), by_date[0], by_date[1]],
            within,
            date_desc,
        ),
        shape(&[("filter", author), by_date[0], by_date[1]], eq, date_desc),
        shape(&[("search", "PARSER")], parser, "key"),
        shape(
            &[("search", "parser"), by_date[0], by_date[1]],
            parser,
            date_desc,
        ),
        shape(
            &[
                ("filter", author),
                ("search", "parser"),
                by_date[0],
                by_date[1],
            ],
            "search_text like '%parser%' and coalesce(doc #> '{commit,author,name}', 'null') = '\"author-3\"'",
            date_desc,
        ),
        // Over 4000 matches: the total is estimated, the page and has_next stay exact.
        shape(
            &[
                (
                    "filter",
                    r#"{"commit.author.name": {"$in": ["author-1", "author-2", "author-3"]}}"#,
                ),
                by_date[0],
                by_date[1],
            ],
            "coalesce(doc #> '{commit,author,name}', 'null') in ('\"author-1\"', '\"author-2\"', '\"author-3\"')",
            date_desc,
        ),
        shape(
            &[("filter", r#"{"stats.additions": {"$lt": 40}}"#)],
            "coalesce(jsonb_typeof(doc #> '{stats,additions}') = 'number' and doc #> '{stats,additions}' < '40', false)",
            "key",
        ),
        // Not index-backed: a path without a sort index, a null, a numeric segment.
        shape(
            &[("sort_by", "stats.additions")],
            "true",
            "doc #> '{stats,additions}' asc nulls last, key",
        ),
        shape(
            &[("filter", r#"{"commit.author.date": null}"#)],
            "coalesce(doc #> '{commit,author,date}', 'null') = 'null'",
            "key",
        ),
        shape(
            &[
                ("filter", r#"{"stats.additions": {"$gte": 45}}"#),
                ("sort_by", "commit.author.date"),
            ],
            "coalesce(jsonb_typeof(doc #> '{stats,additions}') = 'number' and doc #> '{stats,additions}' >= '45', false)",
            date_asc,
        ),
        shape(
            &[(
                "filter",
                r#"{"parents.0.sha": "c4ca4238a0b923820dcc509a6f75849b"}"#,
            )],
            "coalesce(doc #> '{parents,0,sha}', 'null') = '\"c4ca4238a0b923820dcc509a6f75849b\"'",
            "key",
        ),
    ]
}

/// The plain query: no index of any kind, the whole sort, an exact count.
async fn reference(setup: &Setup, shape: &Shape, limit: i64, offset: i64) -> (Vec<Value>, i64) {
    let url = crate::support::database_url(&setup.app.database);
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connects");
    let mut tx = conn.begin().await.expect("tx");
    for setting in [
        "enable_indexscan",
        "enable_bitmapscan",
        "enable_indexonlyscan",
    ] {
        sqlx::query(&format!("set local {setting} = off"))
            .execute(&mut *tx)
            .await
            .expect("set");
    }
    let from = format!(
        "from github_documents where integration_id = $1 and collection = 'github_commits' and ({})",
        shape.condition
    );
    let docs: Vec<Value> = sqlx::query_scalar(&format!(
        "select doc {from} order by {} limit $2 offset $3",
        shape.order
    ))
    .bind(setup.integration)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await
    .expect("reference page");
    let total: i64 = sqlx::query_scalar(&format!("select count(*) {from}"))
        .bind(setup.integration)
        .fetch_one(&mut *tx)
        .await
        .expect("reference total");
    (docs, total)
}

#[tokio::test]
async fn every_fast_path_answers_what_the_plain_query_answers() {
    let setup = setup().await;
    let (mut estimated, mut exact_counted) = (0, 0);
    for shape in shapes() {
        for (page, limit) in [(1, 20), (3, 20), (70, 20), (13, 100), (600, 20)] {
            let mut params = shape.params.clone();
            params.push(("page", page.to_string()));
            params.push(("limit", limit.to_string()));
            let body = get_page(&setup, &params).await;
            let offset = (page - 1) * limit;
            let (expected, total) = reference(&setup, &shape, limit, offset).await;
            let docs = body["data"].as_array().expect("data");
            assert!(
                *docs == expected,
                "{params:?}: {} documents, expected {} (first keys {:?} vs {:?})",
                docs.len(),
                expected.len(),
                docs.iter().take(3).map(|d| &d["sha"]).collect::<Vec<_>>(),
                expected
                    .iter()
                    .take(3)
                    .map(|d| &d["sha"])
                    .collect::<Vec<_>>()
            );
            let pagination = &body["pagination"];
            assert_eq!(
                pagination["has_next"],
                offset + limit < total,
                "{params:?}: {body}"
            );
            let shown = body["pagination"]["total_items"].as_i64().expect("total");
            if body["meta"]["total_is_estimate"] == true {
                estimated += 1;
                if docs.is_empty() {
                    assert!(shown <= offset, "{params:?}: past the end, {shown}");
                } else {
                    let known = offset + docs.len() as i64 + i64::from(offset + limit < total);
                    assert!(shown >= known, "{params:?}: {shown} < {known}");
                }
                // A sample's estimate: within a factor of two of the truth here.
                assert!(
                    shown >= total / 2 && shown <= total * 2,
                    "{params:?}: estimated {shown}, exactly {total}"
                );
            } else {
                assert_eq!(shown, total, "{params:?}");
                if shape.condition != "true" && total > limit {
                    exact_counted += 1;
                }
            }
        }
    }
    assert!(estimated >= 6, "the estimating path ran {estimated} times");
    assert!(
        exact_counted >= 6,
        "the counting path ran {exact_counted} times"
    );
}

/// One page of the API: its status and body.
async fn get_page(setup: &Setup, params: &[(&str, String)]) -> Value {
    let response = setup
        .app
        .request(reqwest::Method::GET, "/data/github_commits")
        .bearer_auth(&setup.token)
        .query(params)
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{params:?}: {body}");
    body
}

#[tokio::test]
async fn following_cursors_reads_every_document_once_in_order() {
    let setup = setup().await;
    for shape in shapes() {
        let (expected, total) = reference(&setup, &shape, 100_000, 0).await;
        let mut seen: Vec<Value> = Vec::new();
        let mut params = shape.params.clone();
        params.push(("limit", "100".into()));
        let mut page = 1;
        loop {
            let body = get_page(&setup, &params).await;
            assert_eq!(body["pagination"]["current_page"], page, "{params:?}");
            seen.extend(body["data"].as_array().expect("data").iter().cloned());
            match body["meta"]["next_cursor"].as_str() {
                Some(cursor) => {
                    assert_eq!(body["pagination"]["has_next"], true);
                    params.retain(|(k, _)| *k != "cursor");
                    params.push(("cursor", cursor.to_string()));
                    page += 1;
                }
                None => {
                    assert_eq!(body["pagination"]["has_next"], false, "{params:?}");
                    break;
                }
            }
        }
        assert_eq!(seen.len() as i64, total, "{:?}", shape.params);
        assert!(seen == expected, "{:?}: another order", shape.params);
    }
}

#[tokio::test]
async fn a_cursor_belongs_to_its_query() {
    let setup = setup().await;
    let body = get_page(&setup, &[("sort_by", "commit.author.date".into())]).await;
    let cursor = body["meta"]["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_string();
    for (params, why) in [
        (vec![("cursor", cursor.clone())], "another query"),
        (
            vec![
                ("sort_by", "commit.author.date".to_string()),
                ("cursor", cursor.clone()),
                ("page", "2".into()),
            ],
            "either page or cursor",
        ),
        (
            vec![
                ("sort_by", "commit.author.date".to_string()),
                ("cursor", "bm9wZQ".into()),
            ],
            "Invalid cursor",
        ),
    ] {
        let response = setup
            .app
            .request(reqwest::Method::GET, "/data/github_commits")
            .bearer_auth(&setup.token)
            .query(&params)
            .send()
            .await
            .expect("sent");
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params:?}: {body}");
        assert!(body["message"].as_str().expect("m").contains(why), "{body}");
    }
}

#[tokio::test]
async fn unfiltered_totals_stay_exact_through_upserts_and_deletes() {
    let setup = setup().await;
    let db = &setup.app.state.db;
    let total = |app: &TestApp, token: String| {
        let app_url = app.url.clone();
        async move {
            let body: Value = reqwest::Client::new()
                .get(format!("{app_url}/data/github_commits"))
                .bearer_auth(token)
                .send()
                .await
                .expect("sent")
                .json()
                .await
                .expect("json");
            assert_eq!(body["meta"]["total_is_estimate"], false, "{body}");
            body["pagination"]["total_items"].as_i64().expect("total")
        }
    };
    assert_eq!(total(&setup.app, setup.token.clone()).await, 12000);
    // Upserting known documents (a resync) adds nothing; new ones add; deletes subtract.
    sqlx::query(
        "insert into github_documents (integration_id, collection, key, doc)
         select integration_id, collection, key, doc || '{\"x\": 1}' from github_documents
         union all select $1, 'github_commits', 'new-' || g, '{}' from generate_series(1, 5) g
         on conflict (integration_id, collection, key) do update set doc = excluded.doc",
    )
    .bind(setup.integration)
    .execute(db)
    .await
    .expect("upserted");
    assert_eq!(total(&setup.app, setup.token.clone()).await, 12005);
    sqlx::query("delete from github_documents where key like 'new-%' or key < '1'")
        .execute(db)
        .await
        .expect("deleted");
    let left: i64 = sqlx::query_scalar("select count(*) from github_documents")
        .fetch_one(db)
        .await
        .expect("count");
    assert_eq!(total(&setup.app, setup.token.clone()).await, left);
}
