//! MongoDB-style filters (`{"stargazers_count": {"$gt": 100}, "language": "Rust"}`) parsed
//! into a small tree. Everything a client sends is checked here: field names against a
//! strict pattern, operators against an allow-list, sizes and nesting against limits. The
//! tree holds only values; `store::documents` binds every one of them as a parameter.

use serde_json::{Map, Value};

/// Largest accepted `filter` text.
pub const MAX_FILTER_BYTES: usize = 16 * 1024;
/// Deepest nesting of `$and` / `$or` / `$not` (the top-level object is depth 1).
pub const MAX_DEPTH: usize = 8;
/// Most values in one `$in` / `$nin`.
pub const MAX_IN_VALUES: usize = 1000;
/// Longest `$regex` pattern.
pub const MAX_REGEX_LEN: usize = 512;
/// Most segments in a dotted field path, and its longest length.
pub const MAX_PATH_SEGMENTS: usize = 8;
pub const MAX_PATH_LEN: usize = 200;

/// A dotted path split into its segments: `commit.author.date` → `[commit, author, date]`.
pub type FieldPath = Vec<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Compare {
        path: FieldPath,
        op: CompareOp,
        value: Value,
    },
    In {
        path: FieldPath,
        values: Vec<Value>,
        negated: bool,
    },
    Exists {
        path: FieldPath,
        exists: bool,
    },
    Regex {
        path: FieldPath,
        pattern: String,
        case_insensitive: bool,
    },
}

/// A problem with the filter, as a sentence for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(message.into()))
}

/// Parses the `filter` query parameter.
pub fn parse_filter(raw: &str) -> Result<Filter, FilterError> {
    if raw.len() > MAX_FILTER_BYTES {
        return fail(format!(
            "filter is too large ({} bytes; at most {MAX_FILTER_BYTES})",
            raw.len()
        ));
    }
    let value: Value = serde_json::from_str(raw)
        .map_err(|e| FilterError(format!("filter is not valid JSON: {e}")))?;
    match value {
        Value::Object(map) => document(&map, 1),
        _ => fail("filter must be a JSON object, like {\"state\": \"open\"}"),
    }
}

/// Validates a dotted field path (`sort_by`, filter keys).
pub fn parse_path(raw: &str) -> Result<FieldPath, FilterError> {
    let valid_segment =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let segments: Vec<&str> = raw.split('.').collect();
    if raw.len() > MAX_PATH_LEN
        || segments.len() > MAX_PATH_SEGMENTS
        || !segments.iter().all(|s| valid_segment(s))
    {
        return fail(format!(
            "invalid field name \"{}\": use letters, digits and '_', separated by dots, at most {MAX_PATH_SEGMENTS} levels",
            shorten(raw)
        ));
    }
    Ok(segments.into_iter().map(String::from).collect())
}

/// The conditions of one filter document, all of which must hold.
fn document(map: &Map<String, Value>, depth: usize) -> Result<Filter, FilterError> {
    if depth > MAX_DEPTH {
        return fail(format!(
            "filter is nested too deeply (at most {MAX_DEPTH} levels)"
        ));
    }
    let mut all = Vec::with_capacity(map.len());
    for (key, value) in map {
        let condition = match key.as_str() {
            "$and" | "$or" => {
                let parts = sub_documents(key, value, depth)?;
                if key == "$and" {
                    Filter::And(parts)
                } else {
                    Filter::Or(parts)
                }
            }
            "$not" => match value {
                Value::Object(inner) => Filter::Not(Box::new(document(inner, depth + 1)?)),
                _ => return fail("$not expects a filter object"),
            },
            op if op.starts_with('$') => return unknown_operator(op, "at the top level"),
            field => condition(parse_path(field)?, value, depth)?,
        };
        all.push(condition);
    }
    Ok(single_or_and(all))
}

fn sub_documents(op: &str, value: &Value, depth: usize) -> Result<Vec<Filter>, FilterError> {
    let Value::Array(items) = value else {
        return fail(format!("{op} expects a non-empty array of filter objects"));
    };
    if items.is_empty() {
        return fail(format!("{op} expects a non-empty array of filter objects"));
    }
    items
        .iter()
        .map(|item| match item {
            Value::Object(inner) => document(inner, depth + 1),
            _ => fail(format!("{op} expects a non-empty array of filter objects")),
        })
        .collect()
}

/// The condition on one field: a value (implicit equality) or an object of operators.
fn condition(path: FieldPath, value: &Value, depth: usize) -> Result<Filter, FilterError> {
    let Value::Object(ops) = value else {
        return Ok(compare(path, CompareOp::Eq, value.clone()));
    };
    if !ops.keys().any(|k| k.starts_with('$')) {
        // An embedded document: equality with the whole object.
        return Ok(compare(path, CompareOp::Eq, value.clone()));
    }
    if let Some(plain) = ops.keys().find(|k| !k.starts_with('$')) {
        return fail(format!(
            "cannot mix operators and field names in the condition on \"{}\" (found \"{}\")",
            path.join("."),
            shorten(plain)
        ));
    }
    if depth > MAX_DEPTH {
        return fail(format!(
            "filter is nested too deeply (at most {MAX_DEPTH} levels)"
        ));
    }
    let mut all = Vec::with_capacity(ops.len());
    for (op, operand) in ops {
        let condition = match op.as_str() {
            "$eq" => compare(path.clone(), CompareOp::Eq, operand.clone()),
            "$ne" => compare(path.clone(), CompareOp::Ne, operand.clone()),
            "$gt" | "$gte" | "$lt" | "$lte" => ordered(path.clone(), op, operand)?,
            "$in" | "$nin" => in_list(path.clone(), op, operand)?,
            "$exists" => match operand {
                Value::Bool(exists) => Filter::Exists {
                    path: path.clone(),
                    exists: *exists,
                },
                _ => return fail("$exists expects true or false"),
            },
            "$regex" => regex(path.clone(), operand, ops.get("$options"))?,
            "$options" if ops.contains_key("$regex") => continue,
            "$options" => return fail("$options is only allowed next to $regex"),
            "$not" => match operand {
                Value::Object(inner) if inner.keys().all(|k| k.starts_with('$')) => {
                    Filter::Not(Box::new(condition(path.clone(), operand, depth + 1)?))
                }
                _ => {
                    return fail(
                        "$not on a field expects an object of operators, like {\"$not\": {\"$gt\": 5}}",
                    );
                }
            },
            other => return unknown_operator(other, "on a field"),
        };
        all.push(condition);
    }
    Ok(single_or_and(all))
}

fn compare(path: FieldPath, op: CompareOp, value: Value) -> Filter {
    Filter::Compare { path, op, value }
}

fn ordered(path: FieldPath, op: &str, operand: &Value) -> Result<Filter, FilterError> {
    if matches!(operand, Value::Array(_) | Value::Object(_)) {
        return fail(format!("{op} expects a number, string, boolean or null"));
    }
    let op = match op {
        "$gt" => CompareOp::Gt,
        "$gte" => CompareOp::Gte,
        "$lt" => CompareOp::Lt,
        _ => CompareOp::Lte,
    };
    Ok(compare(path, op, operand.clone()))
}

fn in_list(path: FieldPath, op: &str, operand: &Value) -> Result<Filter, FilterError> {
    let Value::Array(values) = operand else {
        return fail(format!("{op} expects an array of values"));
    };
    if values.len() > MAX_IN_VALUES {
        return fail(format!(
            "{op} has {} values; at most {MAX_IN_VALUES} are allowed",
            values.len()
        ));
    }
    Ok(Filter::In {
        path,
        values: values.clone(),
        negated: op == "$nin",
    })
}

fn regex(path: FieldPath, operand: &Value, options: Option<&Value>) -> Result<Filter, FilterError> {
    let Value::String(pattern) = operand else {
        return fail("$regex expects a string pattern");
    };
    if pattern.chars().count() > MAX_REGEX_LEN {
        return fail(format!(
            "$regex pattern is too long (at most {MAX_REGEX_LEN} characters)"
        ));
    }
    let case_insensitive = match options {
        None => false,
        Some(Value::String(o)) if o.is_empty() => false,
        Some(Value::String(o)) if o == "i" => true,
        Some(_) => return fail("$options supports only \"i\" (case-insensitive)"),
    };
    Ok(Filter::Regex {
        path,
        pattern: pattern.clone(),
        case_insensitive,
    })
}

fn unknown_operator<T>(op: &str, place: &str) -> Result<T, FilterError> {
    fail(format!(
        "unknown operator \"{}\" {place}; supported: $eq $ne $gt $gte $lt $lte $in $nin $exists $regex $and $or $not",
        shorten(op)
    ))
}

fn single_or_and(mut all: Vec<Filter>) -> Filter {
    if all.len() == 1 {
        all.remove(0)
    } else {
        Filter::And(all)
    }
}

/// At most 60 characters of client text, for error messages.
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(p: &str) -> FieldPath {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn implicit_equality_and_operators() {
        let f =
            parse_filter(r#"{"language": "Rust", "stargazers_count": {"$gt": 100, "$lte": 500}}"#)
                .expect("valid");
        assert_eq!(
            f,
            Filter::And(vec![
                compare(path("language"), CompareOp::Eq, json!("Rust")),
                Filter::And(vec![
                    compare(path("stargazers_count"), CompareOp::Gt, json!(100)),
                    compare(path("stargazers_count"), CompareOp::Lte, json!(500)),
                ]),
            ])
        );
    }

    #[test]
    fn logical_operators_nest() {
        let f = parse_filter(
            r#"{"$or": [{"state": "open"}, {"$not": {"commit.author.name": {"$regex": "^bot", "$options": "i"}}}]}"#,
        )
        .expect("valid");
        let Filter::Or(parts) = f else {
            panic!("expected $or")
        };
        assert_eq!(parts.len(), 2);
        assert!(
            matches!(&parts[1], Filter::Not(inner) if matches!(**inner, Filter::Regex { case_insensitive: true, .. }))
        );
    }

    #[test]
    fn hostile_input_is_refused() {
        for raw in [
            r#"{"name'; drop table users; --": 1}"#,
            r#"{"a..b": 1}"#,
            r#"{"": 1}"#,
            r#"{"a.b.c.d.e.f.g.h.i": 1}"#,
            r#"{"$where": "sleep(1)"}"#,
            r#"{"name": {"$where": 1}}"#,
            r#"{"name": {"$gt": [1]}}"#,
            r#"{"name": {"$in": 5}}"#,
            r#"{"name": {"$exists": "yes"}}"#,
            r#"{"name": {"$regex": 5}}"#,
            r#"{"name": {"$regex": "x", "$options": "g"}}"#,
            r#"{"name": {"$eq": 1, "plain": 2}}"#,
            r#"{"$and": []}"#,
            r#"{"$or": {"a": 1}}"#,
            "[1, 2]",
            "\"text\"",
            "{not json",
        ] {
            assert!(parse_filter(raw).is_err(), "accepted {raw}");
        }
    }

    #[test]
    fn limits_are_enforced() {
        let mut deep = json!({"a": 1});
        for _ in 0..MAX_DEPTH {
            deep = json!({"$and": [deep]});
        }
        let err = parse_filter(&deep.to_string()).expect_err("too deep");
        assert!(err.0.contains("nested too deeply"), "{err}");

        let many: Vec<i64> = (0..=MAX_IN_VALUES as i64).collect();
        let err = parse_filter(&json!({"id": {"$in": many}}).to_string()).expect_err("too many");
        assert!(err.0.contains("at most 1000"), "{err}");

        let huge = format!(r#"{{"a": "{}"}}"#, "x".repeat(MAX_FILTER_BYTES));
        assert!(parse_filter(&huge).is_err());
        let long_regex = json!({"a": {"$regex": "x".repeat(MAX_REGEX_LEN + 1)}});
        assert!(parse_filter(&long_regex.to_string()).is_err());
    }

    #[test]
    fn the_same_nesting_within_the_limit_is_fine() {
        let mut deep = json!({"a": 1});
        for _ in 0..MAX_DEPTH - 1 {
            deep = json!({"$and": [deep]});
        }
        assert!(parse_filter(&deep.to_string()).is_ok());
    }

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("commit.author.date").expect("ok"),
            path("commit.author.date")
        );
        assert_eq!(
            parse_path("labels.0.name").expect("ok"),
            path("labels.0.name")
        );
        assert!(parse_path("a-b").is_err());
        assert!(parse_path("a.").is_err());
        assert!(parse_path("a b").is_err());
    }
}
