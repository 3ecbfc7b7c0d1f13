//! The commit wire format of `POST /api/v1/sync/.../commits`: its validation (every
//! problem named by index and field, before anything is written) and the conversion of
//! git's view of a commit into it, shared by the push client and the pull sync.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::{AppError, FieldError};
use crate::git::GitCommit;
use crate::store::commits::NewCommit;

pub const MAX_BATCH: usize = 1000;
const MAX_NAME: usize = 255;
const MAX_TITLE: usize = 500;
/// Message bodies read from git are cut to this many characters so that one commit can
/// never outgrow a request body limit.
const MAX_GIT_BODY: usize = 65_536;
/// At most this many field errors are listed in a 400 answer.
const MAX_LISTED_ERRORS: usize = 50;

/// One commit as sent by a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitIn {
    /// 40 hexadecimal digits (stored lowercased).
    #[schema(example = "abc123def456abc123def456abc123def456abc1")]
    pub sha: String,
    /// 1–255 characters.
    pub author_name: String,
    /// 1–255 characters (stored lowercased).
    pub author_email: String,
    /// 1–255 characters; defaults to the author.
    pub committer_name: String,
    /// 1–255 characters; defaults to the author's email.
    pub committer_email: String,
    /// RFC 3339.
    #[schema(example = "2026-01-02T12:00:00Z")]
    pub commit_date: String,
    /// The first line of the message, 1–500 characters.
    pub message_title: String,
    /// The rest of the message.
    pub message_body: Option<String>,
    /// Lines added (≥ 0, default 0).
    pub additions: i64,
    /// Lines deleted (≥ 0, default 0).
    pub deletions: i64,
    /// Files changed (≥ 0, default 0).
    pub files_changed: i64,
    /// Default: `parent_count > 1`.
    pub is_merge: bool,
    /// ≥ 0, default 1 (2 when `is_merge`).
    pub parent_count: i32,
}

/// Validates a whole batch: 1–1000 commits, every field valid, no sha twice. The
/// answer names each problem as `commits[i].field`.
pub fn validate_batch(commits: Option<&[Value]>) -> Result<Vec<NewCommit>, AppError> {
    let commits =
        commits.ok_or_else(|| AppError::bad_request("Missing required fields: commits"))?;
    if commits.is_empty() || commits.len() > MAX_BATCH {
        return Err(AppError::bad_request(format!(
            "commits must hold 1 to {MAX_BATCH} commits, got {}",
            commits.len()
        )));
    }
    let mut errors = Vec::new();
    let mut valid = Vec::with_capacity(commits.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(commits.len());
    for (index, value) in commits.iter().enumerate() {
        match validate_commit(value) {
            Ok(commit) => {
                if let Some(first) = seen.insert(commit.sha.clone(), index) {
                    errors.push(FieldError {
                        field: format!("commits[{index}].sha"),
                        message: format!("duplicate sha {} (also at commits[{first}])", commit.sha),
                    });
                }
                valid.push(commit);
            }
            Err(problems) => {
                errors.extend(problems.into_iter().map(|(field, message)| FieldError {
                    field: format!("commits[{index}].{field}"),
                    message,
                }))
            }
        }
    }
    if errors.is_empty() {
        return Ok(valid);
    }
    let first = &errors[0];
    let message = format!(
        "Invalid commit batch ({} problem{}); nothing was stored. First: {} {}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" },
        first.field,
        first.message
    );
    errors.truncate(MAX_LISTED_ERRORS);
    Err(AppError::Invalid { message, errors })
}

type Problems = Vec<(&'static str, String)>;

fn validate_commit(value: &Value) -> Result<NewCommit, Problems> {
    let Some(object) = value.as_object() else {
        return Err(vec![("", "must be a JSON object".into())]);
    };
    let mut problems = Problems::new();
    let mut text = |field: &'static str, max: usize, required: bool| {
        read_text(object, field, max, required).unwrap_or_else(|p| {
            problems.push((field, p));
            None
        })
    };
    let sha = text("sha", 40, true);
    let author_name = text("author_name", MAX_NAME, true);
    let author_email = text("author_email", MAX_NAME, true);
    let committer_name = text("committer_name", MAX_NAME, false);
    let committer_email = text("committer_email", MAX_NAME, false);
    let commit_date = text("commit_date", 64, true);
    let message_title = text("message_title", MAX_TITLE, true);
    let message_body = read_text(object, "message_body", usize::MAX, false).unwrap_or_else(|p| {
        problems.push(("message_body", p));
        None
    });
    let mut count = |field: &'static str, max: i64| {
        read_count(object, field, max).unwrap_or_else(|p| {
            problems.push((field, p));
            None
        })
    };
    let additions = count("additions", i64::MAX);
    let deletions = count("deletions", i64::MAX);
    let files_changed = count("files_changed", i64::MAX);
    let parent_count = count("parent_count", i64::from(i32::MAX));
    let is_merge = match object.get("is_merge") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            problems.push(("is_merge", "must be true or false".into()));
            None
        }
    };
    let sha = sha.and_then(|sha| {
        if sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(sha.to_ascii_lowercase())
        } else {
            problems.push(("sha", "must be 40 hexadecimal characters".into()));
            None
        }
    });
    let commit_date = commit_date.and_then(|d| match DateTime::parse_from_rfc3339(&d) {
        Ok(date) => Some(date.with_timezone(&Utc)),
        Err(_) => {
            problems.push(("commit_date", "must be an RFC 3339 date-time".into()));
            None
        }
    });
    let (
        Some(sha),
        Some(author_name),
        Some(author_email),
        Some(commit_date),
        Some(message_title),
        true,
    ) = (
        sha,
        author_name,
        author_email,
        commit_date,
        message_title,
        problems.is_empty(),
    )
    else {
        return Err(problems);
    };
    let parent_count = parent_count.unwrap_or(if is_merge == Some(true) { 2 } else { 1 });
    Ok(NewCommit {
        sha,
        committer_name: committer_name.unwrap_or_else(|| author_name.clone()),
        committer_email: committer_email
            .unwrap_or_else(|| author_email.clone())
            .to_lowercase(),
        author_name,
        author_email: author_email.to_lowercase(),
        commit_date,
        message_title,
        message_body: message_body.filter(|b| !b.is_empty()),
        additions: additions.unwrap_or(0),
        deletions: deletions.unwrap_or(0),
        files_changed: files_changed.unwrap_or(0),
        is_merge: is_merge.unwrap_or(parent_count > 1),
        parent_count: i32::try_from(parent_count).unwrap_or(i32::MAX),
    })
}

/// A string field: `Ok(None)` when absent and optional; 1..=max characters when present
/// (blank counts as empty), never a NUL (PostgreSQL text cannot hold one).
fn read_text(
    object: &Map<String, Value>,
    field: &str,
    max: usize,
    required: bool,
) -> Result<Option<String>, String> {
    let value = match object.get(field) {
        None | Some(Value::Null) if required => return Err("is required".into()),
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err("must be a string".into()),
    };
    if value.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    if max == usize::MAX {
        return Ok(Some(value.clone()));
    }
    let length = value.chars().count();
    if value.trim().is_empty() || length > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    Ok(Some(value.clone()))
}

fn read_count(object: &Map<String, Value>, field: &str, max: i64) -> Result<Option<i64>, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if (0..=max).contains(&v) => Ok(Some(v)),
            _ => Err("must be a whole number ≥ 0".into()),
        },
        Some(_) => Err("must be a whole number ≥ 0".into()),
    }
}

/// Fits a commit read from git into the wire format's limits, so a repository with odd
/// history (empty messages, missing emails, huge first lines) never blocks a sync: an
/// empty value becomes `unknown` / `(no commit message)`, long ones are cut, a message
/// title cut short keeps its full first line in the body, and bodies over 64 Ki
/// characters are cut.
pub fn from_git(commit: &GitCommit) -> CommitIn {
    let message = commit.message.replace('\0', "");
    let message = message.trim();
    let (first_line, rest) = message.split_once('\n').unwrap_or((message, ""));
    let first_line = first_line.trim();
    let mut body = rest.trim().to_string();
    let title = if first_line.is_empty() {
        "(no commit message)".to_string()
    } else if first_line.chars().count() > MAX_TITLE {
        body = format!("{first_line}\n\n{body}").trim().to_string();
        cut(first_line, MAX_TITLE)
    } else {
        first_line.to_string()
    };
    let name = |s: &str| {
        let s = s.replace('\0', "");
        if s.trim().is_empty() {
            "unknown".to_string()
        } else {
            cut(s.trim(), MAX_NAME)
        }
    };
    if body.chars().count() > MAX_GIT_BODY {
        body = format!("{}\n[message cut by gitpulse]", cut(&body, MAX_GIT_BODY));
    }
    CommitIn {
        sha: commit.sha.to_ascii_lowercase(),
        author_name: name(&commit.author_name),
        author_email: name(&commit.author_email),
        committer_name: name(&commit.committer_name),
        committer_email: name(&commit.committer_email),
        commit_date: commit.commit_date.to_rfc3339(),
        message_title: title,
        message_body: (!body.is_empty()).then_some(body),
        additions: commit.additions,
        deletions: commit.deletions,
        files_changed: commit.files_changed,
        is_merge: commit.parents.len() > 1,
        parent_count: i32::try_from(commit.parents.len()).unwrap_or(i32::MAX),
    }
}

fn cut(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn commit(sha: &str) -> Value {
        json!({
            "sha": sha, "author_name": "Alice", "author_email": "Alice@Example.com",
            "commit_date": "2026-01-02T12:00:00Z", "message_title": "Fix it",
        })
    }

    #[test]
    fn defaults_and_normalisation() {
        let sha = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
        let valid = validate_batch(Some(&[commit(sha)])).expect("valid");
        let c = &valid[0];
        assert_eq!(c.sha, sha.to_lowercase());
        assert_eq!(c.author_email, "alice@example.com");
        assert_eq!(c.committer_name, "Alice");
        assert_eq!((c.parent_count, c.is_merge, c.additions), (1, false, 0));
    }

    #[test]
    fn names_every_problem_by_index_and_field() {
        let mut bad = commit("xyz");
        bad["additions"] = json!(-1);
        bad["message_title"] = json!("");
        let Err(AppError::Invalid { message, errors }) =
            validate_batch(Some(&[commit(&"a".repeat(40)), bad]))
        else {
            panic!("expected invalid");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "commits[1].message_title",
                "commits[1].additions",
                "commits[1].sha"
            ]
        );
        assert!(message.contains("commits[1]"), "{message}");

        let dup = validate_batch(Some(&[commit(&"a".repeat(40)), commit(&"A".repeat(40))]));
        assert!(
            matches!(dup, Err(AppError::Invalid { errors, .. }) if errors[0].field == "commits[1].sha")
        );
        assert!(validate_batch(Some(&[])).is_err());
        assert!(validate_batch(None).is_err());
    }
}
