//! SQL, one module per entity. Handlers and jobs call these; nothing else writes SQL.

pub mod api_keys;
pub mod audit;
pub mod commits;
pub mod projects;
pub mod settings;
pub mod users;
