//! The HTTP API: every route group is a module with its own `router()`, merged here
//! together with the OpenAPI document and the middleware stack.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod chart_links;
pub mod charts;
pub mod dashboard;
pub mod data;
pub mod docs;
pub mod extract;
pub mod freshness;
pub mod github_oauth;
pub mod history;
pub mod integration;
mod middleware;
pub mod nul_guard;
pub mod ops;
pub mod projects;
pub mod rate_limit;
pub mod repositories;
pub mod sync;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::AppError;
use crate::state::AppState;

/// The body of a successful answer that only reports what happened.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Message {
    #[schema(example = "Repository was added")]
    pub message: String,
}

/// The whole application: API routes, operational routes, `/openapi.json` and `/docs`.
pub fn app(state: AppState) -> Router {
    let (api, api_doc) = api_routes().split_for_parts();
    let (ops, ops_doc) = unlimited_routes().split_for_parts();
    let openapi = docs::complete(api_doc, ops_doc);

    let router = Router::new()
        .merge(rate_limit::apply(
            api.layer(axum::middleware::from_fn_with_state(
                state.clone(),
                nul_guard::reject_nul,
            )),
            &state,
        ))
        .merge(ops)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    middleware::apply(router, &state).with_state(state)
}

/// The rate-limited API routes, with their OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(auth::router())
        .merge(repositories::router())
        .merge(backups::router())
        .merge(accounts::router())
        .merge(history::router())
        .merge(charts::router().merge(chart_links::router()))
        .merge(freshness::router())
        .merge(
            api_keys::router()
                .merge(projects::router())
                .merge(sync::router())
                .merge(audit::router()),
        )
        .merge(
            github_oauth::router()
                .merge(integration::router())
                .merge(data::router()),
        )
}

/// The routes outside the rate limits: operations, GitHub's webhook and the dashboard's
/// files.
fn unlimited_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(ops::router())
        .merge(backups::webhook_router())
        .merge(dashboard::router())
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    docs::complete(
        api_routes().into_openapi(),
        unlimited_routes().into_openapi(),
    )
}

async fn not_found() -> AppError {
    AppError::not_found("No such route; see /docs for the API")
}

async fn method_not_allowed() -> (
    axum::http::StatusCode,
    extract::Json<crate::error::ErrorBody>,
) {
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        extract::Json(crate::error::ErrorBody {
            message: "Method not allowed on this route; see /docs for the API".into(),
            errors: Vec::new(),
        }),
    )
}
