//! API rate limits: per user when authenticated, else per client IP.

use reqwest::StatusCode;

use crate::support::{TestApp, json_of};

#[tokio::test]
async fn hourly_quota_answers_429_with_retry_after() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_enabled = true;
        c.rate_limit_per_hour = 3;
    })
    .await;
    let alice = app.register("alice").await; // one anonymous request from this IP
    for _ in 0..3 {
        assert_eq!(
            app.get("/auth/me", Some(&alice)).await.status(),
            StatusCode::OK
        );
    }
    let response = app.get("/auth/me", Some(&alice)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=1200).contains(&retry_after), "{retry_after}");
    let (_, body) = json_of(response).await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Too many requests"))
    );

    // Another user has a quota of their own.
    let bob = app.register("bob").await; // second anonymous request from this IP
    assert_eq!(
        app.get("/auth/me", Some(&bob)).await.status(),
        StatusCode::OK
    );

    // Operational routes are never limited.
    for _ in 0..5 {
        assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    }

    // Anonymous callers share their IP's quota: two registrations used two of three.
    app.get("/auth/me", None).await;
    assert_eq!(
        app.get("/auth/me", None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn daily_quota_applies_too() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_enabled = true;
        c.rate_limit_per_hour = 100;
        c.rate_limit_per_day = 2;
    })
    .await;
    assert_eq!(
        app.get("/auth/me", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/auth/me", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let response = app.get("/auth/me", None).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("n");
    assert!(
        retry_after > 3600,
        "a day's quota refills slowly: {retry_after}"
    );
}

#[tokio::test]
async fn limits_can_be_switched_off() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_enabled = false;
        c.rate_limit_per_hour = 1;
    })
    .await;
    for _ in 0..5 {
        assert_eq!(
            app.get("/auth/me", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}
