//! HTTP tests: each starts a real server on port 0 over a fresh database on the local
//! PostgreSQL (`TEST_DATABASE_URL` overrides where) and talks to it like a client would.

mod api_keys;
mod auth;
mod cli;
mod client;
mod config_example;
mod errors;
mod fake_github;
mod ops;
mod rate_limit;
mod support;
mod sync;
