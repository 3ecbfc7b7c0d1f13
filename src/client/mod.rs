//! `gitpulse client`: the push client. It reads local git history and sends the commits
//! the server does not have yet, so the server never needs credentials for the repos.
//!
//! The library functions ([`init`], [`test_connection`], [`sync`]) do the work and
//! return what happened; [`run`] is the command line around them.

mod api;
pub mod config;
mod sync;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use serde::Deserialize;

pub use config::ClientConfig;
pub use sync::{RepoReport, SyncOptions, sync};

/// What went wrong, as one line. `Config` problems exit with 2, the rest with 1.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Failed(String),
    /// The server refused a request body as too large (413); a smaller batch may pass.
    #[error("{0}")]
    TooLarge(String),
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Write a commented repos.yaml (never overwrites an existing file).
    Init,
    /// Check the server URL and the API key, and that every configured repository exists.
    Test,
    /// Send every local commit the server does not have yet, oldest first.
    Sync {
        /// Show what would be sent without sending anything.
        #[arg(long)]
        dry_run: bool,
        /// Resend the whole history (the server skips what it has) instead of resuming
        /// after the server's last ingested commit.
        #[arg(long)]
        full: bool,
    },
}

/// The config file used when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "repos.yaml";

pub async fn run(command: ClientCommand, config: Option<&Path>) -> ExitCode {
    let path = config.map_or_else(|| PathBuf::from(DEFAULT_CONFIG), Path::to_path_buf);
    let result = match command {
        ClientCommand::Init => init(&path).map(|()| {
            println!(
                "Wrote {}; fill in api_url, the API key and your repositories.",
                path.display()
            );
        }),
        ClientCommand::Test => test_and_print(&path).await,
        ClientCommand::Sync { dry_run, full } => sync_and_print(&path, dry_run, full).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gitpulse client: error: {e}");
            ExitCode::from(match e {
                ClientError::Config(_) => 2,
                ClientError::Failed(_) | ClientError::TooLarge(_) => 1,
            })
        }
    }
}

/// Writes the commented template to `path`, refusing to overwrite anything.
pub fn init(path: &Path) -> Result<(), ClientError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => ClientError::Config(format!(
                "{} already exists; not overwriting it",
                path.display()
            )),
            _ => ClientError::Config(format!("cannot create {}: {e}", path.display())),
        })?;
    std::io::Write::write_all(&mut file, config::TEMPLATE.as_bytes())
        .map_err(|e| ClientError::Config(format!("cannot write {}: {e}", path.display())))
}

/// The server's answer to "who am I".
#[derive(Debug, Clone, Deserialize)]
pub struct Identity {
    pub user_id: i64,
    pub username: String,
    pub auth_method: String,
    pub api_key_prefix: Option<String>,
    pub api_key_name: Option<String>,
    pub scopes: Vec<String>,
}

/// One configured repository as the server sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct RemoteStatus {
    pub repo_id: i64,
    pub status: String,
    pub last_sync_at: Option<String>,
    pub last_ingested_sha: Option<String>,
    pub total_commits: i64,
    pub error_message: Option<String>,
}

pub(crate) fn api_for(
    config: &ClientConfig,
    backoff_base: Duration,
) -> Result<api::Api, ClientError> {
    api::Api::new(
        &config.api_url,
        config.api_key(),
        config.max_retries,
        backoff_base,
    )
}

pub(crate) fn status_path(project_id: i64, repo_id: i64) -> String {
    format!("/api/v1/sync/projects/{project_id}/repos/{repo_id}/status")
}

/// Checks the URL and key (`GET /api/v1/whoami`) and that each configured repository
/// exists on the server; returns who the key belongs to and each repository's status.
pub async fn test_connection(
    config: &ClientConfig,
) -> Result<(Identity, Vec<(i64, Result<RemoteStatus, ClientError>)>), ClientError> {
    let api = api_for(config, Duration::from_millis(500))?;
    let identity: Identity = api.get("/api/v1/whoami").await?;
    let mut repos = Vec::new();
    for project in &config.projects {
        for repo in &project.repos {
            let status = match sync::check_local_path(&repo.path) {
                Ok(()) => {
                    api.get(&status_path(project.project_id, repo.repo_id))
                        .await
                }
                Err(e) => Err(e),
            };
            repos.push((repo.repo_id, status));
        }
    }
    Ok((identity, repos))
}

async fn test_and_print(path: &Path) -> Result<(), ClientError> {
    let config = ClientConfig::load(path)?;
    let (me, repos) = test_connection(&config).await?;
    let key = match (&me.api_key_prefix, &me.api_key_name) {
        (Some(prefix), Some(name)) => format!("API key {prefix} ({name})"),
        _ => me.auth_method.clone(),
    };
    println!(
        "Connected to {} as {} (user {}) with {key}; scopes: {}",
        config.api_url,
        me.username,
        me.user_id,
        me.scopes.join(", ")
    );
    if !me.scopes.iter().any(|s| s == "sync:commits") {
        return Err(ClientError::Failed(
            "the API key lacks the sync:commits scope, so it cannot push commits".into(),
        ));
    }
    let mut failed = 0;
    for (repo_id, status) in repos {
        match status {
            Ok(s) => println!(
                "repo {repo_id}: {} ({} commits stored)",
                s.status, s.total_commits
            ),
            Err(e) => {
                failed += 1;
                println!("repo {repo_id}: {e}");
            }
        }
    }
    if failed > 0 {
        return Err(ClientError::Failed(format!(
            "{failed} configured repositories cannot be reached on the server"
        )));
    }
    Ok(())
}

async fn sync_and_print(path: &Path, dry_run: bool, full: bool) -> Result<(), ClientError> {
    let config = ClientConfig::load(path)?;
    let options = SyncOptions {
        dry_run,
        full,
        progress: std::io::stderr().is_terminal(),
        ..SyncOptions::default()
    };
    let reports = sync(&config, &options).await;
    let mut failures = Vec::new();
    for report in &reports {
        match &report.error {
            None if dry_run => println!(
                "repo {} ({}): would send {} commits",
                report.repo_id,
                report.path.display(),
                report.pending
            ),
            None => println!(
                "repo {} ({}): sent {} commits, {} new, {} already stored",
                report.repo_id,
                report.path.display(),
                report.sent,
                report.inserted,
                report.skipped
            ),
            Some(e) => failures.push(format!("repo {}: {e}", report.repo_id)),
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    Err(ClientError::Failed(format!(
        "{} of {} repositories failed to sync; rerun to resume. {}",
        failures.len(),
        reports.len(),
        failures.join("; ")
    )))
}
