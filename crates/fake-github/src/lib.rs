//! A fake GitHub REST API server for integration tests, demos and benchmarks.
//!
//! It serves the endpoints gitpulse calls with GitHub's own payload shapes (see
//! `fixtures/README.md`), GitHub's headers (`ETag`, `Link`, `X-Poll-Interval`,
//! `x-ratelimit-*`), conditional requests (`If-None-Match` -> 304, not charged), the
//! 300-event window of repository timelines, primary rate limits, and injectable faults.
//!
//! Typical use in a test (the path depends on where the module is mounted):
//!
//! ```text
//! let gh = FakeGitHub::start().await;
//! gh.add_repo("octocat", "Hello-World");
//! gh.fail_next("/repos/octocat", Fault::Status(502));
//! let api_url = gh.url(); // GITHUB_API_URL and GITHUB_WEB_URL
//! ```
//!
//! Layout: `server.rs` is the running fake (`FakeGitHub`), `types.rs` the values tests hand
//! it (`FakeEvent`, `Fault`, `RecordedRequest`); `state.rs` holds the data and the seeding operations, `fixtures.rs` renders JSON,
//! `http.rs` has the shared helpers (ETag/304, pagination + `Link`, errors), `layer.rs` the
//! middleware (faults, rate limits in `budget.rs`, request log in `log.rs`) and `routes.rs` the
//! router and handlers. Beside them: `integration.rs` (what "Sign in with GitHub" syncs),
//! `oauth.rs` (the OAuth web flow), `upstream.rs` (changes "on GitHub": closed, deleted,
//! renamed, revoked; per-token request counts), `graphql.rs`, `star_history.rs` (weekly star gains) and
//! `demo.rs` (the demo world of the standalone binary).

mod budget;
mod demo;
mod fixtures;
mod graphql;
mod http;
mod integration;
mod layer;
mod log;
mod oauth;
mod routes;
mod server;
mod star_history;
mod state;
mod types;
mod upstream;

pub use demo::{DEMO_LOGIN, DemoRepo};
pub use server::FakeGitHub;
pub use types::{FakeEvent, Fault, RecordedRequest};
