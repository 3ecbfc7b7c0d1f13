//! "Sign in with GitHub": the OAuth web flow that signs people in (creating an account on
//! first login) or links a signed-in user's GitHub account, and stores the integration.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{MaybeAuthUser, redirect};
use crate::error::{AppError, AppResult, ErrorBody, GITHUB_RETRY_AFTER_SECS};
use crate::github::GitHubError;
use crate::github::oauth::{self, ExchangeError};
use crate::github::users::{self as gh, Profile};
use crate::http::extract::{Json, Query};
use crate::state::AppState;
use crate::store::audit::{self, AuditEntry};
use crate::store::integrations::{self, NewIntegration};
use crate::store::oauth_states::{self, Pending, StateProblem};
use crate::store::users::{self, User};

/// How long a login started at `/auth/github/login` may take.
const STATE_TTL_SECS: i64 = 600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(github_login))
        .routes(routes!(github_callback))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeUrl {
    /// Send the browser here; GitHub comes back to `/auth/github/callback`.
    pub authorize_url: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct LoginParams {
    /// A front end's page to send the browser back to after the callback, with the outcome
    /// in the fragment (`#access_token=…&token_type=bearer&expires_in=…` or
    /// `#error=…&error_description=…`). Its origin must be in `FRONTEND_URLS` (default: the
    /// CORS origins). Without it the callback answers JSON.
    #[param(nullable = false, example = "http://localhost:5173/after-login")]
    pub redirect_to: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct CallbackParams {
    /// The authorization code GitHub appended (needed unless `error` is set).
    #[param(nullable = false)]
    pub code: Option<String>,
    /// The `state` issued by `/auth/github/login` (needed unless `error` is set).
    #[param(nullable = false)]
    pub state: Option<String>,
    /// Set by GitHub when the person declined (e.g. `access_denied`); answered with 400.
    #[param(nullable = false)]
    pub error: Option<String>,
    #[param(nullable = false)]
    pub error_description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackResponse {
    #[schema(example = "GitHub integration successful")]
    pub message: &'static str,
    #[schema(example = "connected")]
    pub status: &'static str,
    /// The GitHub profile (`GET /user`).
    #[schema(value_type = Object)]
    pub user: Value,
    /// A gitpulse access token for the signed-in (or linking) user.
    pub access_token: String,
    #[schema(example = "bearer")]
    pub token_type: &'static str,
}

fn unconfigured() -> AppError {
    AppError::Unavailable(
        "Sign in with GitHub is not configured on this server (set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET)"
            .into(),
    )
}

/// Start "Sign in with GitHub" (or link GitHub to the signed-in caller).
///
/// Redirects (307) to GitHub's authorize page; with `Accept: application/json` it answers
/// the URL instead. A bearer token is optional: with one, the GitHub account is linked to
/// that user; without, the callback signs the person in. With `redirect_to` the callback
/// ends in a 302 back to that page instead of answering JSON.
#[utoipa::path(get, path = "/auth/github/login", tag = "auth", security((), ("bearer" = [])),
    params(LoginParams),
    responses(
        (status = 307, description = "Redirect to GitHub's authorize page"),
        (status = 200, description = "The authorize URL (with Accept: application/json)", body = AuthorizeUrl),
        (status = 400, description = "`redirect_to` is not an absolute URL, has a fragment, or its origin is not in FRONTEND_URLS", body = ErrorBody),
        (status = 401, description = "A bearer token was sent but is invalid or expired", body = ErrorBody),
        (status = 503, description = "The OAuth app is not configured, or the database is unavailable (GitHub is not asked: the redirect is answered even when GitHub is unreachable)", body = ErrorBody),
    ))]
async fn github_login(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    Query(params): Query<LoginParams>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (client_id, _) = oauth::credentials(&state.config).ok_or_else(unconfigured)?;
    let redirect_to = match params.redirect_to.as_deref() {
        Some(url) => Some(
            redirect::check(url, &state.config.frontend_origins())
                .map_err(AppError::bad_request)?
                .to_string(),
        ),
        None => None,
    };
    let pending = Pending {
        user_id: caller.map(|c| c.user_id),
        redirect_to,
    };
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let oauth_state = URL_SAFE_NO_PAD.encode(bytes);
    oauth_states::create(&state.db, &hash(&oauth_state), &pending, STATE_TTL_SECS).await?;
    let url =
        oauth::authorize_url(&state.config, client_id, &oauth_state).map_err(AppError::internal)?;
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return Ok(Json(AuthorizeUrl { authorize_url: url }).into_response());
    }
    Ok((StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, url)]).into_response())
}

/// GitHub's redirect back: checks `state`, exchanges `code`, stores the integration and
/// starts its first sync in the background. A login started with `redirect_to` ends in a
/// 302 to that page with the outcome in the fragment.
#[utoipa::path(get, path = "/auth/github/callback", tag = "auth", params(CallbackParams),
    responses(
        (status = 200, description = "Signed in (or linked); the first sync runs in the background", body = CallbackResponse),
        (status = 302, description = "The login was started with `redirect_to`: back to it with `#access_token=…&token_type=bearer&expires_in=…` or `#error=…&error_description=…`"),
        (status = 400, description = "Missing, unknown, used or expired state; refused code; GitHub account linked to someone else", body = ErrorBody),
        (status = 503, description = "The OAuth app is not configured; or GitHub is unavailable or unreachable, and the sign-in must start again at /auth/github/login (with `Retry-After`); or the database is unavailable", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    ))]
async fn github_callback(
    State(state): State<AppState>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let mut back_to = None;
    let outcome = complete(&state, &params, &mut back_to).await;
    // Checked again: the allow-list may have changed since the login started.
    let back_to =
        back_to.filter(|url| redirect::check(url, &state.config.frontend_origins()).is_ok());
    let Some(back_to) = back_to else {
        return match outcome {
            Ok(done) => Json(done).into_response(),
            Err(e) => e.into_response(),
        };
    };
    let location = match outcome {
        Ok(done) => redirect::with_token(&back_to, &done.access_token, state.jwt.lifetime_secs()),
        Err(e) => {
            let error = match (&e, params.error.as_deref()) {
                (_, Some(github_error)) => github_error.to_string(),
                (AppError::BadRequest(_), None) => "invalid_request".into(),
                (e, None) if e.status() == StatusCode::SERVICE_UNAVAILABLE => {
                    "temporarily_unavailable".into()
                }
                _ => "server_error".into(),
            };
            redirect::with_error(&back_to, &error, &e.client_message())
        }
    };
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::REFERRER_POLICY, "no-referrer".to_string()),
        ],
    )
        .into_response()
}

/// The callback's work; `back_to` learns the login's `redirect_to` as soon as the state is
/// known, so that failures after that point go back to the front end too.
async fn complete(
    state: &AppState,
    params: &CallbackParams,
    back_to: &mut Option<String>,
) -> AppResult<CallbackResponse> {
    oauth::credentials(&state.config).ok_or_else(unconfigured)?;
    let oauth_state = params.state.as_deref().filter(|s| !s.is_empty());
    if let Some(error) = params.error.as_deref() {
        // The person declined: the state is spent, and its front end hears why.
        if let Some(oauth_state) = oauth_state {
            *back_to = match oauth_states::consume(&state.db, &hash(oauth_state)).await? {
                Ok(pending) => pending.redirect_to,
                Err((_, redirect_to)) => redirect_to,
            };
        }
        let description = params.error_description.as_deref().unwrap_or("no details");
        return Err(AppError::bad_request(format!(
            "GitHub did not authorize gitpulse ({error}): {description}"
        )));
    }
    let oauth_state = oauth_state.ok_or_else(|| restart("Missing OAuth state"))?;
    let code = params.code.as_deref().filter(|c| !c.is_empty());
    let remembered = match oauth_states::consume(&state.db, &hash(oauth_state)).await? {
        Ok(pending) => {
            *back_to = pending.redirect_to;
            pending.user_id
        }
        Err((problem, redirect_to)) => {
            *back_to = redirect_to;
            return Err(restart(match problem {
                StateProblem::Unknown => "Unknown OAuth state",
                StateProblem::Used => "This OAuth state was already used",
                StateProblem::Expired => "This OAuth state has expired",
            }));
        }
    };
    let code = code.ok_or_else(|| AppError::bad_request("Missing required fields: code"))?;

    let grant = oauth::exchange_code(&state.config, code)
        .await
        .map_err(|e| match e {
            ExchangeError::Refused { .. } => restart(&e.to_string()),
            ExchangeError::Unavailable(detail) => {
                tracing::warn!(%detail, "GitHub's OAuth token exchange failed");
                AppError::Busy {
                    message: "GitHub is unavailable, so the sign-in could not finish; \
                        try again later from /auth/github/login"
                        .into(),
                    retry_after_secs: GITHUB_RETRY_AFTER_SECS,
                }
            }
        })?;
    let profile = github_profile(state, &grant.access_token).await?;
    let (github_id, github_login) = match profile.identity() {
        Some((id, login)) => (id, login.to_string()),
        None => {
            return Err(AppError::Unavailable(
                "GitHub's profile answer has no id or login".into(),
            ));
        }
    };

    let user = match remembered {
        Some(user_id) => link(state, user_id, github_id, &github_login).await?,
        None => sign_in(state, github_id, &github_login).await?,
    };
    let ciphertext = state.token_cipher.encrypt(&grant.access_token);
    let integration = integrations::upsert(
        &state.db,
        &NewIntegration {
            user_id: user.id,
            github_id,
            github_login: &github_login,
            profile: &profile.0,
            token_ciphertext: &ciphertext,
            scope: grant.scope.as_deref(),
        },
    )
    .await?;
    let entry = AuditEntry::new(
        user.id,
        "integration.connected",
        "github_integration",
        integration.id,
    )
    .details(serde_json::json!({"github_login": github_login}));
    audit::record(&state.db, &entry).await?;
    tracing::info!(user_id = user.id, github_id, "GitHub integration connected");
    if let Some(sync) = crate::integration::claim(state, integration.id, false).await? {
        sync.spawn();
    }
    let access_token = state.jwt.issue(user.id).map_err(AppError::internal)?;
    Ok(CallbackResponse {
        message: "GitHub integration successful",
        status: "connected",
        user: profile.0,
        access_token,
        token_type: "bearer",
    })
}

fn restart(problem: &str) -> AppError {
    AppError::bad_request(format!("{problem}; start again at /auth/github/login"))
}

fn hash(oauth_state: &str) -> Vec<u8> {
    Sha256::digest(oauth_state.as_bytes()).to_vec()
}

/// `GET /user` with the new token.
async fn github_profile(state: &AppState, token: &str) -> AppResult<Profile> {
    gh::authenticated_user(&state.github, token)
        .await
        .map_err(|e| match e {
            GitHubError::Status { status: 401, .. } => {
                restart("GitHub did not accept the new token")
            }
            other => AppError::github_unavailable("Could not read the GitHub profile: ", &other),
        })
}

/// Links the GitHub account to the user who started the flow.
async fn link(state: &AppState, user_id: i64, github_id: i64, login: &str) -> AppResult<User> {
    let user = users::find(&state.db, user_id)
        .await?
        .ok_or_else(|| restart("The account that started this login no longer exists"))?;
    if !users::link_github(&state.db, user.id, github_id, login).await? {
        return Err(AppError::bad_request(
            "This GitHub account is already linked to another gitpulse user",
        ));
    }
    Ok(user)
}

/// Logs in the user linked to the GitHub account, creating one on first login.
async fn sign_in(state: &AppState, github_id: i64, login: &str) -> AppResult<User> {
    if let Some(user) = users::find_by_github_id(&state.db, github_id).await? {
        users::link_github(&state.db, user.id, github_id, login).await?;
        return Ok(user);
    }
    let base = username_base(login);
    for attempt in 1..=20u32 {
        let candidate = match attempt {
            1 => base.clone(),
            20 => format!("{base}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            n => format!("{base}-{n}"),
        };
        if let Some(user) =
            users::create_for_github(&state.db, &candidate, github_id, login).await?
        {
            tracing::info!(user_id = user.id, "created a user on first GitHub sign-in");
            return Ok(user);
        }
        // Either the name is taken, or a concurrent sign-in of the same account won.
        if let Some(user) = users::find_by_github_id(&state.db, github_id).await? {
            return Ok(user);
        }
    }
    Err(AppError::internal(
        "could not find a free username for a GitHub sign-in",
    ))
}

/// A valid gitpulse username from a GitHub login (3–50 of `[A-Za-z0-9_.-]`).
fn username_base(login: &str) -> String {
    let mut name: String = login
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(50)
        .collect();
    if name.is_empty() {
        name = "github-user".into();
    }
    while name.len() < 3 {
        name.push_str("-gh");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::username_base;

    #[test]
    fn usernames_from_logins() {
        assert_eq!(username_base("octocat"), "octocat");
        assert_eq!(username_base("x"), "x-gh");
        assert_eq!(username_base("ü"), "github-user");
        assert_eq!(username_base(&"a".repeat(60)).len(), 50);
    }
}
