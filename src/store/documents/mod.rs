//! Synced GitHub documents (raw JSON per collection) and the data API's queries over them.
//!
//! `query` pages one collection (`query.rs`); the conditions' SQL is in `sql.rs`; deep pages
//! of a search sorted by a string path sort by text (`string_order.rs`).
//! `github_document_counts` holds the number of documents per (integration, collection),
//! kept by statement triggers, so an unfiltered total is one row read.

use serde_json::Value;
use sqlx::{PgConnection, PgPool};

mod query;
mod sql;
mod string_order;

pub use query::{EXACT_COUNT_LIMIT, Page, Total, query, search_all};
pub use string_order::{DEEP_OFFSET, INDEXED_SORT_PATHS, KeyOrder, key_order};

use crate::data::{FieldPath, Filter};

/// Inserts or replaces documents by key (GitHub id or sha); returns how many were written.
pub async fn upsert(
    db: &PgPool,
    integration_id: i64,
    collection: &str,
    keys: &[String],
    docs: &[Value],
) -> Result<u64, sqlx::Error> {
    if keys.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "insert into github_documents (integration_id, collection, key, doc)
         select $1, $2, k, d from unnest($3::text[], $4::jsonb[]) as t(k, d)
         on conflict (integration_id, collection, key)
             do update set doc = excluded.doc, synced_at = now()",
    )
    .bind(integration_id)
    .bind(collection)
    .bind(keys)
    .bind(docs)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// The string at `field` of every document of a collection (e.g. `login` of organizations).
pub async fn strings(
    db: &PgPool,
    integration_id: i64,
    collection: &str,
    field: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select doc ->> $3 from github_documents
         where integration_id = $1 and collection = $2 and doc ->> $3 is not null
         order by key",
    )
    .bind(integration_id)
    .bind(collection)
    .bind(field)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// One page of a collection, filtered, searched and sorted.
#[derive(Debug)]
pub struct DocumentQuery<'a> {
    pub integration_id: i64,
    pub collection: &'a str,
    pub filter: Option<&'a Filter>,
    /// Matched case-insensitively anywhere in the collection's search fields.
    pub search: Option<&'a str>,
    pub sort_by: Option<&'a FieldPath>,
    pub order: SortOrder,
    pub limit: i64,
    /// The documents before this page (`(page - 1) * limit`): skipped, unless `after`
    /// says where the previous page ended.
    pub offset: i64,
    /// Keyset paging: the page starts after this document (a `cursor`), so a deep page
    /// costs what the first one does.
    pub after: Option<&'a After>,
}

/// Where a page ended: its last document's key and sort value (`None` when the document
/// has no value at the sort path, so it is among the missing ones sorted last).
#[derive(Debug, Clone, PartialEq)]
pub struct After {
    pub key: String,
    pub sort_value: Option<Value>,
}

impl DocumentQuery<'_> {
    fn matches_everything(&self) -> bool {
        self.filter.is_none() && self.search.is_none()
    }
}

/// The number of documents in a collection (its counter row).
pub(super) async fn collection_size(
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
