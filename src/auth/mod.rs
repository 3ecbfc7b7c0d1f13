//! Who is calling: password hashing, JWTs and the `AuthUser` extractor.

mod extractor;
pub mod jwt;
pub mod password;

pub use extractor::{AuthUser, bearer_token};
pub use jwt::JwtKeys;
