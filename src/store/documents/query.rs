//! One page of a collection, and its total as exactly as it can be known cheaply.
//!
//! The page reads keys (and sort values) first and the documents of only those keys, so
//! a deep page or a sort never carries whole documents. The sort paths that have an index
//! (see the migration `data_api_indexes`) are read in index order.
//!
//! The total: without filter or search, the collection's size (a counter row). Otherwise a
//! sample (the share of matches among the collection's first [`SAMPLE_SIZE`] documents by
//! key) says whether few or many match. Few: one scan finds up to [`EXACT_COUNT_LIMIT`] + 1
//! matches, which gives the exact count and the page sorted out of them. Many: the page is
//! read in order and the total is the sample's estimate (`Total::is_estimate`), exact only
//! on the last page.

use serde_json::Value;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use super::sql::{push_matches, push_where};
use super::string_order::{KeyOrder, key_order, push_text_order};
use super::{After, DocumentQuery, SortOrder, collection_size};
use crate::data::COLLECTIONS;

/// Per transaction: a deadline, plans made for the actual values (so the partial and
/// expression indexes are used), no parallel workers or JIT (their start-up costs more than
/// these queries take).
const SETTINGS: &str = "select set_config('statement_timeout', '10s', true),
    set_config('plan_cache_mode', 'force_custom_plan', true),
    set_config('max_parallel_workers_per_gather', '0', true),
    set_config('jit', 'off', true)";

/// The most matches counted exactly; beyond, the total is an estimate.
pub const EXACT_COUNT_LIMIT: i64 = 4000;
/// Documents (the first by key) whose share of matches estimates a larger total.
pub const SAMPLE_SIZE: i64 = 2000;

/// How many documents match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Total {
    pub count: i64,
    /// More than [`EXACT_COUNT_LIMIT`] match and `count` is estimated (never below what
    /// is known to exist).
    pub is_estimate: bool,
}

impl Total {
    fn exact(count: i64) -> Self {
        Self {
            count,
            is_estimate: false,
        }
    }
}

#[derive(Debug)]
pub struct Page {
    pub docs: Vec<Value>,
    /// Another page follows (known exactly, whatever the total).
    pub has_more: bool,
    pub total: Total,
    /// Where this page ended, for the next one's keyset (when it is not empty).
    pub last: Option<After>,
}

pub async fn query(db: &PgPool, q: &DocumentQuery<'_>) -> Result<Page, sqlx::Error> {
    // One snapshot for every statement (the sample, the page, the string-order check).
    let mut tx = db
        .begin_with("begin isolation level repeatable read read only")
        .await?;
    sqlx::query(SETTINGS).execute(&mut *tx).await?;
    let size = collection_size(&mut tx, q.integration_id, q.collection).await?;
    let page = page(&mut tx, q, size).await?;
    tx.commit().await?;
    Ok(page)
}

/// Up to `limit` documents (by key) of every collection whose search fields contain
/// `keyword`, with the number of matches in each: `(collection, docs, total)`.
pub async fn search_all(
    db: &PgPool,
    integration_id: i64,
    keyword: &str,
    limit: i64,
) -> Result<Vec<(&'static str, Vec<Value>, Total)>, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(SETTINGS).execute(&mut *tx).await?;
    let sizes: Vec<(String, i64)> = sqlx::query_as(
        "select collection, documents from github_document_counts
         where integration_id = $1 and documents > 0",
    )
    .bind(integration_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut found = Vec::new();
    for collection in COLLECTIONS {
        let Some(size) = sizes.iter().find(|(c, _)| c == collection).map(|(_, n)| *n) else {
            continue;
        };
        let q = DocumentQuery {
            integration_id,
            collection,
            filter: None,
            search: Some(keyword),
            sort_by: None,
            order: SortOrder::Asc,
            limit,
            offset: 0,
            after: None,
        };
        let page = page(&mut tx, &q, size).await?;
        if page.total.count > 0 {
            found.push((collection, page.docs, page.total));
        }
    }
    tx.commit().await?;
    Ok(found)
}

async fn page(
    tx: &mut PgConnection,
    q: &DocumentQuery<'_>,
    size: i64,
) -> Result<Page, sqlx::Error> {
    if size == 0 {
        return Ok(assemble(q, Vec::new(), Total::exact(0)));
    }
    if q.matches_everything() {
        let rows = fetch_page(tx, q, KeyOrder::Json).await?;
        return Ok(assemble(q, rows, Total::exact(size)));
    }
    // Few matches: one scan finds them all, counts them and sorts the page out of them.
    // Many: the page is read in order (an index, or the first matches by key) and the
    // total estimated from a sample, which is what decides between the two.
    let mut estimate = None;
    if size > EXACT_COUNT_LIMIT {
        estimate = Some(sample(tx, q, size).await?);
    }
    if estimate.is_none_or(|e| e <= EXACT_COUNT_LIMIT / 2) {
        let (rows, counted) = match q.after {
            None => probe_page(tx, q).await?,
            Some(_) => (Vec::new(), None),
        };
        let counted = match counted {
            Some(n) => n,
            None => probe_count(tx, q).await?,
        };
        if counted <= EXACT_COUNT_LIMIT {
            let rows = match q.after {
                None => rows,
                Some(_) => fetch_page(tx, q, KeyOrder::Json).await?,
            };
            return Ok(assemble(q, rows, Total::exact(counted)));
        }
        estimate = Some(estimate.unwrap_or(0).max(EXACT_COUNT_LIMIT + 1));
    }
    let order = key_order(tx, q).await?;
    let rows = fetch_page(tx, q, order).await?;
    let mut page = assemble(q, rows, Total::default());
    let shown = q.offset + page.docs.len() as i64;
    page.total = if !page.has_more && (!page.docs.is_empty() || q.offset == 0) {
        // The last page: everything before it and on it is all there is.
        Total::exact(shown)
    } else if page.docs.is_empty() {
        // Past the end: fewer than `offset` match.
        Total {
            count: estimate.unwrap_or(0).min(q.offset),
            is_estimate: true,
        }
    } else {
        Total {
            count: estimate.unwrap_or(0).max(shown + i64::from(page.has_more)),
            is_estimate: true,
        }
    };
    Ok(page)
}

/// A page's rows: the document, its key and its sort value (`limit + 1` at most).
type Row = (Value, String, Option<Value>);

fn assemble(q: &DocumentQuery<'_>, mut rows: Vec<Row>, total: Total) -> Page {
    let has_more = rows.len() as i64 > q.limit;
    rows.truncate(usize::try_from(q.limit).unwrap_or(usize::MAX));
    let last = rows.last().map(|(_, key, sort_value)| After {
        key: key.clone(),
        sort_value: sort_value.clone(),
    });
    Page {
        docs: rows.into_iter().map(|(doc, _, _)| doc).collect(),
        has_more,
        total,
        last,
    }
}

/// ` join github_documents d on … order by …`: the documents of the keys in `p`.
fn push_join(sql: &mut QueryBuilder<'_, Postgres>, q: &DocumentQuery<'_>) {
    sql.push(") p join github_documents d on d.integration_id = ");
    sql.push_bind(q.integration_id);
    sql.push(" and d.collection = ");
    sql.push_bind(q.collection.to_string());
    sql.push(" and d.key = p.key order by ");
    push_order(sql, q, "p.");
}

/// The page read in order: keys first (by index where there is one), then the documents.
async fn fetch_page(
    tx: &mut PgConnection,
    q: &DocumentQuery<'_>,
    order: KeyOrder,
) -> Result<Vec<Row>, sqlx::Error> {
    let mut sql = QueryBuilder::<Postgres>::new("select d.doc, p.key, p.sort_value from (");
    push_keys(&mut sql, q, order);
    push_join(&mut sql, q);
    sql.build_query_as().fetch_all(&mut *tx).await
}

/// Up to [`EXACT_COUNT_LIMIT`] + 1 matches in any order, counted, and the page sorted out
/// of them; the count is `None` when the page is past them (nothing to carry it).
async fn probe_page(
    tx: &mut PgConnection,
    q: &DocumentQuery<'_>,
) -> Result<(Vec<Row>, Option<i64>), sqlx::Error> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "select d.doc, p.key, p.sort_value, p.matches from (
         select key, sort_value, count(*) over () as matches from (",
    );
    push_select_keys(&mut sql, q);
    sql.push(" limit ");
    sql.push_bind(EXACT_COUNT_LIMIT + 1);
    sql.push(") found order by ");
    push_order(&mut sql, q, "");
    sql.push(" limit ");
    sql.push_bind(q.limit + 1);
    sql.push(" offset ");
    sql.push_bind(q.offset);
    push_join(&mut sql, q);
    let rows: Vec<(Value, String, Option<Value>, i64)> =
        sql.build_query_as().fetch_all(&mut *tx).await?;
    let counted = rows.first().map(|row| row.3);
    let rows = rows
        .into_iter()
        .map(|(doc, key, sort_value, _)| (doc, key, sort_value))
        .collect();
    Ok((rows, counted))
}

/// The matches, counted up to [`EXACT_COUNT_LIMIT`] + 1.
async fn probe_count(tx: &mut PgConnection, q: &DocumentQuery<'_>) -> Result<i64, sqlx::Error> {
    let mut sql =
        QueryBuilder::<Postgres>::new("select count(*) from (select 1 from github_documents");
    push_where(&mut sql, q);
    sql.push(" limit ");
    sql.push_bind(EXACT_COUNT_LIMIT + 1);
    sql.push(") matches");
    sql.build_query_scalar().fetch_one(&mut *tx).await
}

/// The matches estimated from their share among the collection's first [`SAMPLE_SIZE`]
/// documents by key.
async fn sample(
    tx: &mut PgConnection,
    q: &DocumentQuery<'_>,
    size: i64,
) -> Result<i64, sqlx::Error> {
    let mut sql = QueryBuilder::<Postgres>::new("select count(*) filter (where true");
    push_matches(&mut sql, q);
    sql.push(
        "), count(*) from (select doc, search_text from github_documents where integration_id = ",
    );
    sql.push_bind(q.integration_id);
    sql.push(" and collection = ");
    sql.push_bind(q.collection.to_string());
    sql.push(" order by key limit ");
    sql.push_bind(SAMPLE_SIZE);
    sql.push(") sample");
    let (matched, sampled): (i64, i64) = sql.build_query_as().fetch_one(&mut *tx).await?;
    if sampled == 0 {
        return Ok(0);
    }
    Ok((matched as f64 / sampled as f64 * size as f64).round() as i64)
}

/// `select key, <sort value> as sort_value from github_documents where …` (the matches).
fn push_select_keys(sql: &mut QueryBuilder<'_, Postgres>, q: &DocumentQuery<'_>) {
    sql.push("select key, ");
    match q.sort_by {
        Some(path) => {
            sql.push("doc #> ");
            sql.push_bind(path.clone());
            sql.push("::text[]");
        }
        None => {
            sql.push("null::jsonb");
        }
    }
    sql.push(" as sort_value from github_documents");
    push_where(sql, q);
}

/// `order by [sort_value dir nulls last,] key`, the columns prefixed with `table`.
fn push_order(sql: &mut QueryBuilder<'_, Postgres>, q: &DocumentQuery<'_>, table: &str) {
    if q.sort_by.is_some() {
        sql.push(table);
        sql.push("sort_value");
        sql.push(match q.order {
            SortOrder::Asc => " asc nulls last, ",
            SortOrder::Desc => " desc nulls last, ",
        });
    }
    sql.push(table);
    sql.push("key");
}

/// The page's keys and sort values, one more than `limit` (to know whether more follow):
/// skipping `offset` matches, or after the keyset `after`. After a document with a sort
/// value the page continues with the rest of that value's ties (by key), the values beyond
/// it, then the documents without a value; two branches, each read in index order.
fn push_keys(sql: &mut QueryBuilder<'_, Postgres>, q: &DocumentQuery<'_>, order: KeyOrder) {
    let select = |sql: &mut QueryBuilder<'_, Postgres>| push_select_keys(sql, q);
    let finish = |sql: &mut QueryBuilder<'_, Postgres>| {
        sql.push(" order by ");
        push_order(sql, q, "");
        sql.push(" limit ");
        sql.push_bind(q.limit + 1);
    };
    let Some(after) = q.after else {
        select(sql);
        match order {
            KeyOrder::Text { bytes } => {
                push_text_order(sql, q, bytes);
                sql.push(" limit ");
                sql.push_bind(q.limit + 1);
            }
            KeyOrder::Json => finish(sql),
        }
        sql.push(" offset ");
        sql.push_bind(q.offset);
        return;
    };
    match (q.sort_by, &after.sort_value) {
        (Some(path), Some(value)) => {
            let (beyond, through) = match q.order {
                SortOrder::Asc => (" > ", " >= "),
                SortOrder::Desc => (" < ", " <= "),
            };
            sql.push("select * from ((");
            select(sql);
            sql.push(" and doc #> ");
            sql.push_bind(path.clone());
            sql.push("::text[]");
            sql.push(through);
            sql.push_bind(value.clone());
            sql.push("::jsonb and (doc #> ");
            sql.push_bind(path.clone());
            sql.push("::text[]");
            sql.push(beyond);
            sql.push_bind(value.clone());
            sql.push("::jsonb or key > ");
            sql.push_bind(after.key.clone());
            sql.push(")");
            finish(sql);
            sql.push(") union all (");
            select(sql);
            sql.push(" and doc #> ");
            sql.push_bind(path.clone());
            sql.push("::text[] is null");
            finish(sql);
            sql.push(")) keyset order by ");
            push_order(sql, q, "");
            sql.push(" limit ");
            sql.push_bind(q.limit + 1);
        }
        (Some(path), None) => {
            select(sql);
            sql.push(" and doc #> ");
            sql.push_bind(path.clone());
            sql.push("::text[] is null and key > ");
            sql.push_bind(after.key.clone());
            finish(sql);
        }
        (None, _) => {
            select(sql);
            sql.push(" and key > ");
            sql.push_bind(after.key.clone());
            finish(sql);
        }
    }
}
