//! The commit wire format of `POST /api/v1/sync/.../commits`: its validation (every
//! problem named by index and field, before anything is written) and the conversion of
//! git's view of a commit into it, shared by the push client and the pull sync.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
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
    #[schema(
        pattern = "^[0-9A-Fa-f]{40}$",
        example = "abc123def456abc123def456abc123def456abc1"
    )]
    pub sha: String,
    /// 1–255 characters, not all blank.
    #[schema(min_length = 1, max_length = 255, pattern = "\\S")]
    pub author_name: String,
    /// 1–255 characters, not all blank (stored lowercased).
    #[schema(min_length = 1, max_length = 255, pattern = "\\S")]
    pub author_email: String,
    /// 1–255 characters, not all blank; defaults to the author.
    #[schema(
        required = false,
        nullable,
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub committer_name: String,
    /// 1–255 characters, not all blank; defaults to the author's email.
    #[schema(
        required = false,
        nullable,
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub committer_email: String,
    /// RFC 3339.
    #[schema(format = DateTime, max_length = 64, example = "2026-01-02T12:00:00Z")]
    pub commit_date: String,
    /// The first line of the message, 1–500 characters, not all blank.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub message_title: String,
    /// The rest of the message.
    pub message_body: Option<String>,
    /// Lines added (≥ 0, default 0).
    #[schema(required = false, nullable, minimum = 0)]
    pub additions: i64,
    /// Lines deleted (≥ 0, default 0).
    #[schema(required = false, nullable, minimum = 0)]
    pub deletions: i64,
    /// Files changed (≥ 0, default 0).
    #[schema(required = false, nullable, minimum = 0)]
    pub files_changed: i64,
    /// Default: `parent_count > 1`.
    #[schema(required = false, nullable)]
    pub is_merge: bool,
    /// ≥ 0, default 1 (2 when `is_merge`).
    #[schema(required = false, nullable, minimum = 0)]
    pub parent_count: i32,
}

/// One element of `commits` as sent, read straight from the request body without building
/// a JSON tree, and kept only as far as validation needs: each field is absent/null
/// (`None`) or a [`Wire`] value of whatever type the client sent.
#[derive(Debug)]
pub enum WireEntry {
    Commit(Box<WireCommit>),
    /// Not a JSON object.
    NotObject,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireCommit {
    sha: Option<Wire>,
    author_name: Option<Wire>,
    author_email: Option<Wire>,
    committer_name: Option<Wire>,
    committer_email: Option<Wire>,
    commit_date: Option<Wire>,
    message_title: Option<Wire>,
    message_body: Option<Wire>,
    additions: Option<Wire>,
    deletions: Option<Wire>,
    files_changed: Option<Wire>,
    is_merge: Option<Wire>,
    parent_count: Option<Wire>,
}

/// A JSON value reduced to what validation distinguishes.
#[derive(Debug)]
pub enum Wire {
    Text(String),
    Integer(i64),
    Bool(bool),
    /// Any other number, array or object.
    Other,
}

impl From<CommitIn> for WireEntry {
    fn from(c: CommitIn) -> Self {
        let text = |s: String| Some(Wire::Text(s));
        let int = |n: i64| Some(Wire::Integer(n));
        WireEntry::Commit(Box::new(WireCommit {
            sha: text(c.sha),
            author_name: text(c.author_name),
            author_email: text(c.author_email),
            committer_name: text(c.committer_name),
            committer_email: text(c.committer_email),
            commit_date: text(c.commit_date),
            message_title: text(c.message_title),
            message_body: c.message_body.map(Wire::Text),
            additions: int(c.additions),
            deletions: int(c.deletions),
            files_changed: int(c.files_changed),
            is_merge: Some(Wire::Bool(c.is_merge)),
            parent_count: int(i64::from(c.parent_count)),
        }))
    }
}

impl<'de> Deserialize<'de> for Wire {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WireVisitor;
        impl<'de> Visitor<'de> for WireVisitor {
            type Value = Wire;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Wire, E> {
                Ok(Wire::Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Wire, E> {
                Ok(Wire::Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Wire, E> {
                Ok(Wire::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Wire, E> {
                Ok(i64::try_from(v).map_or(Wire::Other, Wire::Integer))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Wire, E> {
                Ok(crate::http::extract::whole_number(v).map_or(Wire::Other, Wire::Integer))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Wire, E> {
                Ok(Wire::Bool(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Wire, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Wire::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wire, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Wire::Other)
            }
        }
        deserializer.deserialize_any(WireVisitor)
    }
}

impl<'de> Deserialize<'de> for WireEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = WireEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a commit object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<WireEntry, A::Error> {
                let commit = WireCommit::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(WireEntry::Commit(Box::new(commit)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WireEntry, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(WireEntry::NotObject)
            }
            fn visit_unit<E: de::Error>(self) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<WireEntry, E> {
                Ok(WireEntry::NotObject)
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

/// Validates a whole batch: 1–1000 commits, every field valid, no sha twice. The
/// answer names each problem as `commits[i].field`.
pub fn validate_batch(commits: Option<Vec<WireEntry>>) -> Result<Vec<NewCommit>, AppError> {
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
    for (index, entry) in commits.into_iter().enumerate() {
        match validate_commit(entry) {
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

fn validate_commit(entry: WireEntry) -> Result<NewCommit, Problems> {
    let WireEntry::Commit(commit) = entry else {
        return Err(vec![("", "must be a JSON object".into())]);
    };
    let c = *commit;
    let mut problems = Problems::new();
    let mut text = |field: &'static str, value: Option<Wire>, max: usize, required: bool| {
        read_text(value, max, required).unwrap_or_else(|p| {
            problems.push((field, p));
            None
        })
    };
    let sha = text("sha", c.sha, 40, true);
    let author_name = text("author_name", c.author_name, MAX_NAME, true);
    let author_email = text("author_email", c.author_email, MAX_NAME, true);
    let committer_name = text("committer_name", c.committer_name, MAX_NAME, false);
    let committer_email = text("committer_email", c.committer_email, MAX_NAME, false);
    let commit_date = text("commit_date", c.commit_date, 64, true);
    let message_title = text("message_title", c.message_title, MAX_TITLE, true);
    let message_body = text("message_body", c.message_body, usize::MAX, false);
    let mut count = |field: &'static str, value: Option<Wire>, max: i64| {
        read_count(value, max).unwrap_or_else(|p| {
            problems.push((field, p));
            None
        })
    };
    let additions = count("additions", c.additions, i64::MAX);
    let deletions = count("deletions", c.deletions, i64::MAX);
    let files_changed = count("files_changed", c.files_changed, i64::MAX);
    let parent_count = count("parent_count", c.parent_count, i64::from(i32::MAX));
    let is_merge = match c.is_merge {
        None => None,
        Some(Wire::Bool(b)) => Some(b),
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
fn read_text(value: Option<Wire>, max: usize, required: bool) -> Result<Option<String>, String> {
    let value = match value {
        None if required => return Err("is required".into()),
        None => return Ok(None),
        Some(Wire::Text(s)) => s,
        Some(_) => return Err("must be a string".into()),
    };
    if value.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    if max == usize::MAX {
        return Ok(Some(value));
    }
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    Ok(Some(value))
}

fn read_count(value: Option<Wire>, max: i64) -> Result<Option<i64>, String> {
    match value {
        None => Ok(None),
        Some(Wire::Integer(v)) if (0..=max).contains(&v) => Ok(Some(v)),
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

    fn commit(sha: &str) -> serde_json::Value {
        json!({
            "sha": sha, "author_name": "Alice", "author_email": "Alice@Example.com",
            "commit_date": "2026-01-02T12:00:00Z", "message_title": "Fix it",
        })
    }

    fn batch(values: &[serde_json::Value]) -> Option<Vec<WireEntry>> {
        Some(
            values
                .iter()
                .map(|v| serde_json::from_value(v.clone()).expect("any JSON is a wire entry"))
                .collect(),
        )
    }

    #[test]
    fn defaults_and_normalisation() {
        let sha = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
        let valid = validate_batch(batch(&[commit(sha)])).expect("valid");
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
            validate_batch(batch(&[commit(&"a".repeat(40)), bad]))
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

        let dup = validate_batch(batch(&[commit(&"a".repeat(40)), commit(&"A".repeat(40))]));
        assert!(
            matches!(dup, Err(AppError::Invalid { errors, .. }) if errors[0].field == "commits[1].sha")
        );
        assert!(validate_batch(Some(Vec::new())).is_err());
        assert!(validate_batch(None).is_err());
    }
}
