//! Register, log in, and who am I.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, json_of};

#[tokio::test]
async fn register_login_and_me() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            "/auth/register",
            &json!({"username": "alice", "password": "password123"}),
            None,
        )
        .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );

    // Usernames are case-insensitive for login.
    let response = app
        .post_json(
            "/auth/login",
            &json!({"username": "ALICE", "password": "password123"}),
            None,
        )
        .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().expect("token").to_string();

    let (status, me) = json_of(app.get("/auth/me", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "alice");
    assert!(me["id"].is_i64());
    assert!(me["github_login"].is_null());
    assert!(me["created_at"].as_str().is_some());
    assert!(me.get("password_hash").is_none(), "no secrets in profiles");

    let stored: String =
        sqlx::query_scalar("select password_hash from users where username = 'alice'")
            .fetch_one(&app.state.db)
            .await
            .expect("row");
    assert!(
        stored.starts_with("$argon2id$"),
        "argon2id hash, not the password"
    );
}

#[tokio::test]
async fn register_rejects_duplicates_and_bad_fields() {
    let app = TestApp::spawn().await;
    app.register("bob").await;

    let response = app
        .post_json(
            "/auth/register",
            &json!({"username": "BOB", "password": "another-password"}),
            None,
        )
        .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Username is already taken");

    let (status, body) = json_of(app.post_json("/auth/register", &json!({}), None).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "Missing required fields: username, password"
    );

    let response = app
        .post_json("/auth/register", &json!({"username": "carol"}), None)
        .await;
    let (_, body) = json_of(response).await;
    assert_eq!(body["message"], "Missing required fields: password");

    let response = app
        .post_json(
            "/auth/register",
            &json!({"username": "no spaces!", "password": "short"}),
            None,
        )
        .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("field errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["username", "password"]);

    let response = app
        .post_json(
            "/auth/register",
            &json!({"username": 42, "password": "password123"}),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Nothing was written by the failed requests.
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(users, 1);
}

#[tokio::test]
async fn login_does_not_reveal_which_part_was_wrong() {
    let app = TestApp::spawn().await;
    app.register("dave").await;
    for body in [
        json!({"username": "dave", "password": "wrong password"}),
        json!({"username": "nobody", "password": "correct horse battery"}),
    ] {
        let (status, answer) = json_of(app.post_json("/auth/login", &body, None).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(answer["message"], "Invalid username or password");
    }
    let (status, answer) = json_of(
        app.post_json("/auth/login", &json!({"password": "x"}), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["message"], "Missing required fields: username");
}

#[tokio::test]
async fn me_requires_a_valid_unexpired_token() {
    let app = TestApp::spawn_with(|c| {
        c.jwt_secret = Some(gitpulse::config::Secret::new("k".repeat(40)));
    })
    .await;
    let response = app.get("/auth/me", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let (_, body) = json_of(response).await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("bearer token"))
    );

    let response = app.get("/auth/me", Some("not-a-token")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // A token signed with the right key but expired a minute ago.
    let token = app.register("erin").await;
    let user_id = gitpulse::auth::JwtKeys::new("k".repeat(40).as_bytes(), 60)
        .verify(&token)
        .expect("valid token");
    let now = chrono::Utc::now().timestamp();
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &gitpulse::auth::jwt::Claims {
            sub: user_id.to_string(),
            iat: now - 3600,
            exp: now - 60,
        },
        &jsonwebtoken::EncodingKey::from_secret("k".repeat(40).as_bytes()),
    )
    .expect("encode");
    let (status, body) = json_of(app.get("/auth/me", Some(&expired)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Invalid or expired token");

    // A token signed with another key.
    let forged = gitpulse::auth::JwtKeys::new("z".repeat(40).as_bytes(), 60)
        .issue(user_id)
        .expect("issue");
    assert_eq!(
        app.get("/auth/me", Some(&forged)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn generated_jwt_key_is_shared_by_replicas() {
    let first = TestApp::spawn().await;
    let token = first.register("frank").await;
    let second = first.replica().await;
    let (status, me) = json_of(second.get("/auth/me", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "frank");
    second.stop().await;
}
