//! Synced GitHub documents (raw JSON per collection) and the data API's queries over them.
//!
//! Filters arrive as a validated [`Filter`] tree and become SQL through `QueryBuilder`:
//! field paths are bound as `text[]` (`doc #> $n::text[]`), values as `jsonb`, patterns as
//! `text`. No client text is ever written into the SQL itself.

use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder};

use crate::data::{CompareOp, FieldPath, Filter};

/// Longest a data API query may run before PostgreSQL cancels it.
const STATEMENT_TIMEOUT: &str = "set local statement_timeout = '10s'";

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

/// Documents per collection of an integration.
pub async fn counts(db: &PgPool, integration_id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select collection, count(*) from github_documents where integration_id = $1
         group by collection",
    )
    .bind(integration_id)
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
    pub offset: i64,
}

/// The page's documents and the number of documents matching in all.
///
/// One scan serves both: the total is a window count over the matches, computed before the
/// limit. Only a page past the end (no rows, so no count) needs a second, counting query.
pub async fn query(db: &PgPool, q: &DocumentQuery<'_>) -> Result<(Vec<Value>, i64), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(STATEMENT_TIMEOUT).execute(&mut *tx).await?;

    let mut page =
        QueryBuilder::<Postgres>::new("select doc, count(*) over () from github_documents");
    push_where(&mut page, q);
    page.push(" order by ");
    if let Some(path) = q.sort_by {
        page.push("doc #> ");
        page.push_bind(path.clone());
        page.push("::text[]");
        page.push(match q.order {
            SortOrder::Asc => " asc nulls last, ",
            SortOrder::Desc => " desc nulls last, ",
        });
    }
    page.push("key limit ");
    page.push_bind(q.limit);
    page.push(" offset ");
    page.push_bind(q.offset);
    let rows: Vec<(Value, i64)> = page.build_query_as().fetch_all(&mut *tx).await?;
    let total = match rows.first() {
        Some((_, total)) => *total,
        None if q.offset == 0 => 0,
        None => {
            let mut count = QueryBuilder::<Postgres>::new("select count(*) from github_documents");
            push_where(&mut count, q);
            count.build_query_scalar().fetch_one(&mut *tx).await?
        }
    };
    tx.commit().await?;
    Ok((rows.into_iter().map(|(doc, _)| doc).collect(), total))
}

/// Up to `limit` documents per collection whose search fields contain `keyword`, with the
/// number of matches per collection: `(collection, doc, total)` rows.
pub async fn search_all(
    db: &PgPool,
    integration_id: i64,
    keyword: &str,
    limit: i64,
) -> Result<Vec<(String, Value, i64)>, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(STATEMENT_TIMEOUT).execute(&mut *tx).await?;
    let rows = sqlx::query_as(
        "select collection, doc, total from (
             select collection, doc, key,
                    count(*) over (partition by collection) as total,
                    row_number() over (partition by collection order by key) as n
             from github_documents
             where integration_id = $1 and search_text like '%' || lower($2) || '%'
         ) matches
         where n <= $3
         order by collection, key",
    )
    .bind(integration_id)
    .bind(like_escape(keyword))
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

fn push_where(qb: &mut QueryBuilder<'_, Postgres>, q: &DocumentQuery<'_>) {
    qb.push(" where integration_id = ");
    qb.push_bind(q.integration_id);
    qb.push(" and collection = ");
    qb.push_bind(q.collection.to_string());
    if let Some(keyword) = q.search {
        qb.push(" and search_text like '%' || lower(");
        qb.push_bind(like_escape(keyword));
        qb.push(") || '%'");
    }
    if let Some(filter) = q.filter {
        qb.push(" and ");
        push_filter(qb, filter);
    }
}

/// `keyword` with LIKE's metacharacters (`\`, `%`, `_`) escaped, so they match literally.
pub fn like_escape(keyword: &str) -> String {
    let mut out = String::with_capacity(keyword.len());
    for c in keyword.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Appends `filter` as a boolean SQL expression that is never NULL (so `not` is exact).
fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, filter: &Filter) {
    match filter {
        Filter::And(parts) | Filter::Or(parts) if parts.is_empty() => {
            qb.push(if matches!(filter, Filter::And(_)) {
                "true"
            } else {
                "false"
            });
        }
        Filter::And(parts) | Filter::Or(parts) => {
            let joiner = if matches!(filter, Filter::And(_)) {
                " and "
            } else {
                " or "
            };
            qb.push("(");
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    qb.push(joiner);
                }
                push_filter(qb, part);
            }
            qb.push(")");
        }
        Filter::Not(inner) => {
            qb.push("(not ");
            push_filter(qb, inner);
            qb.push(")");
        }
        Filter::Compare { path, op, value } => push_compare(qb, path, *op, value),
        Filter::In {
            path,
            values,
            negated,
        } => {
            qb.push(if *negated { "(not " } else { "(" });
            qb.push("coalesce(coalesce(");
            push_field(qb, path);
            qb.push(", 'null'::jsonb) = any(");
            qb.push_bind(values.clone());
            qb.push("::jsonb[]), false))");
        }
        Filter::Exists { path, exists } => {
            qb.push("(");
            push_field(qb, path);
            qb.push(if *exists {
                " is not null)"
            } else {
                " is null)"
            });
        }
        Filter::Regex {
            path,
            pattern,
            case_insensitive,
        } => {
            qb.push("coalesce(jsonb_typeof(");
            push_field(qb, path);
            qb.push(") = 'string' and (doc #>> ");
            qb.push_bind(path.clone());
            qb.push("::text[]) ");
            qb.push(if *case_insensitive { "~* " } else { "~ " });
            qb.push_bind(pattern.clone());
            qb.push(", false)");
        }
    }
}

/// `doc #> $n::text[]`: the JSON at a path, SQL NULL when absent.
fn push_field(qb: &mut QueryBuilder<'_, Postgres>, path: &FieldPath) {
    qb.push("(doc #> ");
    qb.push_bind(path.clone());
    qb.push("::text[])");
}

/// Equality treats a missing field as JSON null (MongoDB's `{"a": null}` matches both);
/// ordering compares only values of the operand's JSON type: numbers numerically, strings
/// as text, booleans false < true.
fn push_compare(
    qb: &mut QueryBuilder<'_, Postgres>,
    path: &FieldPath,
    op: CompareOp,
    value: &Value,
) {
    match op {
        CompareOp::Eq | CompareOp::Ne => {
            qb.push(if op == CompareOp::Ne { "(not " } else { "(" });
            qb.push("coalesce(");
            push_field(qb, path);
            qb.push(", 'null'::jsonb) = ");
            qb.push_bind(value.clone());
            qb.push("::jsonb)");
        }
        CompareOp::Gt | CompareOp::Gte | CompareOp::Lt | CompareOp::Lte => {
            let sql_op = match op {
                CompareOp::Gt => " > ",
                CompareOp::Gte => " >= ",
                CompareOp::Lt => " < ",
                _ => " <= ",
            };
            qb.push("coalesce(jsonb_typeof(");
            push_field(qb, path);
            qb.push(") = jsonb_typeof(");
            qb.push_bind(value.clone());
            qb.push("::jsonb) and ");
            push_field(qb, path);
            qb.push(sql_op);
            qb.push_bind(value.clone());
            qb.push("::jsonb, false)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_filter;

    fn sql_of(raw: &str) -> String {
        let filter = parse_filter(raw).expect("valid filter");
        let mut qb = QueryBuilder::<Postgres>::new("");
        push_filter(&mut qb, &filter);
        qb.sql().to_string()
    }

    #[test]
    fn client_text_only_ever_travels_as_parameters() {
        let sql = sql_of(
            r#"{"name": "x' or '1'='1", "commit.author.name": {"$regex": "'; drop table users; --"}}"#,
        );
        assert!(!sql.contains("or '1'"), "{sql}");
        assert!(!sql.contains("drop table"), "{sql}");
        assert!(!sql.contains("author"), "paths are bound too: {sql}");
        assert!(sql.contains("$1::text[]"), "{sql}");
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(like_escape(r"50%_off\now"), r"50\%\_off\\now");
    }
}
