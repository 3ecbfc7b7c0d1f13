//! Who may call which route: the one table to audit.
//!
//! Every route of the API is listed here with what it needs. The [`AuthUser`] extractor
//! looks the matched route up in this table and refuses a caller that lacks the right, so
//! a handler cannot forget a check; a route that takes an `AuthUser` but is missing from
//! the table is refused for everyone (and a test walks the OpenAPI document to make sure
//! the table and the routes agree).
//!
//! - `Public`: no credentials (the webhook proves itself with its signature).
//! - `Authenticated`: any valid login token (JWT) or API key.
//! - `Session`: a login token only; an API key gets 403 saying a login token is needed.
//! - `Scope(s)`: a login token, or an API key with scope `s`.
//! - `AnyScope([..])`: a login token, or an API key with one of these scopes.
//!
//! [`AuthUser`]: crate::auth::AuthUser

use axum::http::Method;

use crate::auth::api_key::Scope;

/// What a route needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Anonymous, or a login token (never an API key): "Sign in with GitHub" links the
    /// GitHub account to the caller when a token is given.
    PublicOrSession,
    Authenticated,
    Session,
    Scope(Scope),
    AnyScope(&'static [Scope]),
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct RoutePolicy {
    pub method: &'static str,
    /// The route template exactly as the router knows it (`/v1/users/{id}`).
    pub path: &'static str,
    pub access: Access,
}

const fn route(method: &'static str, path: &'static str, access: Access) -> RoutePolicy {
    RoutePolicy {
        method,
        path,
        access,
    }
}

use Access::{AnyScope, Authenticated, Public, PublicOrSession, Session};
const READ_TRACKING: Access = Access::Scope(Scope::ReadTracking);
const WRITE_TRACKING: Access = Access::Scope(Scope::WriteTracking);
const READ_DATA: Access = Access::Scope(Scope::ReadData);
const ADMIN_INTEGRATION: Access = Access::Scope(Scope::AdminIntegration);
const READ_BACKUPS: Access = Access::Scope(Scope::ReadBackups);
const READ_REPOS: Access = Access::Scope(Scope::ReadRepos);
const SYNC_COMMITS: Access = Access::Scope(Scope::SyncCommits);
/// Any read scope: the answer holds only what the key's scopes read.
const READ_ANY: Access = AnyScope(&[
    Scope::ReadTracking,
    Scope::ReadData,
    Scope::ReadRepos,
    Scope::ReadBackups,
]);

/// Every route of the API and what it needs.
pub const ROUTES: &[RoutePolicy] = &[
    // Accounts and sessions.
    route("POST", "/auth/register", Public),
    route("POST", "/auth/login", Public),
    route("GET", "/auth/me", Authenticated),
    route("DELETE", "/auth/me", Session),
    route("GET", "/auth/github/login", PublicOrSession),
    route("GET", "/auth/github/callback", Public),
    // API keys and the audit trail: managing credentials needs a login.
    route("POST", "/api/v1/api-keys/", Session),
    route("GET", "/api/v1/api-keys/", Session),
    route("DELETE", "/api/v1/api-keys/{id}", Session),
    route("GET", "/api/v1/whoami", Authenticated),
    route("GET", "/api/v1/audit-logs", Session),
    // Tracked repositories, their event statistics and history.
    route("POST", "/repositories", WRITE_TRACKING),
    route("POST", "/repository", WRITE_TRACKING),
    route("DELETE", "/repositories", WRITE_TRACKING),
    route("DELETE", "/repository", WRITE_TRACKING),
    route("DELETE", "/repositories/{owner}/{name}", WRITE_TRACKING),
    route("GET", "/repositories", READ_TRACKING),
    route("GET", "/repository/stats", READ_TRACKING),
    route("GET", "/repository/all/stats", READ_TRACKING),
    route("GET", "/repositories/{owner}/{name}/history", READ_TRACKING),
    // Charts and badges of tracked repositories. Share links publish a chart beyond the
    // request that made them (and beyond an API key's revocation), so managing them needs a
    // login; the shared route is public: its unguessable token is the credential.
    route("GET", "/charts/stars.svg", READ_TRACKING),
    route("GET", "/charts/events.svg", READ_TRACKING),
    route("GET", "/badges/stars.svg", READ_TRACKING),
    route("POST", "/charts/links", Session),
    route("GET", "/charts/links", Session),
    route("DELETE", "/charts/links/{id}", Session),
    route("GET", "/charts/shared/{token}", Public),
    // Tracked GitHub accounts and their daily statistics.
    route("PUT", "/v1/users", WRITE_TRACKING),
    route("DELETE", "/v1/users/{id}", WRITE_TRACKING),
    route("GET", "/v1/users", READ_TRACKING),
    route("GET", "/v1/users/{id}", READ_TRACKING),
    route("GET", "/v1/users/{id}/stats", READ_TRACKING),
    // Projects and pushed commits.
    route("POST", "/api/v1/projects", Session),
    route("GET", "/api/v1/projects", READ_REPOS),
    route("POST", "/api/v1/projects/{pid}/repos", Session),
    route("GET", "/api/v1/projects/{pid}/repos", READ_REPOS),
    route("PATCH", "/api/v1/repos/{rid}", Session),
    route(
        "POST",
        "/api/v1/sync/projects/{pid}/repos/{rid}/commits",
        SYNC_COMMITS,
    ),
    route(
        "GET",
        "/api/v1/sync/projects/{pid}/repos/{rid}/status",
        AnyScope(&[Scope::ReadRepos, Scope::SyncCommits]),
    ),
    // The GitHub integration and its synced data.
    route("GET", "/integration/status", READ_DATA),
    route("POST", "/integration/resync", ADMIN_INTEGRATION),
    route("POST", "/integration/remove", ADMIN_INTEGRATION),
    route("GET", "/data/{collection}", READ_DATA),
    route("GET", "/search", READ_DATA),
    // Backups: registering makes the server clone, so it needs a login.
    route("POST", "/backup/repositoryClone/", Session),
    route("POST", "/backup/repositoryClone", Session),
    route(
        "POST",
        "/backup/repositories/{company_id}/{repository_name}/rotate-secret",
        Session,
    ),
    route("GET", "/get-repository-reports/{company_id}/", READ_BACKUPS),
    route("GET", "/get-repository-reports/{company_id}", READ_BACKUPS),
    route(
        "GET",
        "/get-respository-reports/{company_id}/",
        READ_BACKUPS,
    ),
    route("GET", "/get-respository-reports/{company_id}", READ_BACKUPS),
    route("GET", "/get-backup-reports/{company_id}/", READ_BACKUPS),
    route("GET", "/get-backup-reports/{company_id}", READ_BACKUPS),
    route("GET", "/backup/archives/{backup_id}", READ_BACKUPS),
    route("POST", "/backup/{company_id}/{repository_name}/", Public),
    route("POST", "/backup/{company_id}/{repository_name}", Public),
    // Operations.
    route("GET", "/sync/health", READ_ANY),
    route("GET", "/github/budget", READ_TRACKING),
    route("GET", "/healthz", Public),
    route("GET", "/health", Public),
    route("GET", "/readyz", Public),
    route("GET", "/metrics", Public),
    // The dashboard's files (it calls the API above with the signed-in user's token).
    route("GET", "/", Public),
    route("GET", "/assets/{file}", Public),
];

/// What the route `path` (a template) needs for `method`; `None` if it is not listed.
pub fn access_for(method: &Method, path: &str) -> Option<Access> {
    ROUTES
        .iter()
        .find(|r| r.path == path && r.method == method.as_str())
        .map(|r| r.access)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_listed_once() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {} is listed twice",
                    a.method,
                    a.path
                );
            }
        }
        assert_eq!(
            access_for(&Method::POST, "/api/v1/api-keys/"),
            Some(Session)
        );
        assert_eq!(access_for(&Method::GET, "/nowhere"), None);
    }
}
