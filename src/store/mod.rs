//! SQL, one module per entity. Handlers and jobs call these; nothing else writes SQL.

pub mod accounts;
pub mod backups;
pub mod daily_stats;
pub mod events;
pub mod polling;
pub mod repositories;
pub mod settings;
pub mod users;
