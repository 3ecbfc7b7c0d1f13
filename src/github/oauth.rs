//! GitHub's OAuth web flow: the authorize URL and the code-for-token exchange.
//!
//! The exchange talks to `GITHUB_WEB_URL` (not the API), is not rate limited like API calls,
//! and reports failures as status 200 with an `error` field, so it has its own small client.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use crate::config::Config;

/// The scopes gitpulse asks for: organizations, (private) repositories, the user profile.
pub const SCOPES: &str = "read:org repo read:user";

/// Client id and secret, when the OAuth app is configured.
pub fn credentials(config: &Config) -> Option<(&str, &str)> {
    let id = config
        .github_client_id
        .as_deref()
        .filter(|v| !v.is_empty())?;
    let secret = config
        .github_client_secret
        .as_ref()
        .map(|s| s.expose())
        .filter(|v| !v.is_empty())?;
    Some((id, secret))
}

/// Where GitHub sends the browser back: `{PUBLIC_URL}/auth/github/callback`.
pub fn redirect_uri(config: &Config) -> String {
    format!("{}/auth/github/callback", config.public_url())
}

/// `{GITHUB_WEB_URL}/login/oauth/authorize?client_id&redirect_uri&scope&state`.
pub fn authorize_url(config: &Config, client_id: &str, state: &str) -> Result<String, String> {
    let base = format!(
        "{}/login/oauth/authorize",
        config.github_web_url.trim_end_matches('/')
    );
    let url = Url::parse_with_params(
        &base,
        [
            ("client_id", client_id),
            ("redirect_uri", redirect_uri(config).as_str()),
            ("scope", SCOPES),
            ("state", state),
        ],
    )
    .map_err(|e| format!("invalid GITHUB_WEB_URL: {e}"))?;
    Ok(url.into())
}

/// A granted user token. `Debug` hides the token.
pub struct Grant {
    pub access_token: String,
    pub scope: Option<String>,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// GitHub refused the code (`bad_verification_code`, `incorrect_client_credentials`...).
    #[error("GitHub refused the authorization code ({error}): {description}")]
    Refused { error: String, description: String },
    #[error("GitHub's OAuth endpoint is unavailable: {0}")]
    Unavailable(String),
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    scope: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .user_agent(concat!("gitpulse/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap_or_default()
    })
}

/// `POST {GITHUB_WEB_URL}/login/oauth/access_token` with `Accept: application/json`.
pub async fn exchange_code(config: &Config, code: &str) -> Result<Grant, ExchangeError> {
    let Some((client_id, client_secret)) = credentials(config) else {
        return Err(ExchangeError::Unavailable(
            "the OAuth app is not configured".into(),
        ));
    };
    let url = format!(
        "{}/login/oauth/access_token",
        config.github_web_url.trim_end_matches('/')
    );
    let body = serde_json::json!({
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
        "redirect_uri": redirect_uri(config),
    });
    let response = http()
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .json(&body)
        .send()
        .await
        .map_err(|e| ExchangeError::Unavailable(e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(ExchangeError::Unavailable(format!(
            "GitHub answered {status}"
        )));
    }
    let answer: TokenAnswer = response.json().await.map_err(|e| {
        ExchangeError::Unavailable(format!("unreadable answer: {}", e.without_url()))
    })?;
    match (answer.access_token, answer.error) {
        (Some(token), None) if !token.is_empty() => Ok(Grant {
            access_token: token,
            scope: answer.scope,
        }),
        (_, error) => Err(ExchangeError::Refused {
            error: error.unwrap_or_else(|| "no_token".into()),
            description: answer
                .error_description
                .unwrap_or_else(|| "no access token in GitHub's answer".into()),
        }),
    }
}
