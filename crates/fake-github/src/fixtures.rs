//! JSON rendering from GitHub's own example payloads.
//!
//! Templates in `fixtures/*.json` come from github/rest-api-description via @octokit/openapi
//! 23.0.2 (MIT licence); see `fixtures/README.md`. Each render takes a template, points its
//! URLs at the fake (`base`, used as both API and web URL) and fills in ids, names and counts.

use std::sync::OnceLock;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::budget::Budget;
use super::state::{Event, Repo, User};

const REPOSITORY: &str = include_str!("fixtures/repository.json");
const USER: &str = include_str!("fixtures/user.json");
const EVENTS: &str = include_str!("fixtures/events.json");
const RATE_LIMIT: &str = include_str!("fixtures/rate_limit.json");

fn parsed(cell: &'static OnceLock<Value>, text: &str) -> &'static Value {
    cell.get_or_init(|| serde_json::from_str(text).expect("bundled fixture JSON is valid"))
}

fn repository_template() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    parsed(&CELL, REPOSITORY)
}

fn user_template() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    parsed(&CELL, USER)
}

fn push_payload_template() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    let events = parsed(&CELL, EVENTS);
    &events[0]["payload"]
}

fn rate_limit_template() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    parsed(&CELL, RATE_LIMIT)
}

/// GitHub's timestamp format: RFC 3339, seconds, `Z`.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Legacy global node id, e.g. `MDQ6VXNlcjE=` = base64("04:User1").
pub(crate) fn node_id(kind: &str, id: i64) -> String {
    let type_code = match kind {
        "User" => "04",
        "Repository" => "010",
        _ => "00",
    };
    base64(format!("{type_code}:{kind}{id}").as_bytes())
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Rewrites every string in `v` with `(from, to)` replacements, in order.
fn rewrite(v: &mut Value, pairs: &[(&str, &str)]) {
    match v {
        Value::String(s) => {
            for (from, to) in pairs {
                if s.contains(from) {
                    *s = s.replace(from, to);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite(i, pairs)),
        Value::Object(map) => map.values_mut().for_each(|i| rewrite(i, pairs)),
        _ => {}
    }
}

fn set(v: &mut Value, field: &str, value: Value) {
    if let Value::Object(map) = v {
        map.insert(field.to_string(), value);
    }
}

fn avatar_url(id: i64) -> String {
    format!("https://avatars.githubusercontent.com/u/{id}?v=4")
}

/// The "simple user" object (repository owner etc.): the fields of the repository example's
/// `owner`, taken from the full user object.
pub(crate) fn simple_user(base: &str, user: &User) -> Value {
    let full = user_json(base, user, 0);
    let Some(shape) = repository_template()["owner"].as_object() else {
        return full;
    };
    let simple: Map<String, Value> = shape
        .keys()
        .filter_map(|k| Some((k.clone(), full.get(k)?.clone())))
        .collect();
    Value::Object(simple)
}

/// `GET /users/{login}`.
pub(crate) fn user_json(base: &str, user: &User, public_repos: i64) -> Value {
    let mut v = user_template().clone();
    rewrite(
        &mut v,
        &[
            (
                "https://api.github.com/users/octocat",
                &format!("{base}/users/{}", user.login),
            ),
            (
                "https://github.com/octocat",
                &format!("{base}/{}", user.login),
            ),
        ],
    );
    let fields = [
        ("login", json!(user.login)),
        ("id", json!(user.id)),
        ("node_id", json!(node_id("User", user.id))),
        ("avatar_url", json!(avatar_url(user.id))),
        ("name", json!(user.name)),
        ("company", Value::Null),
        ("blog", json!("")),
        ("location", Value::Null),
        ("email", Value::Null),
        ("hireable", Value::Null),
        ("bio", Value::Null),
        ("twitter_username", Value::Null),
        ("public_repos", json!(public_repos)),
        ("public_gists", json!(0)),
        ("followers", json!(0)),
        ("following", json!(0)),
        ("created_at", json!(ts(user.created_at))),
        ("updated_at", json!(ts(user.updated_at))),
    ];
    for (k, val) in fields {
        set(&mut v, k, val);
    }
    v
}

/// `GET /repos/{owner}/{repo}` (and the items of repository lists).
pub(crate) fn repo_json(base: &str, repo: &Repo) -> Value {
    let mut v = repository_template().clone();
    let full_name = repo.full_name();
    let host = base.split("://").nth(1).unwrap_or(base);
    let hostname = host.rsplit_once(':').map_or(host, |(h, _)| h);
    rewrite(
        &mut v,
        &[
            ("octocat/Hello-World", &full_name),
            ("https://api.github.com", base),
            ("https://svn.github.com", base),
            ("https://github.com", base),
            ("git:github.com/", &format!("git://{host}/")),
            ("git@github.com:", &format!("git@{hostname}:")),
        ],
    );
    let fields = [
        ("id", json!(repo.id)),
        ("node_id", json!(node_id("Repository", repo.id))),
        ("name", json!(repo.name)),
        ("full_name", json!(full_name)),
        ("owner", simple_user(base, &repo.owner)),
        ("description", Value::Null),
        ("language", json!(repo.language)),
        ("mirror_url", Value::Null),
        ("homepage", Value::Null),
        ("forks_count", json!(repo.forks)),
        ("forks", json!(repo.forks)),
        ("stargazers_count", json!(repo.stars)),
        ("watchers_count", json!(repo.stars)),
        ("watchers", json!(repo.stars)),
        ("subscribers_count", json!(repo.watchers)),
        ("network_count", json!(repo.forks)),
        ("open_issues_count", json!(repo.open_issues)),
        ("open_issues", json!(repo.open_issues)),
        ("default_branch", json!("main")),
        ("topics", json!([])),
        ("pushed_at", json!(ts(repo.pushed_at))),
        ("created_at", json!(ts(repo.created_at))),
        ("updated_at", json!(ts(repo.updated_at))),
    ];
    for (k, val) in fields {
        set(&mut v, k, val);
    }
    v
}

/// One item of `GET /repos/{owner}/{repo}/events`.
pub(crate) fn event_json(base: &str, repo: &Repo, e: &Event) -> Value {
    let full_name = repo.full_name();
    let payload = match e.event_type.as_str() {
        "WatchEvent" => json!({ "action": "started" }),
        "PushEvent" => {
            let mut p = push_payload_template().clone();
            let head = hex::encode(Sha256::digest(format!("head:{}", e.id)));
            let before = hex::encode(Sha256::digest(format!("before:{}", e.id)));
            set(&mut p, "repository_id", json!(repo.id));
            set(&mut p, "push_id", json!(e.id.parse::<i64>().unwrap_or(0)));
            set(&mut p, "ref", json!("refs/heads/main"));
            set(&mut p, "head", json!(head[..40]));
            set(&mut p, "before", json!(before[..40]));
            p
        }
        _ => json!({}),
    };
    json!({
        "id": e.id,
        "type": e.event_type,
        "actor": {
            "id": e.actor_id,
            "login": e.actor_login,
            "display_login": e.actor_login,
            "gravatar_id": "",
            "url": format!("{base}/users/{}", e.actor_login),
            "avatar_url": avatar_url(e.actor_id),
        },
        "repo": {
            "id": repo.id,
            "name": full_name,
            "url": format!("{base}/repos/{full_name}"),
        },
        "payload": payload,
        "public": true,
        "created_at": ts(e.created_at),
    })
}

/// `GET /rate_limit`: `resources.core` and `rate` from the budget, the rest as in the example.
pub(crate) fn rate_limit_json(core: Budget) -> Value {
    let mut v = rate_limit_template().clone();
    let core_json = json!({
        "limit": core.limit,
        "used": core.used(),
        "remaining": core.remaining,
        "reset": core.reset,
    });
    if let Some(Value::Object(resources)) = v.get_mut("resources") {
        // The other buckets keep the example's numbers but get a current reset time.
        for bucket in resources.values_mut() {
            set(bucket, "reset", json!(core.reset));
        }
        resources.insert("core".to_string(), core_json.clone());
    }
    set(&mut v, "rate", core_json);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_match_github() {
        assert_eq!(node_id("User", 1), "MDQ6VXNlcjE=");
        assert_eq!(
            node_id("Repository", 1296269),
            "MDEwOlJlcG9zaXRvcnkxMjk2MjY5"
        );
    }
}
