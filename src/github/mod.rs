//! The one place gitpulse talks to GitHub. `client` paces, authenticates, retries and reads
//! rate limits; one function per endpoint turns it into typed answers, so callers never
//! build a GitHub path or decode GitHub JSON:
//!
//! - `events`: `repo_events`, `next_events` (the poller);
//! - `repos`: `repository` (lookup), `repository_counts` (daily statistics, conditional),
//!   `star_count` (the anchor of the star history);
//! - `star_history`: `stargazer_history`, `next_stargazer_history` (stars gained per week);
//! - `users`: `user`, `user_repos` (every page), `authenticated_user` (`GET /user`);
//! - `integration`: the lists an integration sync reads (`IntegrationList`);
//! - `graphql`: batched repository counts; `oauth`: the web flow and the code exchange.
//!
//! Lists come back as [`Page`]s; failures as a [`GitHubError`] that says what to do next
//! (`From<GitHubError> for AppError` in `crate::error` answers it over the API).

mod client;
pub mod events;
pub mod graphql;
pub mod integration;
mod link;
pub mod oauth;
mod page;
pub mod repos;
mod response;
pub mod star_history;
mod tokens;
mod usage;
pub mod users;

pub use client::{GitHubClient, RetryPolicy};
pub use link::next_link;
pub use page::{NextPage, Page};
pub use response::{GitHubError, GitHubRequest, GitHubResponse};
pub use tokens::{TokenQuota, fingerprint};
pub use usage::{TokenUsage, UsageCount};
