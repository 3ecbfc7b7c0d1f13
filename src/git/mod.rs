//! Running `git` safely, for any feature that clones, fetches or reads repositories
//! (backups, `pull` repositories, the push client).
//!
//! Two halves: a URL policy ([`UrlPolicy::check`]) that turns user input into a [`Remote`]
//! git cannot misread (no option injection, no `transport::address` helpers such as
//! `ext::`, no credentials, only allowed hosts), and a runner ([`run`]) that starts git
//! directly (never through a shell) with a timeout, captured stderr, no terminal prompts,
//! and `GIT_ALLOW_PROTOCOL` limited to the one protocol the remote needs.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;

use crate::config::Config;

mod history;

pub use history::{GitCommit, has_commit, is_ancestor, log, parse_log};

/// Longest repository URL accepted.
const MAX_URL_LEN: usize = 2048;
/// How much of git's stderr an error keeps (the end, where git says what went wrong).
const MAX_STDERR_CHARS: usize = 1000;

/// Which remote repositories may be cloned.
#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    /// Hosts that `https://` URLs may point at (compared case-insensitively).
    pub allowed_hosts: Vec<String>,
    /// Whether absolute local paths and `file://` URLs are allowed.
    pub allow_local: bool,
}

/// A remote repository that passed the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// A normalised `https://` URL on an allowed host, without credentials.
    Https(String),
    /// An absolute path on this machine.
    Local(PathBuf),
}

impl Remote {
    /// The positional argument handed to git (always after `--`).
    pub fn as_arg(&self) -> &OsStr {
        match self {
            Self::Https(url) => OsStr::new(url),
            Self::Local(path) => path.as_os_str(),
        }
    }

    /// The value of `GIT_ALLOW_PROTOCOL` for talking to this remote.
    pub fn protocol(&self) -> &'static str {
        match self {
            Self::Https(_) => "https",
            Self::Local(_) => "file",
        }
    }
}

/// Why a URL was refused. Messages never repeat the URL (it may hold credentials).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_URL_LEN} characters")]
    TooLong,
    #[error("must not start with '-'")]
    LooksLikeOption,
    #[error("must not contain spaces or control characters")]
    BadCharacters,
    #[error("must not use git's transport::address syntax (such as ext::)")]
    TransportHelper,
    #[error("must not contain credentials (user:password@)")]
    Credentials,
    #[error("must be an https:// URL")]
    NotHttps,
    #[error("is not a valid URL")]
    Malformed,
    #[error("points at host '{host}', which is not allowed (allowed: {allowed})")]
    HostNotAllowed { host: String, allowed: String },
    #[error("may not be a local path or file:// URL on this server")]
    LocalNotAllowed,
    #[error("must be an absolute path when it is a local path")]
    RelativePath,
}

impl UrlPolicy {
    /// The policy of `BACKUP_ALLOWED_HOSTS` and `BACKUP_ALLOW_LOCAL`, shared by backups
    /// and `pull` repositories.
    pub fn from_config(config: &Config) -> Self {
        Self {
            allowed_hosts: config.backup_allowed_hosts.clone(),
            allow_local: config.backup_allow_local,
        }
    }

    /// Accepts `raw` as a remote, or says why not.
    pub fn check(&self, raw: &str) -> Result<Remote, UrlError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(UrlError::Empty);
        }
        if raw.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong);
        }
        if raw.starts_with('-') {
            return Err(UrlError::LooksLikeOption);
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::BadCharacters);
        }
        if raw.contains("::") {
            return Err(UrlError::TransportHelper);
        }
        if raw.starts_with('/') {
            return self.local(PathBuf::from(raw));
        }
        let Some((scheme, _)) = raw.split_once("://") else {
            // `host:path` (scp-like ssh) and relative paths.
            return Err(if self.allow_local && !raw.contains(':') {
                UrlError::RelativePath
            } else {
                UrlError::NotHttps
            });
        };
        let url = url::Url::parse(raw).map_err(|_| UrlError::Malformed)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlError::Credentials);
        }
        match scheme.to_ascii_lowercase().as_str() {
            "https" => self.https(url),
            "file" => {
                let host_ok = url
                    .host_str()
                    .is_none_or(|h| h.is_empty() || h == "localhost");
                let path = url.to_file_path().map_err(|()| UrlError::Malformed)?;
                if !host_ok {
                    return Err(UrlError::Malformed);
                }
                self.local(path)
            }
            _ => Err(UrlError::NotHttps),
        }
    }

    fn https(&self, url: url::Url) -> Result<Remote, UrlError> {
        let host = url
            .host_str()
            .ok_or(UrlError::Malformed)?
            .to_ascii_lowercase();
        let allowed = self
            .allowed_hosts
            .iter()
            .any(|h| h.trim().eq_ignore_ascii_case(&host));
        if !allowed {
            return Err(UrlError::HostNotAllowed {
                host,
                allowed: self.allowed_hosts.join(", "),
            });
        }
        Ok(Remote::Https(url.to_string()))
    }

    fn local(&self, path: PathBuf) -> Result<Remote, UrlError> {
        if !self.allow_local {
            return Err(UrlError::LocalNotAllowed);
        }
        if !path.is_absolute() {
            return Err(UrlError::RelativePath);
        }
        Ok(Remote::Local(path))
    }
}

/// Why running git did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not run git: {0}")]
    Spawn(std::io::Error),
    #[error("git did not finish within {} seconds", .0.as_secs())]
    TimedOut(Duration),
    #[error("git failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
    #[error("unexpected git output: {0}")]
    Parse(String),
}

/// Runs `git <args>` in `dir` (if given), allowing only `protocol` for remotes
/// (`GIT_ALLOW_PROTOCOL`), never prompting, and killing git after `timeout`.
/// Callers put `--` before positional arguments that come from users.
pub async fn run<I, S>(
    args: I,
    dir: Option<&Path>,
    protocol: &str,
    timeout: Duration,
) -> Result<Output, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new("git");
    // No stored credentials are ever offered to a remote, and no hook of a repository we
    // read is ever run.
    command.args([
        "-c",
        "credential.helper=",
        "-c",
        "protocol.ext.allow=never",
        "-c",
        "core.hooksPath=/dev/null",
    ]);
    command
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ALLOW_PROTOCOL", protocol)
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = tokio::time::timeout(timeout, command.output())
        .await
        .map_err(|_| GitError::TimedOut(timeout))?
        .map_err(GitError::Spawn)?;
    if output.status.success() {
        return Ok(output);
    }
    let status = output.status.code().map_or_else(
        || "killed by a signal".to_string(),
        |c| format!("exit code {c}"),
    );
    Err(GitError::Failed {
        status,
        stderr: tail(&String::from_utf8_lossy(&output.stderr)),
    })
}

/// `git clone --mirror` of `remote` into `dest` (which must not exist yet).
pub async fn clone_mirror(remote: &Remote, dest: &Path, timeout: Duration) -> Result<(), GitError> {
    let mut args: Vec<OsString> = vec!["clone".into(), "--mirror".into(), "--quiet".into()];
    if matches!(remote, Remote::Local(_)) {
        // A copy, not hard links into someone else's repository.
        args.push("--no-hardlinks".into());
    }
    args.push("--".into());
    args.push(remote.as_arg().to_owned());
    args.push(dest.as_os_str().to_owned());
    run(args, None, remote.protocol(), timeout).await.map(drop)
}

/// Brings the mirror in `dir` up to date with its origin, dropping deleted refs.
pub async fn fetch_mirror(dir: &Path, remote: &Remote, timeout: Duration) -> Result<(), GitError> {
    run(
        ["fetch", "--prune", "--quiet", "origin"],
        Some(dir),
        remote.protocol(),
        timeout,
    )
    .await
    .map(drop)
}

/// Creates (`clone --mirror`) or updates (`fetch --prune`) a bare mirror of `remote` at `dest`.
pub async fn update_mirror(
    remote: &Remote,
    dest: &Path,
    timeout: Duration,
) -> Result<(), GitError> {
    if dest.join("HEAD").exists() {
        return fetch_mirror(dest, remote, timeout).await;
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(GitError::Spawn)?;
    }
    clone_mirror(remote, dest, timeout).await
}

/// The last `MAX_STDERR_CHARS` characters of git's trimmed stderr.
fn tail(stderr: &str) -> String {
    let text = stderr.trim();
    let count = text.chars().count();
    if count <= MAX_STDERR_CHARS {
        return text.to_string();
    }
    let start = text
        .char_indices()
        .nth(count - MAX_STDERR_CHARS)
        .map_or(0, |(i, _)| i);
    format!("...{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow_local: bool) -> UrlPolicy {
        UrlPolicy {
            allowed_hosts: vec!["github.com".into(), "git.example.org".into()],
            allow_local,
        }
    }

    #[test]
    fn accepts_https_on_allowed_hosts() {
        let remote = policy(false)
            .check("https://GitHub.com/octo/hello.git")
            .expect("allowed");
        assert_eq!(
            remote,
            Remote::Https("https://github.com/octo/hello.git".into())
        );
        assert_eq!(remote.protocol(), "https");
        assert!(policy(false).check("https://git.example.org/a/b").is_ok());
    }

    #[test]
    fn refuses_everything_else() {
        let p = policy(false);
        let cases = [
            ("", UrlError::Empty),
            ("--upload-pack=touch /tmp/x", UrlError::LooksLikeOption),
            ("-u", UrlError::LooksLikeOption),
            ("ext::sh -c touch% /tmp/x", UrlError::BadCharacters),
            ("ext::sh", UrlError::TransportHelper),
            ("fd::17", UrlError::TransportHelper),
            ("https://user:pw@github.com/a/b", UrlError::Credentials),
            ("https://token@github.com/a/b", UrlError::Credentials),
            ("http://github.com/a/b", UrlError::NotHttps),
            ("ssh://git@github.com/a/b", UrlError::Credentials),
            ("git://github.com/a/b", UrlError::NotHttps),
            ("git@github.com:a/b.git", UrlError::NotHttps),
            ("file:///tmp/repo", UrlError::LocalNotAllowed),
            ("/tmp/repo", UrlError::LocalNotAllowed),
            ("https://github.com\n/a", UrlError::BadCharacters),
        ];
        for (raw, expected) in cases {
            assert_eq!(p.check(raw), Err(expected), "{raw:?}");
        }
        assert!(matches!(
            p.check("https://evil.example.com/a/b"),
            Err(UrlError::HostNotAllowed { .. })
        ));
        // A look-alike host is not the allowed one.
        assert!(p.check("https://github.com.evil.example/a").is_err());
    }

    #[test]
    fn local_paths_only_when_allowed_and_absolute() {
        let p = policy(true);
        assert_eq!(
            p.check("/srv/git/repo"),
            Ok(Remote::Local("/srv/git/repo".into()))
        );
        assert_eq!(
            p.check("file:///srv/git/repo"),
            Ok(Remote::Local("/srv/git/repo".into()))
        );
        assert_eq!(p.check("repo"), Err(UrlError::RelativePath));
        assert_eq!(p.check("./repo"), Err(UrlError::RelativePath));
        assert_eq!(p.check("-repo"), Err(UrlError::LooksLikeOption));
        assert_eq!(
            p.check("file://otherhost/srv/repo"),
            Err(UrlError::Malformed)
        );
    }

    #[test]
    fn errors_do_not_repeat_credentials() {
        let err = policy(false)
            .check("https://me:hunter2@github.com/a/b")
            .expect_err("credentials");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn stderr_tail_keeps_the_end() {
        let long = format!("{}END", "x".repeat(5000));
        let t = tail(&long);
        assert!(t.ends_with("END"));
        assert!(t.chars().count() <= MAX_STDERR_CHARS + 3);
    }

    #[tokio::test]
    async fn run_reports_failures_and_timeouts() {
        let err = run(
            ["definitely-not-a-git-command"],
            None,
            "file",
            Duration::from_secs(10),
        )
        .await
        .expect_err("unknown command");
        assert!(matches!(err, GitError::Failed { .. }), "{err}");
        let ok = run(["--version"], None, "file", Duration::from_secs(10))
            .await
            .expect("git --version");
        assert!(String::from_utf8_lossy(&ok.stdout).starts_with("git version"));
    }
}
