//! The web dashboard's files: served from the binary at `/` and `/assets/{file}` with
//! their content types, a strict Content-Security-Policy and ETags; no token needed.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};

use crate::support::TestApp;

#[tokio::test]
async fn the_page_and_its_files_are_served_with_a_strict_policy() {
    let app = TestApp::spawn().await;
    let page = app.get("/", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert_eq!(headers[CONTENT_TYPE], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-cache");
    let html = page.text().await.expect("body");
    assert!(
        html.contains(r#"<script type="module" src="/assets/app.js">"#),
        "{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains(" style="),
        "no inline code"
    );

    for (file, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("api.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let response = app.get(&format!("/assets/{file}"), None).await;
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert_eq!(response.headers()[CONTENT_TYPE], content_type, "{file}");
        assert!(response.headers().contains_key("content-security-policy"));
    }
    // Every module the page imports is served (a missing one would break the page).
    let app_js = app
        .get("/assets/app.js", None)
        .await
        .text()
        .await
        .expect("js");
    for import in app_js.lines().filter_map(|l| l.split("from \"./").nth(1)) {
        let file = import.split('"').next().expect("name");
        let response = app.get(&format!("/assets/{file}"), None).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{file} imported by app.js"
        );
    }
}

#[tokio::test]
async fn an_etag_answers_304_until_the_file_changes() {
    let app = TestApp::spawn().await;
    for path in ["/", "/assets/app.js"] {
        let first = app.get(path, None).await;
        let etag = first.headers()[ETAG].clone();
        assert!(etag.to_str().expect("ascii").starts_with('"'), "{etag:?}");
        let again = app
            .request(reqwest::Method::GET, path)
            .header(IF_NONE_MATCH, etag.clone())
            .send()
            .await
            .expect("sent");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()[ETAG], etag);
        assert!(again.bytes().await.expect("body").is_empty());
        let stale = app
            .request(reqwest::Method::GET, path)
            .header(IF_NONE_MATCH, "\"something-else\"")
            .send()
            .await
            .expect("sent");
        assert_eq!(stale.status(), StatusCode::OK, "{path}");
    }
    let other = app.get("/assets/style.css", None).await;
    let app_js = app.get("/assets/app.js", None).await;
    assert_ne!(other.headers()[ETAG], app_js.headers()[ETAG]);
}

#[tokio::test]
async fn unknown_files_are_json_404s() {
    let app = TestApp::spawn().await;
    for path in [
        "/assets/nope.js",
        "/assets/index.html",
        "/assets/..%2FCargo.toml",
        "/assets/a%00.js",
    ] {
        let response = app.get(path, None).await;
        assert!(
            matches!(
                response.status(),
                StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST
            ),
            "{path}: {}",
            response.status()
        );
        let body: serde_json::Value = response.json().await.expect("json");
        assert!(body["message"].is_string(), "{path}: {body}");
    }
}
