//! `AuthUser`: the authenticated caller of a route, from `Authorization: Bearer <token>`.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub user_id: i64,
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(|| {
            AppError::Unauthorized(
                "Missing bearer token: send Authorization: Bearer <token>".into(),
            )
        })?;
        let user_id = state
            .jwt
            .verify(token)
            .map_err(|_| AppError::Unauthorized("Invalid or expired token".into()))?;
        Ok(AuthUser { user_id })
    }
}
