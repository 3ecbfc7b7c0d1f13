//! The OpenAPI document's frame: title, version, tags and the bearer security scheme.
//! Paths come from the `#[utoipa::path]` annotations of each route module.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gitpulse",
        description = "Self-hosted GitHub activity tracker and integration backend. \
            Authenticate with `Authorization: Bearer <token>` (a JWT from /auth/login or /auth/register, or an API key `gp_...`). \
            Every error answers `{\"message\": ...}`.",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and access tokens"),
        (name = "repositories", description = "Tracked repositories and their event statistics"),
        (name = "accounts", description = "Tracked GitHub accounts and daily repository statistics"),
        (name = "integration", description = "The caller's GitHub integration: status, resync, removal"),
        (name = "data", description = "Query and search the caller's synced GitHub data"),
        (name = "ops", description = "Health, readiness and metrics"),
        (name = "backups", description = "Repository backups triggered by GitHub push webhooks"),
        (name = "api-keys", description = "API keys (Bearer gp_...), who am I, and the audit log"),
        (name = "projects", description = "Projects and repositories whose commits are pushed or pulled"),
        (name = "sync", description = "Pushed commits and repository sync status"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
