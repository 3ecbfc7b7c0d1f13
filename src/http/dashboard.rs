//! The web dashboard: `web/` (plain HTML, CSS and JavaScript modules) embedded in the
//! binary and served at `/` and `/assets/{file}`. The dashboard is only a client of the
//! public JSON API (bearer tokens, like any front end); these routes serve files and never
//! read a token. Every answer carries a strict Content-Security-Policy (no inline script or
//! style, connections only to this origin) and an `ETag` to revalidate against.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{AppError, ErrorBody};
use crate::http::extract::Path;
use crate::state::AppState;

/// The dashboard's files, embedded in every build (`debug-embed`), so that the tests serve
/// exactly what a release binary serves and a binary needs no `web/` folder beside it.
#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

/// Scripts and styles only from this origin, no inline code, API calls only to this origin;
/// charts are shown from `blob:` URLs of SVGs fetched with the token.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index))
        .routes(routes!(asset))
}

/// The dashboard (a single page; it signs in and calls this API from the browser).
#[utoipa::path(get, path = "/", tag = "dashboard", responses(
    (status = 200, description = "The dashboard's page", content_type = "text/html", body = String,
        headers(("ETag" = String, description = "Revalidate with `If-None-Match`"))),
    (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`"),
))]
async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// One of the dashboard's scripts, style sheets or images.
#[utoipa::path(get, path = "/assets/{file}", tag = "dashboard",
    params(("file" = String, Path, description = "A file name, e.g. `app.js`", example = "app.js",
        pattern = "^[a-z0-9-]{1,64}\\.(js|css|svg)$")),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/javascript"), (String = "text/css"), (String = "image/svg+xml"))),
        (status = 304, description = "Not modified since the `ETag` given in `If-None-Match`"),
        (status = 404, description = "No such file", body = ErrorBody),
    ))]
async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    if file.contains('/') || file == "index.html" {
        return missing();
    }
    serve(&file, &headers)
}

fn missing() -> Response {
    AppError::not_found("No such dashboard file").into_response()
}

/// The content type of a dashboard file, by its extension; `None` for files not served.
fn content_type(name: &str) -> Option<&'static str> {
    match name.rsplit_once('.')?.1 {
        "html" => Some("text/html; charset=utf-8"),
        "js" => Some("text/javascript; charset=utf-8"),
        "css" => Some("text/css; charset=utf-8"),
        "svg" => Some("image/svg+xml"),
        _ => None,
    }
}

fn serve(name: &str, request: &HeaderMap) -> Response {
    let (Some(file), Some(content_type)) = (Assets::get(name), content_type(name)) else {
        return missing();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let mut headers = HeaderMap::new();
    let mut set = |name, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::ETAG, &etag);
    // Revalidate every time: the file names carry no version, and a 304 is cheap.
    set(header::CACHE_CONTROL, "no-cache");
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    if matches(request, &etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    set(header::CONTENT_TYPE, content_type);
    (headers, file.data.into_owned()).into_response()
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_has_a_content_type() {
        let names: Vec<_> = Assets::iter().collect();
        assert!(names.iter().any(|n| n == "index.html"), "{names:?}");
        for name in names {
            assert!(content_type(&name).is_some(), "{name} would not be served");
            assert!(
                !name.contains('/'),
                "{name}: the dashboard's files are flat"
            );
        }
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(matches(&headers, "\"b\""));
        assert!(!matches(&headers, "\"c\""));
        assert!(!matches(&HeaderMap::new(), "\"a\""));
    }
}
