//! SQL, one module per entity. Handlers and jobs call these; nothing else writes SQL.

pub mod documents;
pub mod events;
pub mod integrations;
pub mod oauth_states;
pub mod polling;
pub mod repositories;
pub mod settings;
pub mod users;
