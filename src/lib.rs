//! gitpulse: a self-hosted GitHub activity tracker and integration backend.
//!
//! `app(state)` builds the HTTP router; `launch(state, listener, shutdown)` serves it
//! (with the background work) on a listener the caller bound, so tests use port 0.

pub mod account;
pub mod auth;
pub mod backups;
pub mod charts;
pub mod cli;
pub mod client;
pub mod commit_batch;
pub mod config;
pub mod crypto;
pub mod daily_stats;
pub mod data;
pub mod db;
pub mod error;
pub mod event_gaps;
pub mod event_stats;
pub mod git;
pub mod github;
pub mod http;
pub mod integration;
pub mod jobs;
pub mod json_number;
pub mod metrics;
mod server;
pub mod star_history;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod token_key;

pub use http::app;
pub use server::{StartupError, launch, shutdown_signal, start};
pub use state::AppState;
