//! The data API's vocabulary: the synced collections and the MongoDB-style filter language,
//! parsed and validated here before `store::documents` turns it into bound SQL.

pub mod cursor;
pub mod filter;

pub use filter::{CompareOp, FieldPath, Filter, FilterError, parse_filter, parse_path};

/// The collections a GitHub integration syncs, in the order they are reported.
pub const COLLECTIONS: [&str; 7] = [
    "github_organizations",
    "github_users",
    "github_repos",
    "github_commits",
    "github_pulls",
    "github_issues",
    "github_changelogs",
];

/// `name` if it is one of [`COLLECTIONS`].
pub fn collection(name: &str) -> Option<&'static str> {
    COLLECTIONS.iter().copied().find(|c| *c == name)
}
