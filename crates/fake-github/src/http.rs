//! Shared HTTP helpers: the request context extractor, JSON answers with ETag / 304,
//! pagination with GitHub's `Link` header, and GitHub-style error bodies.
//!
//! A new endpoint typically is: take a [`Req`], read state, then `ok_json(&req, &value, ..)`
//! for an object or `list_json(&req, &items, ListOpts::default(), render)` for a list.

use std::ops::Range;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Query};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, HOST, IF_NONE_MATCH, LINK, VARY};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::state::State;

pub(crate) const DOCS: &str = "https://docs.github.com/rest";
pub(crate) const DEFAULT_PER_PAGE: usize = 30;
pub(crate) const MAX_PER_PAGE: usize = 100;

/// What every handler needs to know about its request.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    /// Absolute base URL the client used (`http://host:port`), for URLs in bodies and links.
    pub base: String,
    pub path: String,
    /// The raw query string (no `?`), kept verbatim for `Link` URLs.
    pub raw_query: String,
    /// Decoded query parameters.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
}

impl FromRequestParts<Arc<State>> for Req {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<State>,
    ) -> Result<Self, Self::Rejection> {
        let base = parts
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| format!("http://{h}"))
            .unwrap_or_else(|| state.base_url.clone());
        let query = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .unwrap_or_default();
        Ok(Req {
            base,
            path: parts.uri.path().to_string(),
            raw_query: parts.uri.query().unwrap_or_default().to_string(),
            query,
            headers: parts.headers.clone(),
        })
    }
}

impl Req {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `per_page` (default 30, clamped to 1..=`max_per_page`, GitHub's 100 for most lists)
    /// and `page` (default 1), like GitHub.
    pub fn page(&self, max_per_page: usize) -> Page {
        let num = |name: &str| {
            self.param(name)
                .and_then(|v| v.trim().parse::<usize>().ok())
        };
        Page {
            per_page: num("per_page")
                .unwrap_or(DEFAULT_PER_PAGE.min(max_per_page))
                .clamp(1, max_per_page),
            page: num("page").unwrap_or(1).max(1),
        }
    }

    /// This request's absolute URL with `page` set to `page` (other parameters kept verbatim).
    fn url_for_page(&self, page: usize) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut replaced = false;
        for piece in self.raw_query.split('&').filter(|p| !p.is_empty()) {
            if piece.split('=').next() == Some("page") {
                if !replaced {
                    parts.push(format!("page={page}"));
                    replaced = true;
                }
            } else {
                parts.push(piece.to_string());
            }
        }
        if !replaced {
            parts.push(format!("page={page}"));
        }
        format!("{}{}?{}", self.base, self.path, parts.join("&"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    pub per_page: usize,
    pub page: usize,
}

/// `"<sha256 hex>"`: a strong ETag over `bytes`.
pub(crate) fn etag_of(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Sha256::digest(bytes)))
}

/// Whether `If-None-Match` names `etag` (lists, `*` and weak `W/` forms accepted).
pub(crate) fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    let bare = etag.trim_start_matches("W/");
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == bare)
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// Adds `name: value` to `headers` (ignored if the value is not a valid header value).
pub(crate) fn put(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

fn json_headers(headers: &mut HeaderMap) {
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        HeaderName::from_static("x-github-media-type"),
        HeaderValue::from_static("github.v3; format=json"),
    );
}

/// 200 with `body` and an ETag (`etag`, else the body's hash); 304 without body when the
/// request's `If-None-Match` matches. `headers` (Link, X-Poll-Interval...) go on both.
pub(crate) fn ok_json(
    req: &Req,
    body: &Value,
    etag: Option<String>,
    mut headers: HeaderMap,
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let etag = etag.unwrap_or_else(|| etag_of(&bytes));
    headers.insert(ETAG, header_value(&etag));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=60, s-maxage=60"),
    );
    headers.insert(
        VARY,
        HeaderValue::from_static("Accept, Authorization, Cookie, X-GitHub-OTP"),
    );
    if not_modified(&req.headers, &etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    json_headers(&mut headers);
    (StatusCode::OK, headers, bytes).into_response()
}

/// A GitHub error answer: `{"message": .., "documentation_url": ..}`.
pub(crate) fn error_json(status: StatusCode, message: &str, documentation_url: &str) -> Response {
    error_with_headers(status, message, documentation_url, HeaderMap::new())
}

pub(crate) fn error_with_headers(
    status: StatusCode,
    message: &str,
    documentation_url: &str,
    mut headers: HeaderMap,
) -> Response {
    json_headers(&mut headers);
    let body = json!({ "message": message, "documentation_url": documentation_url });
    (status, headers, body.to_string()).into_response()
}

/// GitHub's 404.
pub(crate) fn not_found() -> Response {
    error_json(StatusCode::NOT_FOUND, "Not Found", DOCS)
}

/// Options for [`list_json`].
#[derive(Debug, Default)]
pub(crate) struct ListOpts {
    /// Only the first `window` items are reachable; a page starting past it answers 422.
    pub window: Option<usize>,
    /// ETag computed from this (plus the page) instead of from the page's body.
    pub etag_seed: Option<String>,
    /// Extra headers for 200 and 304 answers.
    pub headers: HeaderMap,
    /// Largest `per_page` (default 100).
    pub max_per_page: Option<usize>,
    /// Largest `page`; a page past it answers 422.
    pub max_page: Option<usize>,
}

/// A page that starts past a limited window (GitHub answers 422, see [`beyond_window`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BeyondWindow;

/// GitHub's 422 for pages past a limited window.
pub(crate) fn beyond_window() -> Response {
    error_json(
        StatusCode::UNPROCESSABLE_ENTITY,
        "In order to keep the API fast for everyone, pagination is limited for this resource.",
        "https://docs.github.com/v3/#pagination",
    )
}

/// The slice of a `total`-item list that `page` covers, and its `Link` header.
pub(crate) fn paginate(
    req: &Req,
    Page { per_page, page }: Page,
    total: usize,
    window: Option<usize>,
) -> Result<(Range<usize>, Option<String>), BeyondWindow> {
    let total = window.map_or(total, |w| total.min(w));
    let start = (page - 1).saturating_mul(per_page);
    if window.is_some_and(|w| start >= w) {
        return Err(BeyondWindow);
    }
    let range = start.min(total)..start.saturating_add(per_page).min(total);
    let last = total.div_ceil(per_page).max(1);
    let mut rels = Vec::new();
    if page > 1 {
        rels.push((page - 1, "prev"));
    }
    if page < last {
        rels.push((page + 1, "next"));
        rels.push((last, "last"));
    }
    if page > 1 {
        rels.push((1, "first"));
    }
    let link = (!rels.is_empty()).then(|| {
        rels.iter()
            .map(|(p, rel)| format!("<{}>; rel=\"{rel}\"", req.url_for_page(*p)))
            .collect::<Vec<_>>()
            .join(", ")
    });
    Ok((range, link))
}

/// A paginated JSON list answer: page slicing, `Link`, ETag and 304 in one call.
pub(crate) fn list_json<T>(
    req: &Req,
    items: &[T],
    opts: ListOpts,
    render: impl Fn(&T) -> Value,
) -> Response {
    let page = req.page(opts.max_per_page.unwrap_or(MAX_PER_PAGE));
    if opts.max_page.is_some_and(|max| page.page > max) {
        return beyond_window();
    }
    let (range, link) = match paginate(req, page, items.len(), opts.window) {
        Ok(r) => r,
        Err(BeyondWindow) => return beyond_window(),
    };
    let mut headers = opts.headers;
    if let Some(link) = link {
        headers.insert(LINK, header_value(&link));
    }
    let body = Value::Array(items[range].iter().map(render).collect());
    let etag = opts.etag_seed.map(|seed| {
        let Page { per_page, page } = page;
        etag_of(format!("{seed}|per_page={per_page}|page={page}").as_bytes())
    });
    ok_json(req, &body, etag, headers)
}
