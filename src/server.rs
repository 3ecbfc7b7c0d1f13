//! Starting and stopping the server process.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::{Config, DataPaths};
use crate::db::{self, DbError};
use crate::state::AppState;

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A reason the server could not start, printed as one line (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    TokenKey(#[from] crate::token_key::KeyCheckError),
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        addr: SocketAddr,
        reason: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Connects to (and creates, and migrates) the database, then checks the token key and
/// builds the state.
pub async fn start(config: Config) -> Result<AppState, StartupError> {
    let paths = config.data_paths()?;
    let pool = connect(&config).await?;
    build(config, paths, pool).await
}

/// Connects to (and creates, and migrates) the database.
async fn connect(config: &Config) -> Result<sqlx::PgPool, StartupError> {
    let pool = db::connect(
        config.database_url.expose(),
        config.database_max_connections,
    )
    .await?;
    db::migrate(&pool).await?;
    Ok(pool)
}

/// The first step that may write files (the key file): every check comes before it.
async fn build(
    config: Config,
    paths: DataPaths,
    pool: sqlx::PgPool,
) -> Result<AppState, StartupError> {
    let cipher = crate::token_key::load(&pool, &paths.key).await?;
    Ok(AppState::new(config, paths, pool, cipher).await?)
}

/// Serves `state` on `listener` until `shutdown` completes, then gives in-flight requests
/// up to 30 seconds to finish, and background work (jobs, integration syncs) 30 more.
pub async fn launch(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let app = crate::app(state.clone());
    let jobs = crate::jobs::start(&state);
    let token = state.shutdown.clone();
    let stop = token.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections, finishing in-flight requests");
        stop.cancel();
    });
    tokio::select! {
        result = server => result.map_err(StartupError::Serve)?,
        () = async { token.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::warn!("in-flight requests did not finish within {SHUTDOWN_GRACE:?}; exiting");
        }
    }
    token.cancel();
    crate::jobs::stop(jobs, &state.background, SHUTDOWN_GRACE).await;
    state.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Binds `config.listen_addr` and serves until SIGINT or SIGTERM. A start that fails (bad
/// settings, no database, the port taken, the wrong key) writes no file: the port is bound
/// before the key file or any directory is created.
pub async fn serve(config: Config) -> Result<(), StartupError> {
    let addr = config.listen_addr;
    // Signals that arrive from here on stop the server gracefully.
    let shutdown = shutdown_signal();
    let paths = config.data_paths()?;
    let pool = connect(&config).await?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|reason| StartupError::Bind { addr, reason })?;
    let state = build(config, paths, pool).await?;
    let bound = listener
        .local_addr()
        .map_err(|reason| StartupError::Bind { addr, reason })?;
    tracing::info!(addr = %bound, public_url = %state.config.public_url(), "gitpulse is listening");
    launch(state, listener, shutdown).await
}

/// A future that completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed
/// when this is called, not when the future is first polled, so a signal that arrives
/// while the server is still starting is not lost (nor does it kill the process).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {},
                        _ = terminate.recv() => {},
                    }
                }
                _ => {
                    tracing::warn!("cannot install signal handlers; stop the server with SIGKILL");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
