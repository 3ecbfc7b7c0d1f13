//! Hostile use: every operation of the OpenAPI document is walked with API keys that lack
//! its scope, with tokens of a deleted account, and with NUL characters in every input.

use fake_github::FakeGitHub;
use gitpulse::auth::Scope;
use gitpulse::auth::policy::{self, Access};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::push::{create_key, create_project, create_repo, fake_commits, push_path};
use crate::support::{TestApp, json_of, with_token};

/// One operation of the OpenAPI document.
#[derive(Debug, Clone)]
struct Operation {
    method: Method,
    /// The route template (`/v1/users/{id}`).
    template: String,
    op: Value,
}

impl Operation {
    fn access(&self) -> Option<Access> {
        policy::access_for(&self.method, &self.template)
    }

    /// Whether the document requires a bearer token (no anonymous alternative).
    fn secured(&self) -> bool {
        self.op["security"].as_array().is_some_and(|alternatives| {
            !alternatives.is_empty()
                && alternatives
                    .iter()
                    .all(|a| a.as_object().is_some_and(|o| o.contains_key("bearer")))
        })
    }

    fn params(&self) -> Vec<Value> {
        self.op["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The path with every parameter filled with a plausible value.
    fn path_with(&self, overrides: &[(&str, &str)]) -> String {
        let mut path = self.template.clone();
        for param in self.params().iter().filter(|p| p["in"] == "path") {
            let name = param["name"].as_str().unwrap_or_default();
            let value = overrides
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| plausible(&param["schema"]).to_string());
            path = path.replace(&format!("{{{name}}}"), &value);
        }
        path
    }
}

fn plausible(schema: &Value) -> &'static str {
    let ty = &schema["type"];
    let is = |t: &str| ty == t || ty.as_array().is_some_and(|a| a.iter().any(|x| x == t));
    // An id that names nothing: a positive check must not change anything.
    if is("integer") || is("number") {
        "999999"
    } else {
        "x"
    }
}

async fn operations(app: &TestApp) -> (Vec<Operation>, Value) {
    let (status, doc) = json_of(app.get("/openapi.json", None).await).await;
    assert_eq!(status, StatusCode::OK);
    let mut ops = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            ops.push(Operation {
                method,
                template: template.clone(),
                op: op.clone(),
            });
        }
    }
    assert!(ops.len() > 40, "only {} operations", ops.len());
    (ops, doc)
}

async fn call(app: &TestApp, op: &Operation, token: Option<&str>) -> (StatusCode, Value) {
    let builder = with_token(app.request(op.method.clone(), &op.path_with(&[])), token);
    let response = builder.send().await.expect("request sent");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(json!(text)))
}

#[tokio::test]
async fn every_operation_has_an_access_rule_that_the_document_states() {
    let app = TestApp::spawn().await;
    let (ops, _) = operations(&app).await;
    for op in &ops {
        let access = op.access().unwrap_or_else(|| {
            panic!(
                "{} {} has no entry in auth::policy::ROUTES",
                op.method, op.template
            )
        });
        let public = matches!(access, Access::Public | Access::PublicOrSession);
        assert_eq!(
            op.secured(),
            !public,
            "{} {}: the document's security disagrees with {access:?}",
            op.method,
            op.template
        );
    }
    // And the table names no route that does not exist.
    for rule in policy::ROUTES {
        assert!(
            ops.iter()
                .any(|o| o.method.as_str() == rule.method && o.template == rule.path),
            "auth::policy::ROUTES lists {} {}, which the API does not serve",
            rule.method,
            rule.path
        );
    }
}

#[tokio::test]
async fn api_keys_get_only_their_scopes_on_every_secured_operation() {
    let app = TestApp::spawn().await;
    let jwt = app.register("scoped").await;
    let mut keys = Vec::new();
    for scope in Scope::ALL {
        let (_, key) = create_key(&app, &jwt, json!({"scopes": scope.as_str()})).await;
        keys.push((scope, key));
    }
    let (_, all_scopes) = create_key(&app, &jwt, json!({})).await;
    let (ops, _) = operations(&app).await;
    let mut checked = 0;
    for op in ops.iter().filter(|o| o.secured()) {
        let access = op.access().expect("every operation has a rule");
        for (scope, key) in &keys {
            let allowed = match access {
                Access::Authenticated => true,
                Access::Session | Access::PublicOrSession | Access::Public => false,
                Access::Scope(needed) => needed == *scope,
                Access::AnyScope(any) => any.contains(scope),
            };
            let (status, body) = call(&app, op, Some(key)).await;
            let what = format!(
                "{} {} with a {} key",
                op.method,
                op.template,
                scope.as_str()
            );
            if allowed {
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{what}: {status} {body}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
                checked += 1;
            }
        }
        if access == Access::Session {
            // Even a key with every scope: these need a login token, and say so.
            let (status, body) = call(&app, op, Some(&all_scopes)).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{} {}",
                op.method,
                op.template
            );
            let message = body["message"].as_str().unwrap_or_default();
            assert!(message.contains("login token"), "{message}");
            // A login token passes the check.
            let (status, body) = call(&app, op, Some(&jwt)).await;
            assert!(
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                "{} {} with a JWT: {status} {body}",
                op.method,
                op.template
            );
        }
    }
    assert!(checked > 200, "only {checked} refusals checked");
}

#[tokio::test]
async fn a_new_key_has_every_scope_and_says_which() {
    let app = TestApp::spawn().await;
    let jwt = app.register("defaults").await;
    let (status, created) = json_of(
        app.post_json("/api/v1/api-keys/", &json!({"name": "all"}), Some(&jwt))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let names: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(created["scopes"], json!(names));
    for name in [
        "read:tracking",
        "write:tracking",
        "read:data",
        "admin:integration",
        "read:backups",
    ] {
        assert!(names.contains(&name), "{name}");
    }
}

/// A user with something in every table that is only theirs, and a tracked repository
/// that another user tracks too.
async fn populated_user(app: &TestApp, gh: &FakeGitHub, name: &str) -> String {
    let jwt = app.register(name).await;
    gh.add_repo("acme", "shared");
    let body = json!({"owner": "acme", "name": "shared"});
    let (status, answer) = json_of(app.post_json("/repositories", &body, Some(&jwt)).await).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let project = create_project(app, &jwt, &format!("{name}-project")).await;
    let repo = create_repo(
        app,
        &jwt,
        project,
        json!({"name": "local", "sync_method": "push_client"}),
    )
    .await;
    let (status, answer) = json_of(
        app.post_json(
            &push_path(project, repo),
            &json!({"commits": fake_commits(0..3)}),
            Some(&jwt),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    jwt
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn deleting_an_account_removes_what_is_only_theirs_and_stops_its_credentials() {
    let gh = FakeGitHub::start().await;
    let app = TestApp::with_github(&gh, |c| c.scheduler_enabled = false).await;
    let alice = populated_user(&app, &gh, "alice").await;
    let bob = populated_user(&app, &gh, "bob").await;
    let (_, alice_key) = create_key(&app, &alice, json!({})).await;
    let replica = app.replica().await;
    // The key is verified (and cached) on both servers before the deletion.
    for server in [&app, &replica] {
        assert_eq!(
            server.get("/auth/me", Some(&alice_key)).await.status(),
            StatusCode::OK
        );
    }

    // A wrong or missing confirmation deletes nothing; an API key cannot do it at all.
    let wrong = app
        .send_json(
            Method::DELETE,
            "/auth/me",
            &json!({"password": "not the password"}),
            Some(&alice),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let missing = app
        .send_json(Method::DELETE, "/auth/me", &json!({}), Some(&alice))
        .await;
    let (status, body) = json_of(missing).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Missing required fields: password");
    let by_key = app
        .send_json(
            Method::DELETE,
            "/auth/me",
            &json!({"password": "correct horse battery"}),
            Some(&alice_key),
        )
        .await;
    assert_eq!(by_key.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "select count(*) from users").await, 2);

    let (status, answer) = json_of(
        app.send_json(
            Method::DELETE,
            "/auth/me",
            &json!({"password": "correct horse battery"}),
            Some(&alice),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["message"], "Account deleted");
    assert_eq!(answer["removed"]["commits"], 3);
    assert_eq!(answer["removed"]["api_keys"], 1);
    assert_eq!(answer["removed"]["tracked_repositories"], 1);

    // Everything that was only Alice's is gone; Bob's and the shared repository stay.
    assert_eq!(count(&app, "select count(*) from users").await, 1);
    assert_eq!(count(&app, "select count(*) from projects").await, 1);
    assert_eq!(count(&app, "select count(*) from repo_commits").await, 3);
    assert_eq!(count(&app, "select count(*) from api_keys").await, 0);
    assert_eq!(
        count(&app, "select count(*) from tracked_repositories").await,
        1
    );
    assert_eq!(count(&app, "select count(*) from repositories").await, 1);
    // The deletion is recorded, without a user to cascade it away.
    assert_eq!(
        count(
            &app,
            "select count(*) from audit_logs where action = 'account.deleted' and user_id is null"
        )
        .await,
        1
    );

    // Alice's token and key are refused on every secured route, on both replicas.
    let (ops, _) = operations(&app).await;
    for op in ops.iter().filter(|o| o.secured()) {
        for (server, token) in [(&app, &alice), (&replica, &alice_key), (&app, &alice_key)] {
            let (status, body) = call(server, op, Some(token)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} {}: {body}",
                op.method,
                op.template
            );
        }
    }
    // Bob is unaffected.
    let (status, me) = json_of(app.get("/auth/me", Some(&bob)).await).await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("bob"))
    );
    replica.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn an_account_made_by_sign_in_with_github_confirms_with_its_login() {
    let app = TestApp::spawn().await;
    let user_id: i64 = sqlx::query_scalar(
        "insert into users (username, github_id, github_login) values ('octo', 42, 'Octocat')
         returning id",
    )
    .fetch_one(&app.state.db)
    .await
    .expect("user");
    let token = app.state.jwt.issue(user_id).expect("token");
    let wrong = app
        .send_json(
            Method::DELETE,
            "/auth/me",
            &json!({"login": "someone"}),
            Some(&token),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let ok = app
        .send_json(
            Method::DELETE,
            "/auth/me",
            &json!({"login": "octocat"}),
            Some(&token),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        app.get("/auth/me", Some(&token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The properties a request body schema names (following `$ref`s and `allOf`).
fn body_properties(doc: &Value, schema: &Value) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return body_properties(doc, &doc["components"]["schemas"][name]);
    }
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for key in ["allOf", "oneOf", "anyOf"] {
        for part in schema[key].as_array().into_iter().flatten() {
            names.extend(body_properties(doc, part));
        }
    }
    names
}

#[tokio::test]
async fn a_nul_in_any_input_is_a_400_naming_it() {
    let gh = FakeGitHub::start().await;
    let app = TestApp::with_github(&gh, |c| c.scheduler_enabled = false).await;
    let jwt = app.register("nul").await;
    let (ops, doc) = operations(&app).await;
    let mut probes = 0;
    let expect_refused = |what: String, status: StatusCode, body: &Value, name: &str| {
        assert!(status.is_client_error(), "{what}: {status} {body}");
        if status == StatusCode::BAD_REQUEST {
            let message = body["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("NUL") && message.contains(name),
                "{what}: {message}"
            );
        }
    };
    for op in &ops {
        let what = |place: &str| format!("{} {} ({place})", op.method, op.template);
        // Every path and query parameter.
        for param in op.params() {
            let name = param["name"].as_str().unwrap_or_default();
            let url = match param["in"].as_str() {
                Some("path") => op.path_with(&[(name, "1%00x")]),
                Some("query") => format!("{}?{name}=a%00b", op.path_with(&[])),
                _ => continue,
            };
            let response = with_token(app.request(op.method.clone(), &url), Some(&jwt))
                .send()
                .await
                .expect("sent");
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            expect_refused(what(name), status, &body, name);
            probes += 1;
        }
        // Every field of the JSON body.
        let schema = &op.op["requestBody"]["content"]["application/json"]["schema"];
        if schema.is_null() {
            continue;
        }
        for field in body_properties(&doc, schema) {
            let body = json!({ field.clone(): "a\u{0}b" });
            let response = with_token(
                app.request(op.method.clone(), &op.path_with(&[])),
                Some(&jwt),
            )
            .json(&body)
            .send()
            .await
            .expect("sent");
            let status = response.status();
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            expect_refused(what(&field), status, &answer, &field);
            probes += 1;
        }
    }
    assert!(probes > 60, "only {probes} inputs probed");

    // The anonymous login that answered 500, and NULs inside the data API's filter JSON.
    let (status, body) = json_of(
        app.post_json(
            "/auth/login",
            &json!({"username": "a\u{0}b", "password": "whatever1"}),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "Field 'username' contains a NUL character (\\u0000), which is not allowed"
    );
    let filter = r#"{"sha":"a\u0000"}"#;
    let url = format!(
        "/data/github_commits?filter={}",
        url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
    );
    let (status, body) = json_of(app.get(&url, Some(&jwt)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("filter")
    );
    // An escaped backslash before "u0000" is ordinary text.
    let filter = r#"{"sha":"a\\u0000"}"#;
    let url = format!(
        "/data/github_commits?filter={}",
        url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
    );
    assert_ne!(
        app.get(&url, Some(&jwt)).await.status(),
        StatusCode::BAD_REQUEST
    );
}
