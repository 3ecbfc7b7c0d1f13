//! GitHub's GraphQL API: one `POST /graphql` helper, and the batched repository-counts
//! query of the daily stats scan (up to [`MAX_ALIASES`] repositories per request).
//!
//! User data (owners, names) only ever travels as GraphQL variables, never inside the
//! query text. GraphQL answers 200 even when it fails: a repository that does not
//! resolve comes back as `data.rN: null` with a `NOT_FOUND` error (the others are kept),
//! and a spent budget comes back as an error of type `RATE_LIMITED`, which we turn into
//! [`GitHubError::RateLimited`] like the REST 403/429.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{GitHubClient, GitHubError, GitHubRequest};

/// Repositories per request: GitHub allows far more nodes, but 100 keeps the query cost
/// at one point and the answer small.
pub const MAX_ALIASES: usize = 100;

/// How long to wait after `RATE_LIMITED` when GitHub does not say.
const DEFAULT_RATE_LIMIT_WAIT_SECS: i64 = 60;

/// A GraphQL answer whose errors were not fatal.
#[derive(Debug, Default)]
pub struct GraphqlAnswer {
    pub data: Map<String, Value>,
    pub errors: Vec<GraphqlError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GraphqlError {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub path: Vec<Value>,
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct RawAnswer {
    data: Option<Map<String, Value>>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

/// The GraphQL endpoint next to the REST base: `{GITHUB_API_URL}/graphql`, or
/// `https://host/api/graphql` for GitHub Enterprise's `https://host/api/v3`.
pub fn endpoint(client: &GitHubClient) -> String {
    let rest = client.url("");
    match rest.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{rest}/graphql"),
    }
}

/// Sends `query` with `variables` (polling tokens; GraphQL needs one).
pub async fn query(
    client: &GitHubClient,
    query: &str,
    variables: Value,
) -> Result<GraphqlAnswer, GitHubError> {
    let body = json!({ "query": query, "variables": variables });
    let url = endpoint(client);
    let response = client
        .send(GitHubRequest {
            method: Method::POST,
            path_or_url: &url,
            json: Some(&body),
            ..GitHubRequest::default()
        })
        .await?;
    let raw: RawAnswer = response.json()?;
    if raw
        .errors
        .iter()
        .any(|e| e.kind.as_deref() == Some("RATE_LIMITED"))
    {
        let reset = response
            .headers
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
            .and_then(|epoch| DateTime::from_timestamp(epoch, 0))
            .filter(|reset| *reset > Utc::now());
        let until = reset.unwrap_or_else(|| {
            Utc::now() + chrono::Duration::seconds(DEFAULT_RATE_LIMIT_WAIT_SECS)
        });
        return Err(GitHubError::RateLimited { until });
    }
    match raw.data {
        Some(data) => Ok(GraphqlAnswer {
            data,
            errors: raw.errors,
        }),
        None => Err(GitHubError::Status {
            status: response.status.as_u16(),
            message: raw
                .errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_else(|| "GraphQL answered without data".into()),
        }),
    }
}

/// A repository's counts as GraphQL reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepositoryCounts {
    pub database_id: i64,
    pub stargazers: i64,
    pub forks: i64,
    /// People watching (`watchers { totalCount }`), i.e. REST's `subscribers_count`.
    pub watchers: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepositoryNode {
    database_id: i64,
    stargazer_count: i64,
    fork_count: i64,
    watchers: TotalCount,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TotalCount {
    total_count: i64,
}

/// The query for `count` repositories: aliases `r0..`, owner and name as variables
/// `$o0/$n0..`. The fake GitHub understands exactly this shape.
pub fn repository_counts_query(count: usize) -> String {
    let mut params = Vec::with_capacity(count);
    let mut fields = String::new();
    for i in 0..count {
        params.push(format!("$o{i}: String!, $n{i}: String!"));
        fields.push_str(&format!(
            "  r{i}: repository(owner: $o{i}, name: $n{i}) {{ databaseId stargazerCount forkCount watchers {{ totalCount }} }}\n"
        ));
    }
    format!(
        "query RepositoryCounts({}) {{\n{fields}}}",
        params.join(", ")
    )
}

/// Counts of up to [`MAX_ALIASES`] repositories `(owner, name)` in one request; `None`
/// where a repository did not resolve (deleted, renamed away, private).
pub async fn repository_counts(
    client: &GitHubClient,
    repositories: &[(&str, &str)],
) -> Result<Vec<Option<RepositoryCounts>>, GitHubError> {
    if repositories.is_empty() {
        return Ok(Vec::new());
    }
    if repositories.len() > MAX_ALIASES {
        return Err(GitHubError::Decode(format!(
            "at most {MAX_ALIASES} repositories per GraphQL request"
        )));
    }
    let mut variables = Map::new();
    for (i, (owner, name)) in repositories.iter().enumerate() {
        variables.insert(format!("o{i}"), json!(owner));
        variables.insert(format!("n{i}"), json!(name));
    }
    let answer = query(
        client,
        &repository_counts_query(repositories.len()),
        Value::Object(variables),
    )
    .await?;
    for error in &answer.errors {
        if error.kind.as_deref() != Some("NOT_FOUND") {
            tracing::warn!(kind = ?error.kind, path = ?error.path, message = %error.message, "GraphQL error");
        }
    }
    let counts = (0..repositories.len())
        .map(|i| {
            let node = answer.data.get(&format!("r{i}"))?;
            let node: RepositoryNode = serde_json::from_value(node.clone()).ok()?;
            Some(RepositoryCounts {
                database_id: node.database_id,
                stargazers: node.stargazer_count,
                forks: node.fork_count,
                watchers: node.watchers.total_count,
            })
        })
        .collect();
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_uses_variables_for_every_repository() {
        let q = repository_counts_query(2);
        assert!(q.starts_with(
            "query RepositoryCounts($o0: String!, $n0: String!, $o1: String!, $n1: String!)"
        ));
        assert!(q.contains("r1: repository(owner: $o1, name: $n1) { databaseId stargazerCount forkCount watchers { totalCount } }"));
    }
}
