//! Event statistics (seed 000), the whole feature: computing them from a repository's
//! newest events (`compute`), caching each repository's result in the database and each
//! user's whole answer in memory (`cache`), and the answers a user gets (`answers`).
//! The poller (`jobs::poller`) stores the events; the routes are in
//! `http::repositories`.

mod answers;
pub mod cache;
pub mod compute;

pub use answers::{AllStatistics, RepositoryStatistics, of_repository, of_user};
pub use compute::{
    EventPoint, Statistics, TypeStatistics, WINDOW_DAYS, WINDOW_MAX_EVENTS, compute,
};
