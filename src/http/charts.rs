//! Charts and badges as SVG (`/charts/stars.svg`, `/charts/events.svg`,
//! `/badges/stars.svg`) and share links rendered without a token (`/charts/shared/{token}`).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::charts::params::{BadgeQuery, ChartRequest, EventsQuery, StarsQuery};
use crate::charts::{self, Chart, links};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stars_chart))
        .routes(routes!(events_chart))
        .routes(routes!(stars_badge))
        .routes(routes!(shared_chart))
}

/// A caller's own chart: browsers may keep it, shared caches may not.
const PRIVATE: &str = "private, max-age=300";
/// A share link: anyone may cache it (CDNs, GitHub's image proxy) for five minutes, so a
/// revocation shows within that time.
const PUBLIC: &str = "public, max-age=300";

/// A line per repository of daily stars (or forks, watchers), back to each repository's
/// creation when its star history is loaded.
///
/// Forks and watchers are unknown on backfilled days and show as gaps. An empty range
/// draws a "No data yet" chart. Answers `ETag`; `If-None-Match` with it gives 304.
#[utoipa::path(get, path = "/charts/stars.svg", tag = "charts", params(StarsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The chart", content_type = "image/svg+xml", body = String,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the ETag sent in `If-None-Match`"),
        (status = 400, description = "A bad parameter (the message names it)", body = ErrorBody),
        (status = 404, description = "A repository that is not in your list", body = ErrorBody),
    ))]
async fn stars_chart(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    Query(query): Query<StarsQuery>,
) -> AppResult<Response> {
    let request = ChartRequest::Stars(query.check()?);
    let chart = charts::load(&state.db, auth.user_id, &request).await?;
    answer(chart, &headers, PRIVATE).await
}

/// Stored events of a repository per day, stacked by type, over the last `days` days.
#[utoipa::path(get, path = "/charts/events.svg", tag = "charts", params(EventsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The chart", content_type = "image/svg+xml", body = String,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the ETag sent in `If-None-Match`"),
        (status = 400, description = "A bad parameter (the message names it)", body = ErrorBody),
        (status = 404, description = "A repository that is not in your list", body = ErrorBody),
    ))]
async fn events_chart(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> AppResult<Response> {
    let request = ChartRequest::Events(query.check()?);
    let chart = charts::load(&state.db, auth.user_id, &request).await?;
    answer(chart, &headers, PRIVATE).await
}

/// A shields-style badge: "stars | 1.2k".
#[utoipa::path(get, path = "/badges/stars.svg", tag = "charts", params(BadgeQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The badge", content_type = "image/svg+xml", body = String,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the ETag sent in `If-None-Match`"),
        (status = 400, description = "A bad parameter (the message names it)", body = ErrorBody),
        (status = 404, description = "A repository that is not in your list", body = ErrorBody),
    ))]
async fn stars_badge(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    Query(query): Query<BadgeQuery>,
) -> AppResult<Response> {
    let request = ChartRequest::Badge(query.check()?);
    let chart = charts::load(&state.db, auth.user_id, &request).await?;
    answer(chart, &headers, PRIVATE).await
}

/// A chart or badge of a share link (`POST /charts/links`), without authentication: for
/// `<img>` tags in READMEs and wikis.
///
/// It renders with the access of the link's owner, so it is a 404 once the link is revoked,
/// or when its owner no longer tracks a repository it shows.
#[utoipa::path(get, path = "/charts/shared/{token}", tag = "charts",
    params(("token" = String, Path, description = "The last part of the link's `url`")),
    responses(
        (status = 200, description = "The chart or badge", content_type = "image/svg+xml", body = String,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the ETag sent in `If-None-Match`"),
        (status = 404, description = "No such link (revoked, unknown or altered)", body = ErrorBody),
    ))]
async fn shared_chart(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let (owner, request) = links::resolve(&state.db, &token).await?;
    let chart = charts::load(&state.db, owner, &request)
        .await
        .map_err(|error| match error {
            AppError::NotFound(_) => AppError::not_found("Share link not found"),
            error => error,
        })?;
    answer(chart, &headers, PUBLIC).await
}

/// 304 when the client has this chart already, else the drawn SVG.
async fn answer(chart: Chart, headers: &HeaderMap, cache: &'static str) -> AppResult<Response> {
    let etag = chart.etag();
    let etag_value = HeaderValue::from_str(&etag).map_err(AppError::internal)?;
    let cache_value = HeaderValue::from_static(cache);
    if client_has(headers, &etag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(header::ETAG, etag_value);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, cache_value);
        return Ok(response);
    }
    let svg = chart.render().await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache_value),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // Opened directly, the SVG may not run scripts or load anything.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
            ),
        ],
        svg,
    )
        .into_response())
}

/// `If-None-Match` names this ETag (or `*`); `W/` prefixes compare weakly, as RFC 9110 says.
fn client_has(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let mut headers = HeaderMap::new();
        assert!(!client_has(&headers, "\"a\""));
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"a\""),
        );
        assert!(client_has(&headers, "\"a\""));
        assert!(!client_has(&headers, "\"b\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(client_has(&headers, "\"b\""));
    }
}
