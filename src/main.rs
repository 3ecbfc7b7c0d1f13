use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    gitpulse::cli::run(gitpulse::cli::Cli::parse()).await
}
