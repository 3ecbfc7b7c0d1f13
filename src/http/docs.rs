//! The OpenAPI document's frame: title, version, tags and the bearer security scheme, and
//! the one place that documents the error answers every route shares ([`StandardErrors`]).
//! Paths come from the `#[utoipa::path]` annotations of each route module.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::RefOr;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};

use crate::auth::Scope;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gitpulse",
        description = "Self-hosted GitHub activity tracker and integration backend. \
            Authenticate with `Authorization: Bearer <token>` (a JWT from /auth/login or /auth/register, or an API key `gp_...`). \
            Every error answers `{\"message\": ...}`.",
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::ErrorBody, crate::error::FieldError)),
    tags(
        (name = "auth", description = "Accounts and access tokens"),
        (name = "repositories", description = "Tracked repositories and their event statistics"),
        (name = "accounts", description = "Tracked GitHub accounts and daily repository statistics"),
        (name = "charts", description = "Charts and badges as SVG, and share links that show them without a token"),
        (name = "integration", description = "The caller's GitHub integration: status, resync, removal"),
        (name = "data", description = "Query and search the caller's synced GitHub data"),
        (name = "ops", description = "Health, readiness and metrics"),
        (name = "backups", description = "Repository backups triggered by GitHub push webhooks"),
        (name = "api-keys", description = "API keys (Bearer gp_...), who am I, and the audit log"),
        (name = "projects", description = "Projects and repositories whose commits are pushed or pulled"),
        (name = "sync", description = "Pushed commits and repository sync status"),
        (name = "freshness", description = "Whether every sync keeps up (`/sync/health`) and the GitHub budget of the polling tokens (`/github/budget`)"),
        (name = "dashboard", description = "The web dashboard's page and files (a client of this API)"),
    )
)]
pub struct ApiDoc;

/// The whole document: the rate-limited API routes and the routes outside the rate limits
/// (operations and GitHub's webhook), each completed by [`StandardErrors`].
pub fn complete(
    mut api: utoipa::openapi::OpenApi,
    mut unlimited: utoipa::openapi::OpenApi,
) -> utoipa::openapi::OpenApi {
    StandardErrors { rate_limited: true }.modify(&mut api);
    StandardErrors {
        rate_limited: false,
    }
    .modify(&mut unlimited);
    api.merge(unlimited);
    api
}

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

/// Operations that answer without the database (everything else may answer 503 when it is
/// down: the error type turns pool time-outs and lost connections into 503).
const WITHOUT_DATABASE: [(&str, &str); 5] = [
    ("get", "/healthz"),
    ("get", "/health"),
    ("get", "/metrics"),
    ("get", "/"),
    ("get", "/assets/{file}"),
];

/// Adds the error answers the server's shared layers give, with the `ErrorBody` schema,
/// to every operation that does not describe them itself:
///
/// - 401 (with `WWW-Authenticate`) and 403 where `security` names `bearer`: a missing,
///   invalid or expired token, or an API key without the needed scope (or on a route that
///   needs a user session);
/// - 400 where there are parameters or a body (malformed JSON, wrong content type,
///   unparsable parameters, failed validation);
/// - 413 where there is a body (`MAX_BODY_BYTES`);
/// - 429 (with `Retry-After`) on the rate-limited routes;
/// - 503 where the database is needed.
pub struct StandardErrors {
    pub rate_limited: bool,
}

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation.as_mut() else {
                    continue;
                };
                let secured = operation
                    .security
                    .as_ref()
                    .is_some_and(|s| s.contains(&bearer));
                let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_body = operation.request_body.is_some();
                let needs_database = !WITHOUT_DATABASE.contains(&(method, path.as_str()));
                if has_params || has_body {
                    add(operation, "400", bad_request());
                }
                if secured {
                    add(operation, "401", unauthorized());
                    add(operation, "403", forbidden());
                }
                if has_body {
                    add(operation, "413", error("The request body is too large"));
                }
                if self.rate_limited {
                    add(operation, "429", too_many_requests());
                }
                if needs_database {
                    add(
                        operation,
                        "503",
                        error(
                            "The database (or another service it needs) is unavailable; try again shortly",
                        ),
                    );
                }
            }
        }
    }
}

fn add(operation: &mut Operation, status: &str, response: utoipa::openapi::Response) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(response));
}

fn error_builder(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "ErrorBody",
            ))))
            .build(),
    )
}

fn error(description: &str) -> utoipa::openapi::Response {
    error_builder(description).build()
}

fn bad_request() -> utoipa::openapi::Response {
    error(
        "Invalid input: malformed JSON, a wrong content type, a parameter that does not parse, or a field that fails validation",
    )
}

fn unauthorized() -> utoipa::openapi::Response {
    error_builder("Missing, invalid or expired credentials")
        .header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("`Bearer realm=\"gitpulse\"`"))
                .build(),
        )
        .build()
}

fn forbidden() -> utoipa::openapi::Response {
    error(
        "The credentials are valid but lack the right: an API key without the scope this operation needs, or an API key where a user session is needed",
    )
}

fn too_many_requests() -> utoipa::openapi::Response {
    error_builder("Rate limited; retry after the number of seconds in `Retry-After`")
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some("Seconds to wait"))
                .build(),
        )
        .build()
}

/// The schema of `CreateKey.scopes`: absent or null (every scope), a comma-separated
/// string (blank pieces are ignored, pieces are trimmed, as the server does), or a
/// non-empty array of scope names, naming at least one scope of [`Scope::ALL`].
pub fn scopes_schema() -> Schema {
    let names = Scope::ALL
        .iter()
        .map(|s| regex_escape(s.as_str()))
        .collect::<Vec<_>>()
        .join("|");
    let space = "[ \\t\\r\\n]*";
    let list = format!("^({space},)*{space}({names}){space}(,{space}(({names}){space})?)*$");
    let named = format!("^{space}({names}){space}$");
    let description = format!(
        "One or more of {}, as a comma-separated string or an array; default (absent or null): all scopes.",
        Scope::ALL
            .iter()
            .map(|s| format!("`{}`", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(list)),
        )
        .item(
            ArrayBuilder::new()
                .items(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(named)),
                )
                .min_items(Some(1)),
        )
        .description(Some(description))
        .build()
        .into()
}

/// `sync_method` of a repository: `push_client` or `pull` (surrounding blanks ignored).
pub fn sync_method_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["push_client", "pull"]))
        .build()
        .into()
}

/// [`sync_method_schema`], or null or absent for the default `push_client`.
pub fn optional_sync_method_schema() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(sync_method_schema())
        .build()
        .into()
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = !c.is_ascii_alphanumeric() && c != '_' && c != ':' && c != '-';
            escape.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_are_escaped_for_patterns() {
        assert_eq!(regex_escape("sync:commits"), "sync:commits");
        assert_eq!(regex_escape("a.b"), "a\\.b");
    }
}
