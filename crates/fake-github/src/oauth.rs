//! The fake's OAuth web flow: the authorize step and the code-for-token exchange.
//!
//! By default `GET /login/oauth/authorize` is a stand-in page (a test hands out codes with
//! [`FakeGitHub::add_oauth_code`] and calls the callback itself). With
//! [`FakeGitHub::set_authorize_as`] the fake plays a person who is signed in to GitHub and
//! approves every app at once: it answers `302` to `redirect_uri?code=<fresh code>&state=<state>`,
//! so a browser (or `curl -L`) completes the whole flow.
//!
//! ```text
//! gh.set_authorize_as("octocat");            // the authorize step approves as octocat
//! gh.add_oauth_code("code123", "octocat");   // or: one code, exchangeable once
//! ```

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::http::{Req, error_json};
use super::state::State;
use crate::server::FakeGitHub;

type St = AxumState<std::sync::Arc<State>>;

const AUTHORIZE_DOCS: &str =
    "https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps";

#[derive(Debug, Default)]
struct Inner {
    /// code → (login, used)
    codes: BTreeMap<String, (String, bool)>,
    /// token → login
    tokens: BTreeMap<String, String>,
    /// Who the authorize step approves as; `None`: the stand-in page.
    authorize_as: Option<String>,
    /// Tokens revoked on "GitHub": every request with one is answered 401 `Bad credentials`.
    revoked: std::collections::BTreeSet<String>,
}

/// Codes, tokens and the authorize setting, kept beside the core state.
#[derive(Debug, Default)]
pub(crate) struct OAuthData(Mutex<Inner>);

impl OAuthData {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0
            .lock()
            .expect("fake GitHub OAuth mutex poisoned (a panic happened while holding it)")
    }

    /// The login of a request's `Authorization: token|Bearer <token>`, if the token was issued.
    pub(crate) fn login_of(&self, headers: &HeaderMap) -> Option<String> {
        let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
        let (_, token) = value.split_once(' ')?;
        self.lock().tokens.get(token.trim()).cloned()
    }

    /// Whether a request's `Authorization` carries a revoked token.
    pub(crate) fn is_revoked(&self, headers: &HeaderMap) -> bool {
        bearer(headers).is_some_and(|token| self.lock().revoked.contains(&token))
    }

    /// Revokes `token` (an OAuth token or any polling token).
    pub(crate) fn revoke(&self, token: &str) {
        self.lock().revoked.insert(token.to_string());
    }

    /// Revokes every OAuth token issued to `login`; returns them.
    pub(crate) fn revoke_login(&self, login: &str) -> Vec<String> {
        let mut inner = self.lock();
        let tokens: Vec<String> = inner
            .tokens
            .iter()
            .filter(|(_, l)| l.eq_ignore_ascii_case(login))
            .map(|(t, _)| t.clone())
            .collect();
        inner.revoked.extend(tokens.iter().cloned());
        tokens
    }
}

/// The token of `Authorization: token|Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (_, token) = value.split_once(' ')?;
    Some(token.trim().to_string())
}

impl FakeGitHub {
    /// Makes `code` exchangeable once for a token of `login` (created if missing).
    pub fn add_oauth_code(&self, code: &str, login: &str) {
        self.ensure_user(login);
        self.state
            .oauth
            .lock()
            .codes
            .insert(code.to_string(), (login.to_string(), false));
    }

    /// From now on `GET /login/oauth/authorize` approves at once as `login` (created if
    /// missing): it redirects to `redirect_uri` with a fresh code for `login` and the `state`.
    pub fn set_authorize_as(&self, login: &str) {
        self.ensure_user(login);
        self.state.oauth.lock().authorize_as = Some(login.to_string());
    }
}

/// `GET /login/oauth/authorize?client_id=&redirect_uri=&state=`: the stand-in page, or
/// (with [`FakeGitHub::set_authorize_as`]) 302 back to `redirect_uri` with a fresh code.
pub(crate) async fn authorize(AxumState(state): St, req: Req) -> Response {
    let Some(login) = state.oauth.lock().authorize_as.clone() else {
        return (
            StatusCode::OK,
            [(CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><body>Fake GitHub: authorize gitpulse?</body></html>",
        )
            .into_response();
    };
    let param = |name: &str| req.param(name).filter(|v| !v.trim().is_empty());
    if param("client_id").is_none() {
        return error_json(
            StatusCode::BAD_REQUEST,
            "client_id is required",
            AUTHORIZE_DOCS,
        );
    }
    let Some(redirect_uri) = param("redirect_uri") else {
        return error_json(
            StatusCode::BAD_REQUEST,
            "redirect_uri is required",
            AUTHORIZE_DOCS,
        );
    };
    let is_http = redirect_uri.starts_with("http://") || redirect_uri.starts_with("https://");
    let code = uuid::Uuid::new_v4().simple().to_string()[..20].to_string();
    let mut target = format!(
        "{redirect_uri}{}code={code}",
        if redirect_uri.contains('?') { '&' } else { '?' }
    );
    if let Some(oauth_state) = req.param("state") {
        target.push_str("&state=");
        target.push_str(&percent_encode(oauth_state));
    }
    let location = HeaderValue::from_str(&target).ok().filter(|_| is_http);
    let Some(location) = location else {
        return error_json(
            StatusCode::BAD_REQUEST,
            "redirect_uri must be an absolute http(s) URL",
            AUTHORIZE_DOCS,
        );
    };
    state.oauth.lock().codes.insert(code, (login, false));
    (StatusCode::FOUND, [(LOCATION, location)]).into_response()
}

/// `%XX` for every byte outside RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `POST /login/oauth/access_token`: form or JSON body; answers JSON with
/// `Accept: application/json`, else form-encoded; refusals are 200 with `error`.
pub(crate) async fn access_token(AxumState(state): St, req: Req, body: Bytes) -> Response {
    let is_json = req
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let fields: BTreeMap<String, String> = if is_json {
        serde_json::from_slice::<BTreeMap<String, Value>>(&body)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
            .collect()
    } else {
        axum::extract::Query::<BTreeMap<String, String>>::try_from_uri(
            &format!("/?{}", String::from_utf8_lossy(&body))
                .parse()
                .unwrap_or_default(),
        )
        .map(|q| q.0)
        .unwrap_or_default()
    };
    let wants_json = req
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let field = |k: &str| fields.get(k).map(String::as_str).unwrap_or_default();
    let answer = if field("client_id").is_empty() || field("client_secret").is_empty() {
        json!({
            "error": "incorrect_client_credentials",
            "error_description": "The client_id and/or client_secret passed are incorrect.",
        })
    } else {
        let mut data = state.oauth.lock();
        match data.codes.get_mut(field("code")) {
            Some((login, used)) if !*used => {
                *used = true;
                let login = login.clone();
                let token = format!("gho_fake{}", uuid::Uuid::new_v4().simple());
                data.tokens.insert(token.clone(), login);
                json!({"access_token": token, "token_type": "bearer", "scope": "read:org,read:user,repo"})
            }
            _ => json!({
                "error": "bad_verification_code",
                "error_description": "The code passed is incorrect or expired.",
                "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code",
            }),
        }
    };
    if wants_json {
        return (StatusCode::OK, axum::Json(answer)).into_response();
    }
    let form: Vec<String> = answer
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default().replace(' ', "+")))
                .collect()
        })
        .unwrap_or_default();
    (
        StatusCode::OK,
        [(
            CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        form.join("&"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn states_are_percent_encoded() {
        assert_eq!(percent_encode("aZ0-._~"), "aZ0-._~");
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
