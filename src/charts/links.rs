//! Share links: an unguessable URL, `{PUBLIC_URL}/charts/shared/{id}_{secret}`, that
//! renders one chart or badge with its owner's access and no token, for READMEs and
//! wikis. The secret (256 random bits) is compared in constant time; a revoked, unknown
//! or altered link, or one whose repositories its owner no longer tracks, is a 404.
//! Tokens are never logged (the request span shows the route template for this path).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use subtle::ConstantTimeEq;

use super::params::{ChartKind, ChartRequest};
use crate::error::{AppError, AppResult};
use crate::store::chart_links;

/// Links one user may have at once.
pub const MAX_LINKS: i64 = 100;
/// The route that serves links; its path parameter is secret.
pub const SHARED_ROUTE: &str = "/charts/shared/{token}";

/// A link as its owner sees it.
#[derive(Debug, Clone)]
pub struct Link {
    pub id: i64,
    pub chart: ChartKind,
    pub params: BTreeMap<String, String>,
    pub url: String,
    pub created_at: DateTime<Utc>,
}

/// Checks the parameters as the chart's route would (400 naming the parameter), and
/// that the user tracks the repositories (404), then stores the link.
pub async fn create(
    db: &PgPool,
    public_url: &str,
    user_id: i64,
    chart: ChartKind,
    params: BTreeMap<String, String>,
) -> AppResult<Link> {
    let request = ChartRequest::from_link(chart, &params)?;
    super::tracked_repositories(db, user_id, &request).await?;
    let stored_params = serde_json::to_value(&params).map_err(AppError::internal)?;
    let secret = crate::crypto::random_secret();
    let link = chart_links::create(
        db,
        user_id,
        chart.as_str(),
        &stored_params,
        &secret,
        MAX_LINKS,
    )
    .await?
    .ok_or_else(|| {
        AppError::bad_request(format!(
            "You have {MAX_LINKS} share links, the most allowed; revoke one first"
        ))
    })?;
    view(public_url, link)
}

/// The user's links, with their URLs.
pub async fn list(db: &PgPool, public_url: &str, user_id: i64) -> AppResult<Vec<Link>> {
    chart_links::list(db, user_id)
        .await?
        .into_iter()
        .map(|link| view(public_url, link))
        .collect()
}

/// Revokes the user's link at once (404 if they have none with this id).
pub async fn revoke(db: &PgPool, user_id: i64, id: i64) -> AppResult<()> {
    if chart_links::delete(db, user_id, id).await? {
        Ok(())
    } else {
        Err(AppError::not_found("Share link not found"))
    }
}

/// The owner and the chart of a link's token; one 404 for every way it can be wrong.
pub async fn resolve(db: &PgPool, token: &str) -> AppResult<(i64, ChartRequest)> {
    let unknown = || AppError::not_found("Share link not found");
    let (id, secret) = token.split_once('_').ok_or_else(unknown)?;
    let id: i64 = id.parse().ok().filter(|id| *id > 0).ok_or_else(unknown)?;
    let link = chart_links::find(db, id).await?.ok_or_else(unknown)?;
    if !bool::from(link.secret.as_bytes().ct_eq(secret.as_bytes())) {
        return Err(unknown());
    }
    let kind = ChartKind::parse(&link.chart).ok_or_else(unknown)?;
    let params: BTreeMap<String, String> =
        serde_json::from_value(link.params).map_err(|_| unknown())?;
    let request = ChartRequest::from_link(kind, &params).map_err(|error| {
        tracing::warn!(link_id = id, %error, "a stored share link no longer parses");
        unknown()
    })?;
    Ok((link.user_id, request))
}

fn view(public_url: &str, link: chart_links::ChartLink) -> AppResult<Link> {
    let chart = ChartKind::parse(&link.chart).ok_or_else(|| {
        AppError::internal(format!("chart link {} has kind {}", link.id, link.chart))
    })?;
    let params = serde_json::from_value(link.params).map_err(AppError::internal)?;
    Ok(Link {
        id: link.id,
        chart,
        params,
        url: format!(
            "{}/charts/shared/{}_{}",
            public_url.trim_end_matches('/'),
            link.id,
            link.secret
        ),
        created_at: link.created_at,
    })
}
