//! Who is calling: password hashing, JWTs, API keys and the `AuthUser` extractor.

pub mod api_key;
mod extractor;
pub mod jwt;
pub mod password;
pub mod policy;
pub mod redirect;

pub use api_key::{ApiKeyAuth, Scope, Scopes};
pub use extractor::{AuthMethod, AuthUser, ClientIp, MaybeAuthUser, bearer_token};
pub use jwt::JwtKeys;
