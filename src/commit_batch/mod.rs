//! The commit wire format of `POST /api/v1/sync/.../commits`, shared by the push client,
//! the server and the pull sync: the types on the wire (`wire`), their validation (every
//! problem named by index and field, and nothing committed unless all are valid:
//! `validate`), a push body read commit by commit (`stream`) and the conversion of git's
//! view of a commit into it (here).

mod stream;
mod validate;
mod wire;

use crate::git::GitCommit;

pub use stream::{ReadBody, read_push_body};
pub use validate::{BatchValidator, validate_batch};
pub use wire::{CommitIn, CommitResult, PushResult, Wire, WireCommit, WireEntry};

pub const MAX_BATCH: usize = 1000;
const MAX_NAME: usize = 255;
const MAX_TITLE: usize = 500;
/// Message bodies read from git are cut to this many characters so that one commit can
/// never outgrow a request body limit.
const MAX_GIT_BODY: usize = 65_536;

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
    use crate::error::AppError;
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
