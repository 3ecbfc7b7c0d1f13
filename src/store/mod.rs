//! SQL, one module per entity. Handlers and jobs call these; nothing else writes SQL.

pub mod backups;
pub mod settings;
pub mod users;
