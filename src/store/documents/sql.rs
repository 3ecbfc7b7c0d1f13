//! The SQL of the data API's conditions: filters, search and the GIN pre-filter.
//!
//! Filters arrive as a validated [`Filter`] tree and become SQL through `QueryBuilder`:
//! field paths are bound as `text[]` (`doc #> $n::text[]`), values as `jsonb`, patterns as
//! `text`. No client text is ever written into the SQL itself.

use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};

use super::DocumentQuery;
use crate::data::{CompareOp, FieldPath, Filter};

/// Most `$in` values turned into GIN containment checks (beyond, the filter alone decides).
const MAX_CONTAINMENT_ALTERNATIVES: usize = 100;

/// ` where` the document belongs to the query's integration and collection and matches.
pub(super) fn push_where(qb: &mut QueryBuilder<'_, Postgres>, q: &DocumentQuery<'_>) {
    qb.push(" where integration_id = ");
    qb.push_bind(q.integration_id);
    qb.push(" and collection = ");
    qb.push_bind(q.collection.to_string());
    push_matches(qb, q);
}

/// ` and` the search and the filter (with its GIN pre-filter), or nothing without them.
pub(super) fn push_matches(qb: &mut QueryBuilder<'_, Postgres>, q: &DocumentQuery<'_>) {
    if let Some(keyword) = q.search {
        qb.push(" and search_text like '%' || lower(");
        qb.push_bind(like_escape(keyword));
        qb.push(") || '%'");
    }
    if let Some(filter) = q.filter {
        push_containment(qb, filter);
        qb.push(" and ");
        push_filter(qb, filter);
    }
}

/// ` and doc @> …` for the equalities every match must satisfy (top-level conjuncts), which
/// the `jsonb_path_ops` GIN index answers. Only a necessary condition: the exact filter
/// follows, so the results are the same with or without it.
fn push_containment(qb: &mut QueryBuilder<'_, Postgres>, filter: &Filter) {
    match filter {
        Filter::And(parts) => {
            for part in parts {
                push_containment(qb, part);
            }
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => {
            if let Some(contained) = containment(path, value) {
                qb.push(" and doc @> ");
                qb.push_bind(contained);
                qb.push("::jsonb");
            }
        }
        Filter::In {
            path,
            values,
            negated: false,
        } if !values.is_empty() && values.len() <= MAX_CONTAINMENT_ALTERNATIVES => {
            let Some(alternatives) = values
                .iter()
                .map(|v| containment(path, v))
                .collect::<Option<Vec<_>>>()
            else {
                return;
            };
            qb.push(" and (");
            for (i, contained) in alternatives.into_iter().enumerate() {
                if i > 0 {
                    qb.push(" or ");
                }
                qb.push("doc @> ");
                qb.push_bind(contained);
                qb.push("::jsonb");
            }
            qb.push(")");
        }
        _ => {}
    }
}

/// `{"a": {"b": value}}` for `a.b = value`: contained in every document where the path
/// holds that value. None where containment is no guide: a null (also matches a missing
/// field) or a numeric segment (`#>` reads it as an array index).
fn containment(path: &FieldPath, value: &Value) -> Option<Value> {
    if value.is_null()
        || path
            .iter()
            .any(|segment| segment.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(path.iter().rev().fold(value.clone(), |inner, segment| {
        let mut object = serde_json::Map::new();
        object.insert(segment.clone(), inner);
        Value::Object(object)
    }))
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
pub(super) fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, filter: &Filter) {
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
pub(super) fn push_field(qb: &mut QueryBuilder<'_, Postgres>, path: &FieldPath) {
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
    fn equalities_become_containment_checks() {
        let path = |p: &str| p.split('.').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            containment(&path("commit.author.name"), &serde_json::json!("x")),
            Some(serde_json::json!({"commit": {"author": {"name": "x"}}}))
        );
        assert_eq!(containment(&path("a"), &Value::Null), None);
        assert_eq!(
            containment(&path("parents.0.sha"), &serde_json::json!("x")),
            None
        );
        let filter =
            parse_filter(r#"{"a": 1, "b": {"$in": [2, 3]}, "$or": [{"c": 4}], "d": null}"#)
                .expect("valid");
        let mut qb = QueryBuilder::<Postgres>::new("");
        push_containment(&mut qb, &filter);
        let sql = qb.sql().to_string();
        assert_eq!(sql.matches("doc @>").count(), 3, "{sql}");
        assert!(sql.contains(" or "), "{sql}");
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(like_escape(r"50%_off\now"), r"50\%\_off\\now");
    }
}
