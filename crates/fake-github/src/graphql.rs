//! `POST /graphql`: just enough of GitHub's GraphQL API for the daily stats query.
//!
//! It understands aliased repository fields, `r0: repository(owner: $o0, name: $n0) {...}`
//! (arguments as variables or string literals), answers each with `databaseId`,
//! `stargazerCount`, `forkCount` and `watchers { totalCount }` from the fake's
//! repositories, and like GitHub answers 200 with `data.rN: null` plus a `NOT_FOUND`
//! error for a repository that does not exist. [`FakeGitHub::graphql_rate_limit_next`]
//! makes the next call answer 200 with a `RATE_LIMITED` error, as GitHub does when the
//! GraphQL budget is spent. Calls without `Authorization` get GitHub's 401.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::http::error_json;
use super::state::State;
use crate::server::FakeGitHub;
use crate::types::Fault;

/// Queued in the fault queue under a key no request path matches (paths start with `/`),
/// so the layer never takes it and only [`answer`] does.
const RATE_LIMITED_KEY: &str = "graphql:rate-limited";

impl FakeGitHub {
    /// The next `POST /graphql` answers 200 with a `RATE_LIMITED` error (once, FIFO).
    pub fn graphql_rate_limit_next(&self) {
        self.state.fail_next(RATE_LIMITED_KEY, Fault::Status(200));
    }
}

/// One aliased `repository(owner:, name:)` field of a query.
#[derive(Debug, PartialEq, Eq)]
struct RepositoryField {
    alias: String,
    owner: Option<String>,
    name: Option<String>,
}

pub(crate) async fn answer(
    AxumState(state): AxumState<Arc<State>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if !headers.contains_key(AUTHORIZATION) {
        return error_json(
            StatusCode::UNAUTHORIZED,
            "This endpoint requires you to be authenticated.",
            "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql",
        );
    }
    if state.take_fault(RATE_LIMITED_KEY).is_some() {
        let body = json!({ "errors": [{
            "type": "RATE_LIMITED",
            "code": "graphql_rate_limit",
            "message": "API rate limit already exceeded for user ID 1.",
        }]});
        return (StatusCode::OK, axum::Json(body)).into_response();
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error_json(
            StatusCode::BAD_REQUEST,
            "Problems parsing JSON",
            "https://docs.github.com/graphql",
        );
    };
    let Some(query) = request["query"].as_str() else {
        return error_json(
            StatusCode::BAD_REQUEST,
            "A query attribute must be specified and must be a string.",
            "https://docs.github.com/graphql",
        );
    };
    let variables = request["variables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut data = Map::new();
    let mut errors = Vec::new();
    for field in repository_fields(query, &variables) {
        let found = match (&field.owner, &field.name) {
            (Some(owner), Some(name)) => state.repo(owner, name),
            _ => None,
        };
        match found {
            Some(repo) => {
                data.insert(
                    field.alias,
                    json!({
                        "databaseId": repo.id,
                        "stargazerCount": repo.stars,
                        "forkCount": repo.forks,
                        "watchers": { "totalCount": repo.watchers },
                    }),
                );
            }
            None => {
                errors.push(json!({
                    "type": "NOT_FOUND",
                    "path": [field.alias],
                    "locations": [{ "line": 1, "column": 1 }],
                    "message": format!(
                        "Could not resolve to a Repository with the name '{}/{}'.",
                        field.owner.unwrap_or_default(),
                        field.name.unwrap_or_default()
                    ),
                }));
                data.insert(field.alias, Value::Null);
            }
        }
    }
    let mut body = json!({ "data": data });
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Every `alias: repository(owner: .., name: ..)` of `query`, arguments resolved.
fn repository_fields(query: &str, variables: &Map<String, Value>) -> Vec<RepositoryField> {
    const FIELD: &str = "repository(";
    let mut fields = Vec::new();
    for (at, _) in query.match_indices(FIELD) {
        let before = query[..at].trim_end();
        let Some(before) = before.strip_suffix(':') else {
            continue;
        };
        let before = before.trim_end();
        let alias_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let alias = &before[alias_start..];
        let args_start = at + FIELD.len();
        let Some(args_len) = query[args_start..].find(')') else {
            continue;
        };
        let mut field = RepositoryField {
            alias: alias.to_string(),
            owner: None,
            name: None,
        };
        for arg in query[args_start..args_start + args_len].split(',') {
            let Some((key, value)) = arg.split_once(':') else {
                continue;
            };
            let value = argument(value.trim(), variables);
            match key.trim() {
                "owner" => field.owner = value,
                "name" => field.name = value,
                _ => {}
            }
        }
        if !field.alias.is_empty() {
            fields.push(field);
        }
    }
    fields
}

/// `$var` from the variables, or a `"literal"`.
fn argument(value: &str, variables: &Map<String, Value>) -> Option<String> {
    if let Some(name) = value.strip_prefix('$') {
        return variables.get(name)?.as_str().map(str::to_string);
    }
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_aliases_and_arguments() {
        let variables = json!({"o0": "acme", "n0": "widget"});
        let variables = variables.as_object().expect("object");
        let query = "query Q($o0: String!, $n0: String!) {\n  r0: repository(owner: $o0, name: $n0) { databaseId }\n  r1 : repository(owner: \"x\", name: \"y\") { databaseId }\n}";
        let fields = repository_fields(query, variables);
        assert_eq!(
            fields,
            [
                RepositoryField {
                    alias: "r0".into(),
                    owner: Some("acme".into()),
                    name: Some("widget".into())
                },
                RepositoryField {
                    alias: "r1".into(),
                    owner: Some("x".into()),
                    name: Some("y".into())
                },
            ]
        );
    }
}
