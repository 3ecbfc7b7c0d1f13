//! The one place gitpulse talks to GitHub: timeouts, pacing, token rotation, rate-limit
//! handling, retries, ETags and `Link` pagination live here; callers ask for a path and
//! get a response or a `GitHubError` that says what to do next.

mod client;
pub mod events;
pub mod graphql;
pub mod integration;
mod link;
pub mod oauth;
mod page;
pub mod repos;
mod response;
mod tokens;
pub mod users;

pub use client::{GitHubClient, RetryPolicy};
pub use link::next_link;
pub use page::{NextPage, Page};
pub use response::{GitHubError, GitHubRequest, GitHubResponse};
