//! The URL policy: turns user input into a [`Remote`] git cannot misread (no option
//! injection, no `transport::address` helpers such as `ext::`, no credentials, only
//! allowed hosts), and checks the addresses a remote resolves to before git connects.

use std::ffi::{OsStr, OsString};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::GitError;
use super::address::address_problem;
use crate::config::Config;

/// Longest repository URL accepted.
const MAX_URL_LEN: usize = 2048;

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
        let addresses = remote.resolve().await?;
        remote.judge(&addresses)?;
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

    /// Why the addresses the host has now are refused, for a clear answer when a remote is
    /// saved without being contacted; `None` when they are allowed, or when the host cannot
    /// be resolved within `deadline` (every git operation checks again before it connects).
    pub async fn refusal_now(&self, deadline: std::time::Duration) -> Option<String> {
        let Self::Url(remote) = self else {
            return None;
        };
        let addresses = tokio::time::timeout(deadline, remote.resolve())
            .await
            .ok()?
            .ok()?;
        match remote.judge(&addresses) {
            Err(GitError::Refused(why)) => Some(why),
            _ => None,
        }
    }
}

impl UrlRemote {
    /// Every address the host has now (an IP literal is its own).
    async fn resolve(&self) -> Result<Vec<IpAddr>, GitError> {
        let addresses: Vec<IpAddr> = match &self.host {
            url::Host::Ipv4(ip) => vec![IpAddr::V4(*ip)],
            url::Host::Ipv6(ip) => vec![IpAddr::V6(*ip)],
            url::Host::Domain(name) => {
                let found = tokio::net::lookup_host((name.as_str(), self.port))
                    .await
                    .map_err(|_| {
                        GitError::Refused(format!("the host {} cannot be resolved", self.host))
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
                self.host
            )));
        }
        Ok(addresses)
    }

    /// Refuses local addresses (unless allowed) and plain `http://` to public ones.
    fn judge(&self, addresses: &[IpAddr]) -> Result<(), GitError> {
        for ip in addresses {
            let problem = address_problem(*ip);
            if let Some(kind) = problem
                && !self.allow_local
            {
                return Err(GitError::Refused(local_refusal(&self.host, *ip, kind)));
            }
            if problem.is_none() && self.plain_http {
                return Err(GitError::Refused(format!(
                    "the host {} resolves to a public address; plain http:// is only accepted for local remotes, use https://",
                    self.host
                )));
            }
        }
        Ok(())
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

#[cfg(test)]
#[path = "url_policy_tests.rs"]
mod tests;
