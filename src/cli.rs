//! Command line: `gitpulse [serve]`, `gitpulse migrate`, `gitpulse rotate-key`,
//! `gitpulse client init|test|sync`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db;

#[derive(Debug, Parser)]
#[command(
    name = "gitpulse",
    version,
    about = "Self-hosted GitHub activity tracker and integration backend"
)]
pub struct Cli {
    /// TOML settings file (default: $GITPULSE_CONFIG, else ./config.toml if present);
    /// for `client`, the client's YAML file (default: ./repos.yaml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API and run the background work (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Re-encrypt every stored GitHub token with a new token encryption key (stop every
    /// gitpulse server first).
    RotateKey(crate::token_key::rotate::RotateKeyArgs),
    /// The push client: send local git history to a gitpulse server. Its settings are a
    /// YAML file: --config PATH, default ./repos.yaml (`gitpulse client init` writes one).
    #[command(subcommand)]
    Client(crate::client::ClientCommand),
}

/// Exit code for bad settings or an unreachable database.
const EXIT_SETUP: u8 = 2;

pub async fn run(cli: Cli) -> ExitCode {
    if let Some(Command::Client(command)) = cli.command {
        return crate::client::run(command, cli.config.as_deref()).await;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    crate::telemetry::init(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::server::serve(config).await,
        Command::Migrate => migrate(&config).await,
        Command::RotateKey(args) => {
            let new_key = std::env::var("NEW_TOKEN_ENCRYPTION_KEY").ok();
            return match crate::token_key::rotate::run(&config, &args, new_key).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            };
        }
        Command::Client(_) => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

async fn migrate(config: &Config) -> Result<(), crate::StartupError> {
    let pool = db::connect(config.database_url.expose(), 2).await?;
    db::migrate(&pool).await?;
    pool.close().await;
    tracing::info!("migrations applied");
    Ok(())
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("gitpulse: error: {error}");
    ExitCode::from(EXIT_SETUP)
}
