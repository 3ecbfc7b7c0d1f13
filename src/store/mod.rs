//! SQL, one module per entity. Handlers and jobs call these; nothing else writes SQL.

pub mod settings;
pub mod users;
