//! Running `git` safely: the remote URL policy (DESIGN section 9), a runner with a
//! timeout that never prompts and dies with its future, mirroring, and reading history
//! (metadata + numstat) in a NUL-separated format that no commit message can break.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A remote that passed [`validate_remote_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteUrl {
    /// An `https://` URL on an allowed host.
    Https(String),
    /// A local repository (a path or a `file://` URL), when local remotes are allowed.
    Local(PathBuf),
}

impl RemoteUrl {
    /// The argument to hand to git (after a `--`).
    pub fn as_git_arg(&self) -> OsString {
        match self {
            RemoteUrl::Https(url) => OsString::from(url),
            RemoteUrl::Local(path) => path.clone().into_os_string(),
        }
    }
}

/// Checks a remote URL against the policy: `https://` on one of `allowed_hosts`
/// (case-insensitive, no credentials in the URL), or, with `allow_local`, an absolute
/// path or `file://` URL. Anything git could read as an option or a transport helper
/// (`-...`, `ext::`, `fd::`), other schemes and scp-style `host:path` are refused.
/// The error is a sentence safe to show the user.
pub fn validate_remote_url(
    raw: &str,
    allowed_hosts: &[String],
    allow_local: bool,
) -> Result<RemoteUrl, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err("the repository URL is empty".into());
    }
    if url.len() > 2048 {
        return Err("the repository URL is too long".into());
    }
    if url.starts_with('-') {
        return Err("the repository URL must not start with '-'".into());
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("the repository URL must not contain spaces or control characters".into());
    }
    if url.contains("::") {
        return Err("git transport helpers (such as ext::) are not allowed".into());
    }
    let local_hint = if allow_local {
        ""
    } else {
        " (local paths are disabled: BACKUP_ALLOW_LOCAL=false)"
    };
    if let Some(rest) = url.strip_prefix("file://") {
        if !allow_local {
            return Err(format!("file:// URLs are not allowed{local_hint}"));
        }
        return local_path(rest);
    }
    if url.starts_with('/') {
        if !allow_local {
            return Err(format!("local paths are not allowed{local_hint}"));
        }
        return local_path(url);
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| format!("only https:// URLs on allowed hosts are accepted{local_hint}"))?;
    if parsed.scheme() != "https" {
        return Err(format!(
            "only https:// URLs are accepted, not {}://",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials in the repository URL are not accepted".into());
    }
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    if !allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return Err(format!(
            "the host {host} is not allowed (allowed: {})",
            allowed_hosts.join(", ")
        ));
    }
    Ok(RemoteUrl::Https(parsed.to_string()))
}

fn local_path(path: &str) -> Result<RemoteUrl, String> {
    let path = PathBuf::from(path);
    if !path.is_absolute() {
        return Err("local repository paths must be absolute".into());
    }
    if path
        .components()
        .any(|c| c == std::path::Component::ParentDir)
    {
        return Err("local repository paths must not contain '..'".into());
    }
    Ok(RemoteUrl::Local(path))
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not run git: {0}")]
    Spawn(std::io::Error),
    #[error("git timed out after {0:?}")]
    Timeout(Duration),
    #[error("git failed: {0}")]
    Failed(String),
    #[error("unexpected git output: {0}")]
    Parse(String),
}

/// Runs `git <args>` in `dir` (if given) and returns its stdout. Never prompts for
/// credentials, ignores system/global configuration hooks where it can, and is killed
/// when `timeout` passes or the calling future is dropped.
pub async fn run(
    dir: Option<&Path>,
    args: &[&OsStr],
    timeout: Duration,
) -> Result<Vec<u8>, GitError> {
    let mut command = tokio::process::Command::new("git");
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    command
        .args([
            "-c",
            "protocol.ext.allow=never",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("SSH_ASKPASS", "true")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().map_err(GitError::Spawn)?;
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| GitError::Timeout(timeout))?
        .map_err(GitError::Spawn)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let line = stderr
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("no error output")
            .to_string();
        return Err(GitError::Failed(line));
    }
    Ok(output.stdout)
}

/// Creates (`clone --mirror`) or updates (`fetch --prune`) a bare mirror of `remote` at `dest`.
pub async fn mirror(remote: &RemoteUrl, dest: &Path, timeout: Duration) -> Result<(), GitError> {
    let url = remote.as_git_arg();
    if dest.join("HEAD").exists() {
        run(
            Some(dest),
            &[
                OsStr::new("fetch"),
                OsStr::new("--prune"),
                OsStr::new("--quiet"),
                OsStr::new("--"),
                &url,
                OsStr::new("+refs/heads/*:refs/heads/*"),
            ],
            timeout,
        )
        .await?;
        return Ok(());
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(GitError::Spawn)?;
    }
    run(
        None,
        &[
            OsStr::new("clone"),
            OsStr::new("--mirror"),
            OsStr::new("--quiet"),
            OsStr::new("--"),
            &url,
            dest.as_os_str(),
        ],
        timeout,
    )
    .await?;
    Ok(())
}

/// Whether `rev` names a commit in the repository at `dir`.
pub async fn has_commit(dir: &Path, rev: &str, timeout: Duration) -> Result<bool, GitError> {
    let spec = format!("{rev}^{{commit}}");
    match run(
        Some(dir),
        &[
            OsStr::new("rev-parse"),
            OsStr::new("--verify"),
            OsStr::new("--quiet"),
            OsStr::new("--end-of-options"),
            OsStr::new(&spec),
        ],
        timeout,
    )
    .await
    {
        Ok(_) => Ok(true),
        Err(GitError::Failed(_)) => Ok(false),
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
        Some(dir),
        &[
            OsStr::new("merge-base"),
            OsStr::new("--is-ancestor"),
            OsStr::new(ancestor),
            OsStr::new(rev),
        ],
        timeout,
    )
    .await
    {
        Ok(_) => Ok(true),
        Err(GitError::Failed(_)) => Ok(false),
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
    let output = run(
        Some(dir),
        &[
            OsStr::new("log"),
            OsStr::new("--reverse"),
            OsStr::new("--topo-order"),
            OsStr::new("--numstat"),
            OsStr::new("--no-renames"),
            OsStr::new("-z"),
            OsStr::new("--format=%H%x00%P%x00%an%x00%ae%x00%cn%x00%ce%x00%cI%x00%B"),
            OsStr::new("--end-of-options"),
            OsStr::new(&range),
            OsStr::new("--"),
        ],
        timeout,
    )
    .await?;
    parse_log(&output)
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

    fn hosts() -> Vec<String> {
        vec!["github.com".into()]
    }

    #[test]
    fn url_policy() {
        let ok = validate_remote_url("https://github.com/rust-lang/rust.git", &hosts(), false);
        assert!(matches!(ok, Ok(RemoteUrl::Https(_))));
        assert!(validate_remote_url("https://GitHub.com/a/b", &hosts(), false).is_ok());
        for bad in [
            "",
            "-uhttps://github.com/a/b",
            "--upload-pack=touch /tmp/x",
            "ext::sh -c touch% /tmp/pwned",
            "http://github.com/a/b",
            "git@github.com:a/b.git",
            "ssh://git@github.com/a/b",
            "https://evil.example/a/b",
            "https://user:token@github.com/a/b",
            "https://github.com.evil.example/a",
            "/tmp/repo",
            "file:///tmp/repo",
            "relative/path",
        ] {
            assert!(
                validate_remote_url(bad, &hosts(), false).is_err(),
                "{bad} should be refused"
            );
        }
        assert_eq!(
            validate_remote_url("/tmp/repo", &hosts(), true),
            Ok(RemoteUrl::Local(PathBuf::from("/tmp/repo")))
        );
        assert_eq!(
            validate_remote_url("file:///tmp/repo", &hosts(), true),
            Ok(RemoteUrl::Local(PathBuf::from("/tmp/repo")))
        );
        assert!(validate_remote_url("file://tmp/repo", &hosts(), true).is_err());
        assert!(validate_remote_url("/tmp/../etc", &hosts(), true).is_err());
        assert!(validate_remote_url("-/tmp/repo", &hosts(), true).is_err());
    }

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
