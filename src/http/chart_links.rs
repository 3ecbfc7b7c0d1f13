//! Share links of charts and badges: create, list, revoke (`/charts/links`).
//!
//! Managing links needs a login token: a link is a public URL that outlives the request
//! that made it, so an API key (even one with `read:tracking`) could otherwise turn its
//! read access into a permanent one that survives the key's revocation.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{AuthUser, ClientIp};
use crate::charts::links::{self, Link};
use crate::charts::params::ChartKind;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{Json, Path, require_fields};
use crate::state::AppState;
use crate::store::audit::{self, AuditEntry};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_link, list_links))
        .routes(routes!(revoke_link))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewChartLink {
    /// `stars`, `events` or `badge`.
    #[schema(value_type = String, required = true, pattern = "^(stars|events|badge)$", example = "stars")]
    pub chart: Option<String>,
    /// The chart's query parameters (the same names, string values), e.g.
    /// `{"repos": "octocat/Hello-World", "theme": "dark"}`.
    #[schema(required = true, example = json!({"repos": "octocat/Hello-World", "scale": "log"}))]
    pub params: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChartLinkView {
    pub id: i64,
    pub chart: ChartKind,
    pub params: BTreeMap<String, String>,
    /// The public URL of the chart: embed it, e.g. `![stars](url)`. Anyone with it can see
    /// the chart until the link is revoked.
    #[schema(example = "https://gitpulse.example.com/charts/shared/12_9f86d0...")]
    pub url: String,
    pub created_at: DateTime<Utc>,
}

impl From<Link> for ChartLinkView {
    fn from(link: Link) -> Self {
        Self {
            id: link.id,
            chart: link.chart,
            params: link.params,
            url: link.url,
            created_at: link.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChartLinkList {
    pub links: Vec<ChartLinkView>,
}

/// Share a chart or badge: an unguessable public URL that renders it without a token.
#[utoipa::path(post, path = "/charts/links", tag = "charts", request_body = NewChartLink,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ChartLinkView),
        (status = 400, description = "Missing or bad chart or parameter (the message names it), or too many links", body = ErrorBody),
        (status = 403, description = "Called with an API key", body = ErrorBody),
        (status = 404, description = "A repository that is not in your list", body = ErrorBody),
    ))]
async fn create_link(
    State(state): State<AppState>,
    auth: AuthUser,
    ClientIp(ip): ClientIp,
    Json(body): Json<NewChartLink>,
) -> AppResult<(StatusCode, Json<ChartLinkView>)> {
    require_fields(&[("chart", body.chart.as_deref())])?;
    let chart_name = body.chart.as_deref().unwrap_or_default().trim();
    let chart = ChartKind::parse(chart_name)
        .ok_or_else(|| AppError::bad_request("Invalid chart: use stars, events or badge"))?;
    let params = body
        .params
        .ok_or_else(|| AppError::bad_request("Missing required fields: params"))?;
    let public_url = state.config.public_url();
    let link = links::create(&state.db, &public_url, auth.user_id, chart, params).await?;
    let entry = AuditEntry::new(auth.user_id, "chart_link.created", "chart_link", link.id)
        .details(json!({"chart": chart.as_str(), "params": &link.params}))
        .ip(ip.as_deref());
    audit::record(&state.db, &entry).await?;
    Ok((StatusCode::CREATED, Json(link.into())))
}

/// Your share links, with their URLs.
#[utoipa::path(get, path = "/charts/links", tag = "charts", security(("bearer" = [])),
    responses(
        (status = 200, body = ChartLinkList),
        (status = 403, description = "Called with an API key", body = ErrorBody),
    ))]
async fn list_links(
    State(state): State<AppState>,
    auth: AuthUser,
) -> AppResult<Json<ChartLinkList>> {
    let public_url = state.config.public_url();
    let links = links::list(&state.db, &public_url, auth.user_id).await?;
    Ok(Json(ChartLinkList {
        links: links.into_iter().map(ChartLinkView::from).collect(),
    }))
}

/// Revoke a share link: its URL answers 404 from now on.
#[utoipa::path(delete, path = "/charts/links/{id}", tag = "charts",
    params(("id" = i64, Path, description = "Link id", minimum = 1)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Called with an API key", body = ErrorBody),
        (status = 404, description = "No such link of yours", body = ErrorBody),
    ))]
async fn revoke_link(
    State(state): State<AppState>,
    auth: AuthUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    links::revoke(&state.db, auth.user_id, id).await?;
    let entry =
        AuditEntry::new(auth.user_id, "chart_link.revoked", "chart_link", id).ip(ip.as_deref());
    audit::record(&state.db, &entry).await?;
    Ok(StatusCode::NO_CONTENT)
}
