//! Deep pages of a search sorted by a path that holds only strings (dates, mostly): the
//! page's keys are ordered by the text of the values instead of the `jsonb` values.
//!
//! Same order, much cheaper sort: `jsonb` orders strings by the database collation, as
//! text does, and compares whole `jsonb` values to get there (about twice the work), while
//! a byte-order collation lets the text be compared as bytes (`collate "C"`). A deep page
//! (`page=500`) of a broad search has to sort all its matches, so this is where the sort's
//! cost shows: 20,000 matches sort in ~11 ms instead of ~44 ms (BENCHMARKS.md).
//!
//! Only when it is exact: the path has a sort index, and the two ends of that index (the
//! smallest and the largest value, in `jsonb` order, where the types come in the order
//! `[]` < null < strings < numbers < booleans < arrays < objects) are both strings, so every
//! value in between is one; documents without a value sort last either way. The check and
//! the page read the same snapshot (the data API's transactions are repeatable read).

use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::{DocumentQuery, SortOrder};

/// Pages from this offset on are "deep": their matches are sorted in memory anyway (the
/// first pages are read along a sort index, which the text order would forgo).
pub const DEEP_OFFSET: i64 = 1000;

/// The sort paths that have an index (the migration `data_api_indexes`), by collection.
pub const INDEXED_SORT_PATHS: &[(&str, &[&str])] = &[
    ("github_commits", &["commit", "author", "date"]),
    ("github_pulls", &["created_at"]),
    ("github_pulls", &["updated_at"]),
    ("github_issues", &["created_at"]),
    ("github_issues", &["updated_at"]),
    ("github_changelogs", &["created_at"]),
    ("github_repos", &["stargazers_count"]),
];

/// How a page's keys are ordered in SQL (the same order either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrder {
    /// By the `jsonb` sort value (and the key).
    Json,
    /// By the text of the sort value; `bytes` when the database collation is byte order.
    Text { bytes: bool },
}

/// The order for `q`'s keys: [`KeyOrder::Text`] for a deep offset page of a search sorted
/// by an indexed path that holds only strings, else [`KeyOrder::Json`].
pub async fn key_order(
    tx: &mut PgConnection,
    q: &DocumentQuery<'_>,
) -> Result<KeyOrder, sqlx::Error> {
    let Some(path) = q.sort_by else {
        return Ok(KeyOrder::Json);
    };
    let indexed = INDEXED_SORT_PATHS
        .iter()
        .any(|(collection, p)| *collection == q.collection && p.iter().eq(path.iter()));
    if !indexed || q.after.is_some() || q.search.is_none() || q.offset < DEEP_OFFSET {
        return Ok(KeyOrder::Json);
    }
    let (strings, bytes): (bool, bool) = sqlx::query_as(
        "select coalesce(
             jsonb_typeof((select doc #> $3::text[] from github_documents
                           where integration_id = $1 and collection = $2
                           order by doc #> $3::text[] asc nulls last limit 1)) = 'string'
             and jsonb_typeof((select doc #> $3::text[] from github_documents
                               where integration_id = $1 and collection = $2
                               order by doc #> $3::text[] desc nulls last limit 1)) = 'string',
             false),
         coalesce((select datlocprovider = 'c'
                          and datcollate in ('C', 'POSIX', 'C.UTF-8', 'C.utf8')
                   from pg_database where datname = current_database()), false)",
    )
    .bind(q.integration_id)
    .bind(q.collection)
    .bind(path.clone())
    .fetch_one(&mut *tx)
    .await?;
    Ok(if strings {
        KeyOrder::Text { bytes }
    } else {
        KeyOrder::Json
    })
}

/// `order by (doc #>> path) [collate "C"] dir nulls last, key [collate "C"]`.
pub(super) fn push_text_order(
    sql: &mut QueryBuilder<'_, Postgres>,
    q: &DocumentQuery<'_>,
    bytes: bool,
) {
    let collate = if bytes { " collate \"C\"" } else { "" };
    sql.push(" order by ");
    if let Some(path) = q.sort_by {
        sql.push("(doc #>> ");
        sql.push_bind(path.clone());
        sql.push("::text[])");
        sql.push(collate);
        sql.push(match q.order {
            SortOrder::Asc => " asc nulls last, ",
            SortOrder::Desc => " desc nulls last, ",
        });
    }
    sql.push("key");
    sql.push(collate);
}
