//! The OpenAPI document states the real contract: the shared error answers on every
//! operation, the limits the server enforces, and the answers schemathesis found wrong.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, json_of};

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Routes outside the per-user rate limits (and so without 429).
const UNLIMITED: [&str; 8] = [
    "/",
    "/assets/{file}",
    "/healthz",
    "/health",
    "/readyz",
    "/metrics",
    "/backup/{company_id}/{repository_name}",
    "/backup/{company_id}/{repository_name}/",
];

fn document() -> Value {
    serde_json::to_value(gitpulse::http::openapi()).expect("json")
}

/// Every operation of the document as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                all.push((method.to_string(), path.clone(), operation.clone()));
            }
        }
    }
    assert!(all.len() > 40, "only {} operations", all.len());
    all
}

fn is_error_body(response: &Value) -> bool {
    response["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"
}

#[test]
fn every_operation_documents_the_shared_error_answers() {
    let doc = document();
    let mut problems = Vec::new();
    for (method, path, operation) in operations(&doc) {
        let responses = &operation["responses"];
        let mut expect = |status: &str, why: &str| {
            if !responses.get(status).is_some_and(is_error_body) {
                problems.push(format!("{method} {path}: no {status} ErrorBody ({why})"));
            }
        };
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        let has_params = operation["parameters"]
            .as_array()
            .is_some_and(|p| !p.is_empty());
        let has_body = operation.get("requestBody").is_some();
        if secured {
            expect("401", "secured");
            expect("403", "secured");
        }
        if has_params || has_body {
            expect("400", "has input");
        }
        if has_body {
            expect("413", "has a body");
        }
        if !UNLIMITED.contains(&path.as_str()) {
            expect("429", "rate limited");
        }
        if !["/healthz", "/health", "/metrics", "/", "/assets/{file}"].contains(&path.as_str()) {
            expect("503", "needs the database");
        }
        for (status, response) in responses.as_object().expect("responses") {
            let is_error = status.starts_with('4') || status.starts_with('5');
            if is_error && !is_error_body(response) {
                problems.push(format!("{method} {path}: {status} is not an ErrorBody"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn parameters_state_their_limits() {
    let doc = document();
    let mut problems = Vec::new();
    for (method, path, operation) in operations(&doc) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let name = parameter["name"].as_str().unwrap_or_default();
            let schema = &parameter["schema"];
            // A query string cannot carry a JSON null.
            if schema["type"].is_array() {
                problems.push(format!("{method} {path}: {name} is nullable"));
            }
            let required = parameter["required"] == true;
            if parameter["in"] == "query" && required != (path == "/search" && name == "q") {
                problems.push(format!("{method} {path}: {name} required: {required}"));
            }
            let is_id = matches!(name, "id" | "pid" | "rid" | "backup_id" | "user_id");
            if is_id && schema["minimum"] != json!(1) {
                problems.push(format!("{method} {path}: {name} has no minimum 1"));
            }
            if name == "limit" && !schema["maximum"].is_number() {
                problems.push(format!("{method} {path}: {name} has no maximum"));
            }
            let is_date = name.contains("date") || name == "from" || name == "to";
            if is_date && schema["format"] != "date" {
                problems.push(format!("{method} {path}: {name} is not a date"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let collection = &doc["paths"]["/data/{collection}"]["get"]["parameters"][0];
    assert_eq!(collection["name"], "collection");
    let pattern = collection["schema"]["pattern"].as_str().expect("pattern");
    for name in gitpulse::data::COLLECTIONS {
        assert!(pattern.contains(name), "{name} missing from {pattern}");
    }
}

#[test]
fn schemas_state_required_fields_and_limits() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let required = |schema: &str| -> Vec<String> {
        schemas[schema]["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    };
    assert_eq!(required("Credentials"), ["username", "password"]);
    assert_eq!(required("RepositoryName"), ["owner", "name"]);
    assert_eq!(required("CreateKey"), ["name"]);
    assert_eq!(required("CreateProject"), ["name", "slug"]);
    assert_eq!(required("PushCommits"), ["commits"]);
    assert_eq!(
        required("CommitIn"),
        [
            "sha",
            "author_name",
            "author_email",
            "commit_date",
            "message_title"
        ]
    );
    let days = &schemas["CreateKey"]["properties"]["expires_in_days"];
    assert_eq!(
        (&days["minimum"], &days["maximum"]),
        (&json!(1), &json!(365))
    );
    let commits = &schemas["PushCommits"]["properties"]["commits"];
    assert_eq!(
        (&commits["minItems"], &commits["maxItems"]),
        (&json!(1), &json!(1000))
    );
    // ISO 8601 with or without an offset (no offset means UTC), as the original client
    // sends it: a pattern, since `date-time` would require the offset.
    assert!(
        schemas["CommitIn"]["properties"]["commit_date"]["pattern"]
            .as_str()
            .is_some_and(|p| p.starts_with("^[0-9]{4}-"))
    );
    assert_eq!(schemas["DailyStat"]["properties"]["date"]["format"], "date");
    let scopes = schemas["CreateKey"]["properties"]["scopes"].to_string();
    for scope in gitpulse::auth::Scope::ALL {
        assert!(scope.as_str().len() > 2 && scopes.contains(scope.as_str()));
    }
    // Two response types once shared a schema name, and one replaced the other.
    assert!(schemas["Pagination"]["properties"]["has_next"].is_object());
    assert!(schemas["Pagination"]["properties"]["offset"].is_object());
    assert!(schemas["DataPagination"]["properties"]["current_page"].is_object());
    assert!(schemas["SyncStatus"]["properties"]["repo_id"].is_object());
    assert!(schemas["IntegrationSyncStatus"]["properties"]["state"].is_object());
}

#[tokio::test]
async fn a_null_body_is_no_body() {
    let app = TestApp::spawn().await;
    let token = app.register("nullbody").await;
    let (status, body) = json_of(
        app.send_json(Method::GET, "/repository/stats", &Value::Null, Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Missing required fields: owner, name");
    let (status, body) = json_of(
        app.post_json("/integration/remove", &Value::Null, Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["message"], "Integration not found");
}

#[tokio::test]
async fn whole_number_floats_are_integers() {
    let app = TestApp::spawn().await;
    let token = app.register("floats").await;
    let (status, body) = json_of(
        app.post_json(
            "/api/v1/api-keys/",
            &json!({"name": "ci", "expires_in_days": 30.0}),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = json_of(
        app.post_json(
            "/api/v1/api-keys/",
            &json!({"name": "ci", "expires_in_days": 30.5}),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// The served document is the committed snapshot: a refactoring that changes the
/// contract fails here. After an intended change, rerun with `UPDATE_SNAPSHOTS=1`.
#[test]
fn the_document_matches_its_snapshot() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/openapi.snapshot.json");
    // The crate version changes with every release, not with the contract.
    let mut doc = document();
    doc["info"]["version"] = json!("(crate version)");
    let current = serde_json::to_string_pretty(&doc).expect("json") + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &current).expect("write the snapshot");
    }
    let snapshot = std::fs::read_to_string(&path).expect("tests/api/openapi.snapshot.json");
    let first_difference = snapshot
        .lines()
        .zip(current.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("line {}: snapshot {a:?}, served {b:?}", i + 1));
    assert!(
        snapshot == current,
        "the OpenAPI document differs from tests/api/openapi.snapshot.json ({}); \
         if the change is intended, rerun with UPDATE_SNAPSHOTS=1 and commit the file",
        first_difference.unwrap_or_else(|| "one is longer".into())
    );
}
