//! NUL characters (`\u0000`) are refused where input enters: PostgreSQL cannot store
//! them in `text` or `jsonb`, so they would fail deep inside a query as a 500.
//!
//! This middleware wraps every API route and answers 400 naming the place: a path
//! parameter, a query parameter (also NULs escaped inside a JSON value such as the data
//! API's `filter`), or a field of a JSON body (`commits[3].message`). A body is scanned
//! for the escape `\u0000` (the only way JSON can carry a NUL; a raw NUL byte is already
//! malformed JSON) with one fast pass, and parsed again only when it has one.

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::error::{AppError, FieldError};
use crate::http::extract::is_json;
use crate::state::AppState;

pub async fn reject_nul(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some((field, problem)) = uri_problem(&request) {
        return refuse(field, problem);
    }
    if !is_json(request.headers()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return AppError::PayloadTooLarge("Request body is too large".into()).into_response();
        }
    };
    if let Some(field) = nul_in_json_bytes(&bytes) {
        let message = format!("{} {NOT_ALLOWED}", describe_field(&field));
        return refuse(field, message);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// 400 with the field named in `errors` too, like every validation answer.
fn refuse(field: String, message: String) -> Response {
    AppError::Invalid {
        errors: vec![FieldError {
            field,
            message: NOT_ALLOWED.into(),
        }],
        message,
    }
    .into_response()
}

const NOT_ALLOWED: &str = "contains a NUL character (\\u0000), which is not allowed";

fn describe_field(field: &str) -> String {
    if field.is_empty() {
        "The request body".into()
    } else {
        format!("Field '{field}'")
    }
}

/// The path or query parameter that carries a NUL, if any, and a message naming it.
fn uri_problem(request: &Request) -> Option<(String, String)> {
    let uri = request.uri();
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    if let Some(name) = nul_in_path(uri.path(), template) {
        let message = format!("Path parameter '{name}' {NOT_ALLOWED}");
        return Some((name, message));
    }
    let query = uri.query()?;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if key.contains('\0') {
            return Some((
                key.replace('\0', "\\u0000"),
                format!("A query parameter name {NOT_ALLOWED}"),
            ));
        }
        if value.contains('\0') {
            return Some((
                key.to_string(),
                format!("Query parameter '{key}' {NOT_ALLOWED}"),
            ));
        }
        if let Some(field) = nul_in_json_bytes(value.as_bytes()) {
            let inside = if field.is_empty() {
                String::new()
            } else {
                format!(" (at '{field}')")
            };
            return Some((
                key.to_string(),
                format!("Query parameter '{key}'{inside} {NOT_ALLOWED}"),
            ));
        }
    }
    None
}

/// The name of the path parameter (or the position of the segment) that decodes to a
/// string with a NUL.
fn nul_in_path(path: &str, template: Option<&str>) -> Option<String> {
    let segments = path.split('/');
    let mut names = template.map(|t| t.split('/'));
    for (i, segment) in segments.enumerate() {
        let name = names.as_mut().and_then(|n| n.next());
        let decoded = percent_decode_str(segment);
        if decoded.into_iter().any(|b| b == 0) {
            return Some(match name {
                Some(n) if n.starts_with('{') => n.trim_matches(|c| c == '{' || c == '}').into(),
                _ => format!("segment {i}"),
            });
        }
    }
    None
}

/// Whether `bytes` has a JSON `\u0000` escape (a backslash that is not itself escaped,
/// then `u0000`).
fn has_nul_escape(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b"u0000").any(|at| {
        let backslashes = bytes[..at]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        backslashes % 2 == 1
    })
}

/// The dotted path (`commits[3].message`, `""` for the top level) of the first string or
/// key holding a NUL, when `bytes` is JSON that has one.
pub fn nul_in_json_bytes(bytes: &[u8]) -> Option<String> {
    if !has_nul_escape(bytes) {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    nul_in_value(&value, String::new())
}

fn nul_in_value(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_in_value(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let child = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                return Some(child.replace('\0', "\\u0000"));
            }
            nul_in_value(v, child)
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_field_with_a_nul() {
        let body = br#"{"commits":[{"sha":"a"},{"message":"x\u0000y"}]}"#;
        assert_eq!(
            nul_in_json_bytes(body).as_deref(),
            Some("commits[1].message")
        );
        assert_eq!(
            nul_in_json_bytes(br#"{"username":"a\u0000b"}"#).as_deref(),
            Some("username")
        );
        assert_eq!(nul_in_json_bytes(br#""\u0000""#).as_deref(), Some(""));
        // An escaped backslash followed by "u0000" is text, not a NUL.
        assert_eq!(nul_in_json_bytes(br#"{"a":"\\u0000"}"#), None);
        assert_eq!(
            nul_in_json_bytes(br#"{"a":"\\\u0000"}"#).as_deref(),
            Some("a")
        );
        assert_eq!(nul_in_json_bytes(br#"{"a":"plain"}"#), None);
        assert_eq!(
            nul_in_json_bytes(br#"{"k\u0000":1}"#).as_deref(),
            Some("k\\u0000")
        );
    }

    #[test]
    fn names_the_path_parameter() {
        assert_eq!(
            nul_in_path("/v1/users/1%00", Some("/v1/users/{id}")).as_deref(),
            Some("id")
        );
        assert_eq!(nul_in_path("/v1/users/1", Some("/v1/users/{id}")), None);
        assert_eq!(nul_in_path("/x/%00", None).as_deref(), Some("segment 2"));
    }
}
