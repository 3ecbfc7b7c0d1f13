//! Running `git` safely, for any feature that clones, fetches or reads repositories
//! (backups, `pull` repositories, the push client).
//!
//! Two halves: a URL policy ([`UrlPolicy::check`]) that turns user input into a [`Remote`]
//! git cannot misread (no option injection, no `transport::address` helpers such as
//! `ext::`, no credentials, only allowed hosts), and a runner ([`run`]) that starts git
//! directly (never through a shell) with a timeout, captured stderr, no terminal prompts,
//! no HTTP redirects, and `GIT_ALLOW_PROTOCOL` limited to the one protocol the remote needs.
//!
//! Before each network operation ([`clone_mirror`], [`fetch_mirror`], [`update_mirror`])
//! the remote's host is resolved again and every address is checked ([`address_problem`]):
//! loopback, private, link-local, CGNAT, unspecified and cloud-metadata addresses are
//! refused unless the policy allows local remotes, and git is pinned to the addresses
//! that were checked (`http.curloptResolve`), so a DNS answer that changes between the
//! check and git's own lookup (rebinding) is not used.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;

mod address;
mod history;
mod url_policy;

pub use address::address_problem;
pub use history::{GitCommit, has_commit, is_ancestor, log, parse_log};
pub use url_policy::{Remote, UrlError, UrlPolicy, UrlRemote};

/// How much of git's stderr an error keeps (the end, where git says what went wrong).
const MAX_STDERR_CHARS: usize = 1000;

/// Why running git did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not run git: {0}")]
    Spawn(std::io::Error),
    #[error("git did not finish within {}", crate::error::seconds(.0.as_secs()))]
    TimedOut(Duration),
    #[error("git failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
    #[error("unexpected git output: {0}")]
    Parse(String),
    #[error("refused: {0}")]
    Refused(String),
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
    // No stored credentials are ever offered to a remote, no hook of a repository we
    // read is ever run, and no HTTP redirect is ever followed (a redirect could lead
    // anywhere, past the URL policy and the address check).
    command.args([
        "-c",
        "http.followRedirects=false",
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
    let mut stderr = tail(&String::from_utf8_lossy(&output.stderr));
    if stderr.contains("returned error: 30") {
        stderr.push_str(" (the server answered with a redirect; redirects are never followed, use the final URL)");
    }
    Err(GitError::Failed { status, stderr })
}

/// `git clone --mirror` of `remote` into `dest` (which must not exist yet), after
/// checking the remote's addresses.
pub async fn clone_mirror(remote: &Remote, dest: &Path, timeout: Duration) -> Result<(), GitError> {
    let mut args = remote.check_addresses().await?;
    args.extend(["clone".into(), "--mirror".into(), "--quiet".into()]);
    if matches!(remote, Remote::Local(_)) {
        // A copy, not hard links into someone else's repository.
        args.push("--no-hardlinks".into());
    }
    args.push("--".into());
    args.push(remote.as_arg().to_owned());
    args.push(dest.as_os_str().to_owned());
    run(args, None, remote.protocol(), timeout).await.map(drop)
}

/// Brings the mirror in `dir` up to date with `remote` (its origin), dropping deleted
/// refs, after checking the remote's addresses.
pub async fn fetch_mirror(dir: &Path, remote: &Remote, timeout: Duration) -> Result<(), GitError> {
    let mut args = remote.check_addresses().await?;
    // From the URL that was just checked, not whatever the mirror's config says.
    args.extend(["fetch", "--prune", "--quiet", "--"].map(OsString::from));
    args.push(remote.as_arg().to_owned());
    args.push("+refs/*:refs/*".into());
    run(args, Some(dir), remote.protocol(), timeout)
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
