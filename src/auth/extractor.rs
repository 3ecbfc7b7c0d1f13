//! `AuthUser`: the authenticated and authorized caller of a route, from
//! `Authorization: Bearer <token>` where the token is a JWT (a user session, every scope)
//! or an API key (its scopes). What each route needs is the table in `auth::policy`;
//! extracting an `AuthUser` checks it, so a handler that has one is allowed to run.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath};
use axum::http::{header, request::Parts};

use crate::auth::api_key::{self, Scope, Scopes};
use crate::auth::policy::{self, Access};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::users;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub user_id: i64,
    /// How the caller authenticated.
    pub method: AuthMethod,
    /// What the caller may do: everything for a JWT, the key's scopes for an API key.
    pub scopes: Scopes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Jwt,
    ApiKey { key_id: i64 },
}

impl AuthUser {
    /// A JWT session (full rights) for `user_id`.
    pub fn session(user_id: i64) -> Self {
        Self {
            user_id,
            method: AuthMethod::Jwt,
            scopes: Scopes::all(),
        }
    }

    /// 403 unless the caller has `scope`.
    pub fn require_scope(&self, scope: Scope) -> AppResult<()> {
        self.require_any_scope(&[scope])
    }

    /// 403 unless the caller has at least one of `scopes`.
    pub fn require_any_scope(&self, scopes: &[Scope]) -> AppResult<()> {
        if scopes.iter().any(|s| self.scopes.contains(*s)) {
            return Ok(());
        }
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        Err(AppError::Forbidden(format!(
            "This API key lacks the required scope: {}",
            names.join(" or ")
        )))
    }

    /// 403 for API keys: managing keys, projects and repositories needs a user session.
    pub fn require_session(&self) -> AppResult<()> {
        match self.method {
            AuthMethod::Jwt => Ok(()),
            AuthMethod::ApiKey { .. } => Err(AppError::Forbidden(
                "This action needs a login token (a JWT from /auth/login); API keys cannot do it"
                    .into(),
            )),
        }
    }

    /// Whether the caller may do what `access` asks for (403 if not).
    pub fn authorize(&self, access: Access) -> AppResult<()> {
        match access {
            Access::Public | Access::Authenticated => Ok(()),
            Access::PublicOrSession | Access::Session => self.require_session(),
            Access::Scope(scope) => self.require_scope(scope),
            Access::AnyScope(scopes) => self.require_any_scope(scopes),
        }
    }
}

/// The caller of a route that also serves anonymous callers: `None` without an
/// `Authorization` header, else an authenticated and authorized [`AuthUser`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The peer address of the request, when the server knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientIp(pub Option<String>);

impl ClientIp {
    fn of(parts: &Parts) -> Self {
        ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string()),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The route's rule first: a route missing from the table is refused to everyone.
        let access = route_access(parts)?;
        let user = authenticate(parts, state).await?;
        user.authorize(access)?;
        Ok(user)
    }
}

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(MaybeAuthUser(None));
        }
        AuthUser::from_request_parts(parts, state)
            .await
            .map(|user| MaybeAuthUser(Some(user)))
    }
}

/// The access rule of the matched route, from `auth::policy::ROUTES`.
fn route_access(parts: &Parts) -> AppResult<Access> {
    let path = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .ok_or_else(|| AppError::internal("an authenticated route has no matched path"))?;
    policy::access_for(&parts.method, path).ok_or_else(|| {
        AppError::internal(format!(
            "route {} {path} has no entry in auth::policy::ROUTES",
            parts.method
        ))
    })
}

/// Who the bearer token belongs to: 401 when it is missing, invalid, expired, revoked, or
/// its user no longer exists (checked on every request, so a deletion on any replica
/// stops the user's tokens at once).
async fn authenticate(parts: &Parts, state: &AppState) -> AppResult<AuthUser> {
    let token = bearer_token(&parts.headers).ok_or_else(|| {
        AppError::Unauthorized("Missing bearer token: send Authorization: Bearer <token>".into())
    })?;
    if api_key::looks_like_api_key(token) {
        // A key is deleted with its user, so its checks cover a deleted account too.
        let ClientIp(ip) = ClientIp::of(parts);
        let key = state.api_keys.authenticate(&state.db, token, ip).await?;
        return Ok(AuthUser {
            user_id: key.user_id,
            method: AuthMethod::ApiKey { key_id: key.key_id },
            scopes: key.scopes,
        });
    }
    let user_id = state
        .jwt
        .verify(token)
        .map_err(|_| AppError::Unauthorized("Invalid or expired token".into()))?;
    if !users::exists(&state.db, user_id).await? {
        return Err(AppError::Unauthorized(
            "The account of this token no longer exists".into(),
        ));
    }
    Ok(AuthUser::session(user_id))
}
