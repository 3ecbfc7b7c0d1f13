//! Health, readiness, metrics and API documentation.

use reqwest::StatusCode;

use crate::support::{TestApp, json_of};

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let (status, body) = json_of(app.get("/healthz", None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let (status, body) = json_of(app.get("/readyz", None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ready");

    app.state.db.close().await;
    let (status, body) = json_of(app.get("/readyz", None).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("database"))
    );
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    app.get("/healthz", None).await;
    app.get("/healthz", None).await;
    app.get("/auth/me", None).await;
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let text = response.text().await.expect("body");
    assert!(
        text.contains(
            "gitpulse_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ),
        "{text}"
    );
    assert!(text.contains(
        "gitpulse_http_requests_total{method=\"GET\",route=\"/auth/me\",status=\"401\"} 1"
    ));
    assert!(text.contains(
        "gitpulse_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 2"
    ));
}

#[tokio::test]
async fn openapi_documents_every_route_and_docs_are_served() {
    let app = TestApp::spawn().await;
    let (status, doc) = json_of(app.get("/openapi.json", None).await).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/auth/register",
        "/auth/login",
        "/auth/me",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(
        doc,
        serde_json::to_value(gitpulse::http::openapi()).expect("json")
    );

    let page = app.get("/docs/", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.to_lowercase().contains("swagger"), "{html}");
    let init = app
        .get("/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .expect("js");
    assert!(init.contains("/openapi.json"), "{init}");
}

#[tokio::test]
async fn health_is_served_under_the_original_name_too() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/health"] {
        let (status, body) = json_of(app.get(path, None).await).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body["status"], "ok");
    }
}
