//! The error contract: JSON `{"message"}` bodies with the right status, for every kind of bad input.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, json_of};

#[tokio::test]
async fn malformed_json_and_wrong_content_type_are_400() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::POST, "/auth/register")
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Malformed JSON")),
        "{body}"
    );

    let response = app
        .request(Method::POST, "/auth/register")
        .header("content-type", "text/plain")
        .body("username=alice")
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Content-Type: application/json"))
    );

    let (status, body) = json_of(app.post_json("/auth/register", &json!([1, 2]), None).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 2048).await;
    let big = json!({"username": "x".repeat(10_000), "password": "password123"});
    let (status, body) = json_of(app.post_json("/auth/register", &big, None).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["message"], "Request body is too large");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = TestApp::spawn().await;
    let (status, body) = json_of(app.get("/no/such/route", None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].is_string());

    let response = app
        .request(Method::DELETE, "/auth/login")
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz", None).await;
    let generated = response.headers()["x-request-id"].to_str().expect("ascii");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    let response = app
        .request(Method::GET, "/healthz")
        .header("x-request-id", "client-chosen-id")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.headers()["x-request-id"], "client-chosen-id");
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = TestApp::spawn_with(|c| c.cors_origins = vec!["http://app.example".into()]).await;
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/auth/login")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let allowed = preflight("http://app.example").await.expect("sent");
    assert!(allowed.status().is_success());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://app.example"
    );
    let denied = preflight("http://evil.example").await.expect("sent");
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn database_outage_is_503_not_500() {
    let app = TestApp::spawn().await;
    app.state.db.close().await;
    let (status, body) = json_of(
        app.post_json(
            "/auth/login",
            &json!({"username": "alice", "password": "password123"}),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        !body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("pool"),
        "no internals: {body}"
    );
}
