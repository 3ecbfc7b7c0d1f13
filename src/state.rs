//! What every handler and background task shares.

use std::sync::Arc;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{ApiKeyAuth, JwtKeys};
use crate::config::{Config, DataPaths};
use crate::crypto::TokenCipher;
use crate::event_stats::cache::StatsAnswers;
use crate::github::GitHubClient;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    /// Where files go (`DATA_DIR` and the paths derived from it).
    pub paths: Arc<DataPaths>,
    pub jwt: Arc<JwtKeys>,
    pub metrics: Arc<Metrics>,
    pub github: Arc<GitHubClient>,
    /// Verified API keys (cache) and their pending usage counts.
    pub api_keys: Arc<ApiKeyAuth>,
    /// Encrypts the OAuth tokens of GitHub integrations.
    pub token_cipher: Arc<TokenCipher>,
    /// Cancelled when the process shuts down; background loops watch it.
    pub shutdown: CancellationToken,
    /// Work a request leaves running in the background (integration syncs); `launch`
    /// waits for it on shutdown, as for the jobs.
    pub background: TaskTracker,
    /// Each user's last `/repository/all/stats` answer.
    pub stats_answers: Arc<StatsAnswers>,
    /// Wakes this process's backup worker when a webhook queues a backup.
    pub backup_wakeup: Arc<tokio::sync::Notify>,
    /// Permits for git network operations (`GIT_MAX_CONCURRENCY`), shared by backup
    /// registrations, the backup worker and `pull` syncs.
    pub git_permits: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Builds the state over a migrated pool with the checked token key (`token_key::load`),
    /// loading or creating the shared JWT key.
    pub async fn new(
        config: Config,
        paths: DataPaths,
        db: PgPool,
        token_cipher: TokenCipher,
    ) -> Result<Self, StateError> {
        let secret = match &config.jwt_secret {
            Some(secret) => secret.expose().to_string(),
            None => {
                crate::store::settings::get_or_create(
                    &db,
                    "jwt_secret",
                    crate::crypto::random_secret,
                )
                .await?
            }
        };
        let jwt = JwtKeys::new(secret.as_bytes(), config.access_token_expire_minutes);
        let metrics = Arc::new(Metrics::default());
        let github = GitHubClient::new(&config, metrics.clone()).map_err(StateError::HttpClient)?;
        let git_permits = Arc::new(tokio::sync::Semaphore::new(config.git_max_concurrency));
        Ok(Self {
            git_permits,
            db,
            config: Arc::new(config),
            paths: Arc::new(paths),
            jwt: Arc::new(jwt),
            metrics,
            github: Arc::new(github),
            api_keys: Arc::new(ApiKeyAuth::default()),
            token_cipher: Arc::new(token_cipher),
            shutdown: CancellationToken::new(),
            background: TaskTracker::new(),
            backup_wakeup: Arc::default(),
            stats_answers: Arc::default(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot load settings from the database: {0}")]
    Settings(#[from] sqlx::Error),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(reqwest::Error),
}
