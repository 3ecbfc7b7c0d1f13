//! HTTP tests: each starts a real server on port 0 over a fresh database on the local
//! PostgreSQL (`TEST_DATABASE_URL` overrides where) and talks to it like a client would.

mod accounts;
mod api_keys;
mod auth;
mod backups;
mod cli;
mod client;
mod config_example;
mod daily_stats;
mod data_api;
mod errors;
mod git_safety;
mod github_client;
mod integration;
mod offline;
mod openapi;
mod ops;
mod poller;
mod rate_limit;
mod repositories;
mod security;
mod sign_in_flow;
mod support;
mod sync;
