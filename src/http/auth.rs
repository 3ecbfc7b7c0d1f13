//! Registration, login and the caller's profile.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::account;
use crate::auth::{AuthUser, ClientIp, password};
use crate::error::{AppError, AppResult, ErrorBody, FieldError};
use crate::http::extract::{Json, require_fields};
use crate::state::AppState;
use crate::store::users;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(me, delete_me))
}

/// How the caller confirms deleting their account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteAccount {
    /// The account's password (accounts that have one).
    #[schema(example = "correct horse battery staple")]
    pub password: Option<String>,
    /// For an account made by "Sign in with GitHub" (no password): its GitHub login.
    #[schema(example = "octocat")]
    pub login: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDeleted {
    #[schema(example = "Account deleted")]
    pub message: String,
    pub removed: account::Removed,
}

/// A username and password. Registration enforces these limits; login answers the same
/// 400 for credentials that break them as for wrong ones.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    /// 3–64 letters, digits, `_`, `.` or `-` (surrounding blanks are ignored).
    #[schema(value_type = String, required = true, min_length = 3, max_length = 64,
        pattern = "^[A-Za-z0-9_.-]+$", example = "alice")]
    pub username: Option<String>,
    /// 8–1024 characters, not all blank.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 1024,
        pattern = "\\S", example = "correct horse battery staple")]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub id: i64,
    pub username: String,
    /// The GitHub account linked through "Sign in with GitHub", if any.
    pub github_login: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Create an account and receive an access token.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = Credentials,
    responses(
        (status = 200, description = "Registered", body = TokenResponse),
        (status = 400, description = "Missing or invalid fields, or the username is taken", body = ErrorBody),
    ))]
async fn register(
    State(state): State<AppState>,
    Json(body): Json<Credentials>,
) -> AppResult<Json<TokenResponse>> {
    let (username, password) = credentials(&body)?;
    validate_new_account(username, password)?;
    let hash = password::hash(password.to_string()).await?;
    let user = users::create(&state.db, username, &hash)
        .await?
        .ok_or_else(|| AppError::bad_request("Username is already taken"))?;
    tracing::info!(user_id = user.id, "registered a new user");
    issue_token(&state, user.id)
}

/// Exchange a username and password for an access token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = Credentials,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "Missing fields, or wrong username or password", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    Json(body): Json<Credentials>,
) -> AppResult<Json<TokenResponse>> {
    let (username, password) = credentials(&body)?;
    let user = users::find_by_username(&state.db, username).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = password::verify(password.to_string(), stored).await?;
    match user {
        Some(user) if ok => issue_token(&state, user.id),
        _ => Err(AppError::bad_request("Invalid username or password")),
    }
}

/// The caller's profile.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Profile),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    ))]
async fn me(State(state): State<AppState>, auth: AuthUser) -> AppResult<Json<Profile>> {
    let user = users::find(&state.db, auth.user_id)
        .await?
        .ok_or_else(|| AppError::Unauthorized("Invalid or expired token".into()))?;
    Ok(Json(Profile {
        id: user.id,
        username: user.username,
        github_login: user.github_login,
        created_at: user.created_at,
    }))
}

/// Delete the caller's account and everything that is only theirs.
///
/// Needs a login token and a confirmation: the password, or for an account made by
/// "Sign in with GitHub" its GitHub login. Removes tracked repositories and accounts,
/// API keys, the GitHub integration with its synced documents, projects with their
/// commits, and backup registrations with their archives on disk. Every token and key of
/// the account stops working at once. Shared data (repositories others track) stays.
#[utoipa::path(delete, path = "/auth/me", tag = "auth", request_body = DeleteAccount,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deleted", body = AccountDeleted),
        (status = 400, description = "Missing or wrong confirmation", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "An API key: deleting an account needs a login token", body = ErrorBody),
    ))]
async fn delete_me(
    State(state): State<AppState>,
    auth: AuthUser,
    ClientIp(ip): ClientIp,
    Json(body): Json<DeleteAccount>,
) -> AppResult<Json<AccountDeleted>> {
    let user = users::find(&state.db, auth.user_id).await?.ok_or_else(|| {
        AppError::Unauthorized("The account of this token no longer exists".into())
    })?;
    match &user.password_hash {
        Some(hash) => {
            require_fields(&[("password", body.password.as_deref())])?;
            let given = body.password.clone().unwrap_or_default();
            if !password::verify(given, Some(hash.clone())).await? {
                return Err(AppError::bad_request(
                    "The password is wrong; the account was not deleted",
                ));
            }
        }
        None => {
            require_fields(&[("login", body.login.as_deref())])?;
            let given = body.login.as_deref().unwrap_or_default().trim();
            let expected = user.github_login.as_deref().unwrap_or(&user.username);
            if !given.eq_ignore_ascii_case(expected) {
                return Err(AppError::bad_request(
                    "login does not match the account's GitHub login; the account was not deleted",
                ));
            }
        }
    }
    let removed = account::delete(&state.db, &state.paths.backups, user.id, ip.as_deref())
        .await?
        .ok_or_else(|| {
            AppError::Unauthorized("The account of this token no longer exists".into())
        })?;
    state.api_keys.forget_user(user.id);
    Ok(Json(AccountDeleted {
        message: "Account deleted".into(),
        removed,
    }))
}

fn credentials(body: &Credentials) -> AppResult<(&str, &str)> {
    require_fields(&[
        ("username", body.username.as_deref()),
        ("password", body.password.as_deref()),
    ])?;
    match (body.username.as_deref(), body.password.as_deref()) {
        (Some(u), Some(p)) => Ok((u.trim(), p)),
        _ => Err(AppError::internal(
            "required fields vanished after validation",
        )),
    }
}

fn validate_new_account(username: &str, password: &str) -> AppResult<()> {
    let mut errors = Vec::new();
    let username_ok = (3..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !username_ok {
        errors.push(FieldError {
            field: "username".into(),
            message: "must be 3 to 64 characters of letters, digits, '_', '.' or '-'".into(),
        });
    }
    if !(8..=1024).contains(&password.chars().count()) {
        errors.push(FieldError {
            field: "password".into(),
            message: "must be 8 to 1024 characters long".into(),
        });
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(AppError::invalid_fields(errors))
}

fn issue_token(state: &AppState, user_id: i64) -> AppResult<Json<TokenResponse>> {
    let access_token = state.jwt.issue(user_id).map_err(AppError::internal)?;
    Ok(Json(TokenResponse {
        access_token,
        token_type: "bearer",
        expires_in: state.jwt.lifetime_secs(),
    }))
}
