//! `repos.yaml`: where the server is, the API key, and which local repositories feed
//! which server repositories.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ClientError;

/// The environment variable read when the file has no `api_key`.
pub const API_KEY_ENV: &str = "GITPULSE_API_KEY";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub api_url: String,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    #[serde(default)]
    pub projects: Vec<ProjectConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    pub project_id: i64,
    #[serde(default)]
    pub repos: Vec<RepoConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    pub repo_id: i64,
    /// The local clone; `~` and paths relative to the config file are resolved.
    pub path: PathBuf,
    /// The branch to read (default: the checked-out `HEAD`).
    #[serde(default)]
    pub branch: Option<String>,
}

fn default_batch_size() -> usize {
    500
}

fn default_max_retries() -> u32 {
    5
}

impl ClientConfig {
    /// Reads and checks `path`; the API key comes from the file, else `GITPULSE_API_KEY`.
    pub fn load(path: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ClientError::Config(format!(
                "cannot read {}: {e} (create one with `gitpulse client init`)",
                path.display()
            ))
        })?;
        let mut config: ClientConfig = serde_yaml_ng::from_str(&text).map_err(|e| {
            ClientError::Config(format!("{}: {}", path.display(), one_line(&e.to_string())))
        })?;
        if config
            .api_key
            .as_deref()
            .is_none_or(|k| k.trim().is_empty())
        {
            config.api_key = std::env::var(API_KEY_ENV).ok();
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for project in &mut config.projects {
            for repo in &mut project.repos {
                repo.path = resolve(base, &repo.path);
            }
        }
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ClientError> {
        let fail = |m: String| Err(ClientError::Config(m));
        let url = self.api_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return fail(format!(
                "api_url must start with http:// or https://, got {url:?}"
            ));
        }
        let key = self.api_key.as_deref().map(str::trim).unwrap_or_default();
        if key.is_empty() {
            return fail(format!(
                "no API key: set api_key in the config file or {API_KEY_ENV}"
            ));
        }
        if crate::auth::api_key::prefix_of(key).is_none() {
            return fail("api_key is not a gitpulse API key (gp_XXXXXXXX_...)".into());
        }
        if !(1..=1000).contains(&self.batch_size) {
            return fail(format!(
                "batch_size must be 1 to 1000, got {}",
                self.batch_size
            ));
        }
        if self.max_retries > 20 {
            return fail(format!(
                "max_retries must be 0 to 20, got {}",
                self.max_retries
            ));
        }
        Ok(())
    }

    pub fn api_key(&self) -> &str {
        self.api_key.as_deref().map(str::trim).unwrap_or_default()
    }
}

fn resolve(base: &Path, path: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    if let Some(rest) = text.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The file `gitpulse client init` writes.
pub const TEMPLATE: &str = r#"# gitpulse push client configuration.
# Sync with:  gitpulse client sync --config repos.yaml
# Check with: gitpulse client test --config repos.yaml

# The gitpulse server.
api_url: http://127.0.0.1:8080

# An API key with the sync:commits scope (create one with POST /api/v1/api-keys/).
# Leave it out to read the key from the environment variable GITPULSE_API_KEY instead,
# which keeps the secret out of this file.
# api_key: gp_XXXXXXXX_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX

# Commits per request, 1 to 1000.
batch_size: 500

# Retries of a request that failed with 429, a 5xx answer or a network error
# (exponential backoff, honouring Retry-After).
max_retries: 5

# Which local clones feed which server repositories (ids from GET /api/v1/projects and
# GET /api/v1/projects/{id}/repos; the repositories must use sync_method push_client).
projects:
  - project_id: 1
    repos:
      - repo_id: 1
        # A local clone; ~ and paths relative to this file work.
        path: ~/code/my-repo
        # Optional: the branch to read (default: the checked-out HEAD).
        branch: main
"#;
