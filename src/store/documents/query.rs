//! One page of a collection, then its total as cheaply as it can be known exactly.
//!
//! The page reads keys (and sort values) first and the documents of only those keys, so
//! a deep page or a sort never carries whole documents. The sort paths that have an index
//! (see the migration `data_api_indexes`) are read in index order. The total is exact when
//! it costs little: the collection's size when nothing is filtered (a counter row), the
//! page itself when it is the last one, or a count that stops after
//! [`EXACT_COUNT_LIMIT`] matches. Beyond that it is an estimate (`Total::is_estimate`),
//! from the share of matches among the collection's first [`SAMPLE_SIZE`] documents.

use serde_json::Value;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use super::sql::{push_matches, push_where};
use super::{After, DocumentQuery, SortOrder};
use crate::data::COLLECTIONS;

/// Per transaction: a deadline, plans made for the actual values (so the partial and
/// expression indexes are used), no parallel workers or JIT (their start-up costs more than
/// these queries take).
const SETTINGS: &str = "select set_config('statement_timeout', '10s', true),
    set_config('plan_cache_mode', 'force_custom_plan', true),
    set_config('max_parallel_workers_per_gather', '0', true),
    set_config('jit', 'off', true)";

/// Matches counted one by one before the total becomes an estimate.
pub const EXACT_COUNT_LIMIT: i64 = 1000;
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
    let mut tx = db.begin().await?;
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

async fn collection_size(
    tx: &mut PgConnection,
    integration_id: i64,
    collection: &str,
) -> Result<i64, sqlx::Error> {
    let size: Option<i64> = sqlx::query_scalar(
        "select documents from github_document_counts
         where integration_id = $1 and collection = $2",
    )
    .bind(integration_id)
    .bind(collection)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(size.unwrap_or(0))
}

async fn page(
    tx: &mut PgConnection,
    q: &DocumentQuery<'_>,
    size: i64,
) -> Result<Page, sqlx::Error> {
    if size == 0 {
        return Ok(Page {
            docs: Vec::new(),
            has_more: false,
            total: Total::exact(0),
            last: None,
        });
    }
    let mut sql = QueryBuilder::<Postgres>::new("select d.doc, p.key, p.sort_value from (");
    push_keys(&mut sql, q);
    sql.push(") p join github_documents d on d.integration_id = ");
    sql.push_bind(q.integration_id);
    sql.push(" and d.collection = ");
    sql.push_bind(q.collection.to_string());
    sql.push(" and d.key = p.key order by ");
    push_order(&mut sql, q, "p.");
    let mut rows: Vec<(Value, String, Option<Value>)> =
        sql.build_query_as().fetch_all(&mut *tx).await?;
    let has_more = rows.len() as i64 > q.limit;
    rows.truncate(usize::try_from(q.limit).unwrap_or(usize::MAX));
    let last = rows.last().map(|(_, key, sort_value)| After {
        key: key.clone(),
        sort_value: sort_value.clone(),
    });
    let docs: Vec<Value> = rows.into_iter().map(|(doc, _, _)| doc).collect();
    let shown = q.offset + docs.len() as i64;

    let total = if q.matches_everything() {
        Total::exact(size)
    } else if !has_more && (!docs.is_empty() || q.offset == 0) {
        // The last page: everything before it and on it is all there is.
        Total::exact(shown)
    } else {
        let known = shown + i64::from(has_more);
        count(tx, q, size, known).await?
    };
    Ok(Page {
        docs,
        has_more,
        total,
        last,
    })
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
fn push_keys(sql: &mut QueryBuilder<'_, Postgres>, q: &DocumentQuery<'_>) {
    let select = |sql: &mut QueryBuilder<'_, Postgres>| {
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
    };
    let finish = |sql: &mut QueryBuilder<'_, Postgres>| {
        sql.push(" order by ");
        push_order(sql, q, "");
        sql.push(" limit ");
        sql.push_bind(q.limit + 1);
    };
    let Some(after) = q.after else {
        select(sql);
        finish(sql);
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

/// The matches, counted up to [`EXACT_COUNT_LIMIT`], else estimated (at least `known`).
async fn count(
    tx: &mut PgConnection,
    q: &DocumentQuery<'_>,
    size: i64,
    known: i64,
) -> Result<Total, sqlx::Error> {
    let mut sql =
        QueryBuilder::<Postgres>::new("select count(*) from (select 1 from github_documents");
    push_where(&mut sql, q);
    sql.push(" limit ");
    sql.push_bind(EXACT_COUNT_LIMIT + 1);
    sql.push(") matches");
    let counted: i64 = sql.build_query_scalar().fetch_one(&mut *tx).await?;
    if counted <= EXACT_COUNT_LIMIT {
        return Ok(Total::exact(counted));
    }

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
    let share = if sampled > 0 {
        matched as f64 / sampled as f64
    } else {
        0.0
    };
    let estimate = (share * size as f64).round() as i64;
    Ok(Total {
        count: estimate
            .max(EXACT_COUNT_LIMIT + 1)
            .max(known)
            .min(size.max(known)),
        is_estimate: true,
    })
}
