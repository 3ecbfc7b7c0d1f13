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
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
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
    /// A normalised URL on an allowed host, without credentials.
    Url(UrlRemote),
    /// An absolute path on this machine.
    Local(PathBuf),
}

/// A remote reached over the network: `https://`, or `http://` for a local host when
/// the policy allows local remotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlRemote {
    url: String,
    host: url::Host<String>,
    port: u16,
    plain_http: bool,
    allow_local: bool,
}

impl UrlRemote {
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The host as written in URLs (`[::1]` for IPv6).
    pub fn host(&self) -> String {
        self.host.to_string()
    }
}

impl Remote {
    /// The positional argument handed to git (always after `--`).
    pub fn as_arg(&self) -> &OsStr {
        match self {
            Self::Url(remote) => OsStr::new(&remote.url),
            Self::Local(path) => path.as_os_str(),
        }
    }

    /// The value of `GIT_ALLOW_PROTOCOL` for talking to this remote.
    pub fn protocol(&self) -> &'static str {
        match self {
            Self::Url(remote) if remote.plain_http => "http",
            Self::Url(_) => "https",
            Self::Local(_) => "file",
        }
    }

    /// Resolves the host and checks every address it has now (see [`address_problem`]);
    /// returns the `-c http.curloptResolve=...` arguments that pin git to those addresses.
    /// Local paths need no check. Called right before every network operation.
    pub async fn check_addresses(&self) -> Result<Vec<OsString>, GitError> {
        let Self::Url(remote) = self else {
            return Ok(Vec::new());
        };
        let addresses: Vec<IpAddr> = match &remote.host {
            url::Host::Ipv4(ip) => vec![IpAddr::V4(*ip)],
            url::Host::Ipv6(ip) => vec![IpAddr::V6(*ip)],
            url::Host::Domain(name) => {
                let found = tokio::net::lookup_host((name.as_str(), remote.port))
                    .await
                    .map_err(|_| {
                        GitError::Refused(format!("the host {} cannot be resolved", remote.host))
                    })?;
                let mut ips: Vec<IpAddr> = found.map(|a: SocketAddr| a.ip()).collect();
                ips.sort();
                ips.dedup();
                ips
            }
        };
        if addresses.is_empty() {
            return Err(GitError::Refused(format!(
                "the host {} has no addresses",
                remote.host
            )));
        }
        for ip in &addresses {
            let problem = address_problem(*ip);
            if let Some(kind) = problem
                && !remote.allow_local
            {
                return Err(GitError::Refused(local_refusal(&remote.host, *ip, kind)));
            }
            if problem.is_none() && remote.plain_http {
                return Err(GitError::Refused(format!(
                    "the host {} resolves to a public address; plain http:// is only accepted for local remotes, use https://",
                    remote.host
                )));
            }
        }
        let url::Host::Domain(name) = &remote.host else {
            return Ok(Vec::new());
        };
        let pinned = addresses
            .iter()
            .map(|ip| match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            })
            .collect::<Vec<_>>()
            .join(",");
        Ok(vec![
            "-c".into(),
            format!("http.curloptResolve={name}:{}:{pinned}", remote.port).into(),
        ])
    }
}

/// Why an address is not a public unicast address, or `None` when it is one.
/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is judged as its IPv4 address.
pub fn address_problem(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => ipv4_problem(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => ipv4_problem(v4),
            None => ipv6_problem(v6),
        },
    }
}

fn ipv4_problem(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("a cloud metadata address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (CGNAT) address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("not a unicast address")
    } else {
        None
    }
}

fn ipv6_problem(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some("a cloud metadata address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private (unique local) address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("not a unicast address")
    } else {
        None
    }
}

fn local_refusal(host: &url::Host<String>, ip: IpAddr, kind: &str) -> String {
    let literal = !matches!(host, url::Host::Domain(_));
    if literal {
        format!("the host {host} is {kind}; set BACKUP_ALLOW_LOCAL=true to allow local remotes")
    } else {
        format!(
            "the host {host} resolves to {ip}, {kind}; set BACKUP_ALLOW_LOCAL=true to allow local remotes"
        )
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
    #[error("points at {0}")]
    LocalHost(String),
    #[error("must not contain credentials (user:password@)")]
    Credentials,
    #[error("must be an https:// URL (http:// only for local remotes)")]
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
        if is_transport_helper(raw) {
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
            "https" => self.network(url, false),
            "http" if self.allow_local => self.network(url, true),
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

    /// An `https://` (or, for local remotes, `http://`) URL: a literal address must be
    /// public unless local remotes are allowed, and the host must be on the allow-list.
    /// Names are resolved later, right before each git operation.
    fn network(&self, url: url::Url, plain_http: bool) -> Result<Remote, UrlError> {
        let host = url.host().ok_or(UrlError::Malformed)?.to_owned();
        let literal = match &host {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
            url::Host::Domain(_) => None,
        };
        if let Some(ip) = literal {
            match address_problem(ip) {
                Some(kind) if !self.allow_local => {
                    return Err(UrlError::LocalHost(format!(
                        "{host}, {kind}; set BACKUP_ALLOW_LOCAL=true to allow local remotes"
                    )));
                }
                None if plain_http => return Err(UrlError::NotHttps),
                _ => {}
            }
        }
        let name = host.to_string().to_ascii_lowercase();
        let allowed = self.allowed_hosts.iter().any(|h| {
            let h = h.trim();
            h.eq_ignore_ascii_case(&name)
                || h.trim_start_matches('[')
                    .trim_end_matches(']')
                    .eq_ignore_ascii_case(name.trim_start_matches('[').trim_end_matches(']'))
        });
        if !allowed {
            return Err(UrlError::HostNotAllowed {
                host: name,
                allowed: self.allowed_hosts.join(", "),
            });
        }
        let port = url.port_or_known_default().ok_or(UrlError::Malformed)?;
        Ok(Remote::Url(UrlRemote {
            url: url.to_string(),
            host,
            port,
            plain_http,
            allow_local: self.allow_local,
        }))
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

/// Whether `raw` uses git's `<transport>::<address>` syntax: scheme characters followed
/// by `::` (an IPv6 literal such as `https://[::1]/` is not that).
fn is_transport_helper(raw: &str) -> bool {
    let scheme_len = raw
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .unwrap_or(raw.len());
    raw[scheme_len..].starts_with("::")
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
        assert_eq!(remote.as_arg(), "https://github.com/octo/hello.git");
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
            ("fd::17:x", UrlError::TransportHelper),
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

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn addresses_are_classified() {
        for local in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fd00:ec2::254",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(address_problem(ip(local)).is_some(), "{local}");
        }
        for public in [
            "140.82.112.3",
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "2606:50c0:8000::153",
            "::ffff:140.82.112.3",
            "fec0::1",
        ] {
            assert_eq!(address_problem(ip(public)), None, "{public}");
        }
        assert_eq!(
            address_problem(ip("169.254.169.254")),
            Some("a cloud metadata address")
        );
        assert_eq!(
            address_problem(ip("fd00:ec2::254")),
            Some("a cloud metadata address")
        );
        assert_eq!(
            address_problem(ip("::ffff:127.0.0.1")),
            Some("a loopback address")
        );
    }

    #[test]
    fn ip_literals_name_the_real_reason() {
        let p = UrlPolicy {
            allowed_hosts: vec!["github.com".into()],
            allow_local: false,
        };
        let err = p.check("https://[::1]/x").expect_err("loopback");
        assert_eq!(
            err.to_string(),
            "points at [::1], a loopback address; set BACKUP_ALLOW_LOCAL=true to allow local remotes"
        );
        for (raw, kind) in [
            ("https://127.0.0.1/x", "loopback"),
            ("https://169.254.169.254/latest", "cloud metadata"),
            ("https://[fd00:ec2::254]/x", "cloud metadata"),
            ("https://[::ffff:10.0.0.1]/x", "private"),
            ("https://10.0.0.1:8443/x", "private"),
            ("https://100.64.1.1/x", "CGNAT"),
        ] {
            let err = p.check(raw).expect_err(raw).to_string();
            assert!(
                err.contains(kind) && err.contains("BACKUP_ALLOW_LOCAL"),
                "{raw}: {err}"
            );
        }
        // A public literal goes on to the allow-list.
        let err = p
            .check("https://[2606:50c0:8000::153]/x")
            .expect_err("not allowed");
        assert!(matches!(err, UrlError::HostNotAllowed { .. }), "{err}");
        // Allowed local: the allow-list still decides.
        let local = UrlPolicy {
            allowed_hosts: vec!["[::1]".into(), "127.0.0.1".into()],
            allow_local: true,
        };
        assert_eq!(
            local.check("https://[::1]/x").expect("allowed").as_arg(),
            "https://[::1]/x"
        );
        assert!(matches!(
            local.check("https://[::2]/x"),
            Err(UrlError::HostNotAllowed { .. })
        ));
        // http:// only for local remotes.
        assert_eq!(
            local
                .check("http://127.0.0.1:9/x")
                .expect("local http")
                .protocol(),
            "http"
        );
        assert_eq!(p.check("http://127.0.0.1:9/x"), Err(UrlError::NotHttps));
    }

    #[tokio::test]
    async fn resolved_addresses_are_checked_before_git_runs() {
        let strict = UrlPolicy {
            allowed_hosts: vec!["localhost".into()],
            allow_local: false,
        };
        let remote = strict
            .check("https://localhost/x.git")
            .expect("passes the names");
        let err = remote
            .check_addresses()
            .await
            .expect_err("resolves to loopback");
        let message = err.to_string();
        assert!(
            message.contains("localhost resolves to") && message.contains("loopback"),
            "{message}"
        );
        let dest = std::env::temp_dir().join(format!("gitpulse-never-{}", uuid::Uuid::new_v4()));
        let err = clone_mirror(&remote, &dest, Duration::from_secs(10))
            .await
            .expect_err("refused before git runs");
        assert!(matches!(err, GitError::Refused(_)), "{err}");
        assert!(!dest.exists());

        let allowed = UrlPolicy {
            allowed_hosts: vec!["localhost".into()],
            allow_local: true,
        };
        let pinned = allowed
            .check("http://localhost:9/x.git")
            .expect("local http")
            .check_addresses()
            .await
            .expect("local allowed");
        let pinned: Vec<String> = pinned.iter().map(|a| a.to_string_lossy().into()).collect();
        assert_eq!(pinned[0], "-c");
        assert!(
            pinned[1].starts_with("http.curloptResolve=localhost:9:"),
            "{pinned:?}"
        );
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
