//! Reading history from a local repository: commits with their numstat, in a
//! NUL-separated format that no commit message can break.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{GitError, run};

/// Reading a repository on this machine needs no network protocol.
const LOCAL: &str = "file";

/// Whether `rev` names a commit in the repository at `dir`.
pub async fn has_commit(dir: &Path, rev: &str, timeout: Duration) -> Result<bool, GitError> {
    let spec = format!("{rev}^{{commit}}");
    let args = [
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        spec.as_str(),
    ];
    match run(args, Some(dir), LOCAL, timeout).await {
        Ok(_) => Ok(true),
        Err(GitError::Failed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `ancestor` is an ancestor of (or equal to) `rev`.
pub async fn is_ancestor(
    dir: &Path,
    ancestor: &str,
    rev: &str,
    timeout: Duration,
) -> Result<bool, GitError> {
    let (ancestor, rev) = (safe_rev(ancestor)?, safe_rev(rev)?);
    match run(
        ["merge-base", "--is-ancestor", ancestor, rev],
        Some(dir),
        LOCAL,
        timeout,
    )
    .await
    {
        Ok(_) => Ok(true),
        Err(GitError::Failed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// One commit as git reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCommit {
    pub sha: String,
    pub parents: Vec<String>,
    pub author_name: String,
    pub author_email: String,
    pub committer_name: String,
    pub committer_email: String,
    pub commit_date: DateTime<Utc>,
    /// The whole message.
    pub message: String,
    pub additions: i64,
    pub deletions: i64,
    pub files_changed: i64,
}

/// Checks that `rev` cannot be read as an option and names something simple.
fn safe_rev(rev: &str) -> Result<&str, GitError> {
    let ok = !rev.is_empty()
        && !rev.starts_with('-')
        && rev
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '.' | '-' | '~' | '^'));
    if ok {
        Ok(rev)
    } else {
        Err(GitError::Parse(format!(
            "not an acceptable revision: {rev:?}"
        )))
    }
}

/// Commits reachable from `tip` but not from `since` (all of them without `since`),
/// oldest first in topological order, so every commit comes after its parents.
pub async fn log(
    dir: &Path,
    tip: &str,
    since: Option<&str>,
    timeout: Duration,
) -> Result<Vec<GitCommit>, GitError> {
    let tip = safe_rev(tip)?;
    let range = match since {
        Some(since) => format!("{}..{tip}", safe_rev(since)?),
        None => tip.to_string(),
    };
    let args = [
        "log",
        "--reverse",
        "--topo-order",
        "--numstat",
        "--no-renames",
        "-z",
        "--format=%H%x00%P%x00%an%x00%ae%x00%cn%x00%ce%x00%cI%x00%B",
        "--end-of-options",
        range.as_str(),
        "--",
    ];
    let output = run(args, Some(dir), LOCAL, timeout).await?;
    parse_log(&output.stdout)
}

/// Parses `git log -z --numstat --format=<8 NUL-separated fields>`: each commit is eight
/// tokens (a message cannot contain NUL), then zero or more `added\tdeleted\tpath`
/// tokens (the first after a newline). A commit's first token is bare hex, which never
/// looks like a numstat token, so the stream is unambiguous whatever the messages hold.
pub fn parse_log(output: &[u8]) -> Result<Vec<GitCommit>, GitError> {
    let mut tokens = output
        .split(|b| *b == 0)
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .peekable();
    let mut commits = Vec::new();
    while let Some(sha) = tokens.next() {
        let sha = sha.trim_start_matches('\n').to_string();
        if sha.is_empty() && tokens.peek().is_none() {
            break;
        }
        let mut field = || {
            tokens
                .next()
                .ok_or_else(|| GitError::Parse(format!("truncated record for commit {sha}")))
        };
        let parents = field()?;
        let (author_name, author_email) = (field()?, field()?);
        let (committer_name, committer_email) = (field()?, field()?);
        let date = field()?;
        let message = field()?;
        let commit_date = DateTime::parse_from_rfc3339(&date)
            .map_err(|_| GitError::Parse(format!("bad date {date:?} for commit {sha}")))?
            .with_timezone(&Utc);
        let mut commit = GitCommit {
            parents: parents.split_whitespace().map(String::from).collect(),
            sha,
            author_name,
            author_email,
            committer_name,
            committer_email,
            commit_date,
            message,
            additions: 0,
            deletions: 0,
            files_changed: 0,
        };
        while let Some(stat) = tokens.peek().and_then(|t| numstat(t)) {
            tokens.next();
            commit.additions += stat.0;
            commit.deletions += stat.1;
            commit.files_changed += 1;
        }
        if !commit.sha.bytes().all(|b| b.is_ascii_hexdigit()) || commit.sha.len() < 40 {
            return Err(GitError::Parse(format!("bad commit id {:?}", commit.sha)));
        }
        commits.push(commit);
    }
    Ok(commits)
}

/// `added\tdeleted\tpath` (binary files show `-`): the line counts, if `token` is one.
fn numstat(token: &str) -> Option<(i64, i64)> {
    let mut parts = token.trim_start_matches('\n').splitn(3, '\t');
    let count = |s: &str| match s {
        "-" => Some(0),
        n if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => n.parse().ok(),
        _ => None,
    };
    let added = count(parts.next()?)?;
    let deleted = count(parts.next()?)?;
    parts.next()?;
    Some((added, deleted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_messages_and_paths_of_any_shape() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let c = "c".repeat(40);
        let date = "2026-01-02T12:00:00+01:00";
        let mut out = Vec::new();
        // A commit whose message looks like numstat and holds tabs and newlines.
        out.extend_from_slice(
            format!("{a}\0\0Ann\0ann@x\0Ann\0ann@x\0{date}\x001\t2\tnot a stat\n\nbody\n\0")
                .as_bytes(),
        );
        out.extend_from_slice(b"\n3\t1\tsrc/a.rs\0-\t-\timg.png\0");
        // A path that is 40 hex digits, and a path with a tab and newline.
        out.extend_from_slice(format!("2\t0\t{c}\0").as_bytes());
        out.extend_from_slice(b"1\t1\twe\tird\nname\0");
        // A commit without a diff and with an empty message.
        out.extend_from_slice(format!("{b}\0{a}\0Bob\0\0Bob\0\0{date}\0\0").as_bytes());
        let commits = parse_log(&out).expect("parses");
        assert_eq!(commits.len(), 2);
        assert_eq!(commits[0].sha, a);
        assert_eq!(commits[0].message, "1\t2\tnot a stat\n\nbody\n");
        assert_eq!(
            (
                commits[0].additions,
                commits[0].deletions,
                commits[0].files_changed
            ),
            (6, 2, 4)
        );
        assert_eq!(commits[1].sha, b);
        assert_eq!(commits[1].parents, vec![a.clone()]);
        assert_eq!(commits[1].message, "");
        assert_eq!(commits[1].files_changed, 0);
        assert_eq!(
            commits[1].commit_date.to_rfc3339(),
            "2026-01-02T11:00:00+00:00"
        );
    }
}
