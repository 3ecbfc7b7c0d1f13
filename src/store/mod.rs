//! SQL, one module per entity. Handlers and jobs call these; nothing else writes SQL.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod backups;
pub mod chart_links;
pub mod commit_stream;
pub mod commits;
pub mod copy;
pub mod daily_stats;
pub mod documents;
pub mod event_gaps;
pub mod events;
pub mod github_usage;
pub mod integrations;
pub mod known_commits;
pub mod oauth_states;
pub mod polling;
pub mod projects;
pub mod pull_sync;
pub mod repositories;
pub mod settings;
pub mod star_history;
pub mod sync_health;
pub mod users;
