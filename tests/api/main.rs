//! HTTP tests: each starts a real server on port 0 over a fresh database on the local
//! PostgreSQL (`TEST_DATABASE_URL` overrides where) and talks to it like a client would.

mod accounts;
mod api_keys;
mod auth;
mod backups;
mod browser;
mod charts;
mod cli;
mod client;
mod compatibility;
mod config_example;
mod daily_stats;
mod dashboard;
mod data_api;
mod data_api_fast_paths;
mod data_dir;
mod errors;
mod git_safety;
mod github_client;
mod integration;
mod oauth_redirect;
mod offline;
mod openapi;
mod ops;
mod poller;
mod rate_limit;
mod repositories;
mod rotate_key;
mod security;
mod sign_in_flow;
mod star_history;
mod support;
mod sync;
mod token_key;
