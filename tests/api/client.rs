//! The push client end to end against a real server and real local git repositories,
//! and `pull` repositories that the server fetches itself.

use std::path::Path;
use std::time::Duration;

use gitpulse::client::{self, ClientConfig, SyncOptions};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::push::{
    GitRepo, TempDir, create_key, create_project, create_repo, status_path, stored_commits,
    user_with_repo,
};
use crate::support::{TestApp, json_of};

/// Writes a repos.yaml for one repository; `limits` is (batch_size, max_retries) and
/// `ids` is (project_id, repo_id).
fn write_config(
    dir: &Path,
    url: &str,
    key: Option<&str>,
    limits: (usize, u32),
    ids: (i64, i64),
    path: &Path,
) -> std::path::PathBuf {
    let key_line = key.map(|k| format!("api_key: {k}\n")).unwrap_or_default();
    let ((batch, retries), (project, repo)) = (limits, ids);
    let yaml = format!(
        "api_url: {url}\n{key_line}batch_size: {batch}\nmax_retries: {retries}\nprojects:\n  - project_id: {project}\n    repos:\n      - repo_id: {repo}\n        path: {}\n        branch: main\n",
        path.display()
    );
    let file = dir.join("repos.yaml");
    std::fs::write(&file, yaml).expect("write config");
    file
}

fn options() -> SyncOptions {
    SyncOptions {
        backoff_base: Duration::from_millis(10),
        ..SyncOptions::default()
    }
}

#[tokio::test]
async fn init_writes_a_commented_template_and_never_overwrites() {
    let dir = TempDir::new("init");
    let file = dir.0.join("repos.yaml");
    client::init(&file).expect("init");
    let text = std::fs::read_to_string(&file).expect("read");
    for needle in [
        "api_url:",
        "GITPULSE_API_KEY",
        "batch_size:",
        "max_retries:",
        "project_id:",
        "repo_id:",
        "branch:",
    ] {
        assert!(text.contains(needle), "{needle} missing from template");
    }
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .count()
            > 5,
        "commented"
    );
    let error = client::init(&file).expect_err("refuses to overwrite");
    assert!(error.to_string().contains("already exists"), "{error}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), text);
}

#[tokio::test]
async fn sync_sends_history_in_batches_and_then_only_what_is_new() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let (_, key) = create_key(&app, &jwt, json!({"scopes": "sync:commits"})).await;
    let mut git = GitRepo::new();
    git.add_commits(250);
    let dir = TempDir::new("client");
    let file = write_config(
        &dir.0,
        &app.url,
        Some(&key),
        (100, 2),
        (project, repo),
        git.path(),
    );
    let config = ClientConfig::load(&file).expect("config");

    let (me, repos) = client::test_connection(&config).await.expect("test");
    assert_eq!(me.username, "alice");
    assert_eq!(me.scopes, ["sync:commits"]);
    assert_eq!(repos.len(), 1);
    assert!(repos[0].1.is_ok());

    let dry = client::sync(
        &config,
        &SyncOptions {
            dry_run: true,
            ..options()
        },
    )
    .await;
    assert_eq!(
        (dry[0].pending, dry[0].sent),
        (250, 0),
        "{:?}",
        dry[0].error
    );
    assert_eq!(stored_commits(&app, repo).await, 0, "dry run sends nothing");

    let reports = client::sync(&config, &options()).await;
    let report = &reports[0];
    assert_eq!(report.error, None);
    assert_eq!(
        (report.pending, report.sent, report.inserted, report.skipped),
        (250, 250, 250, 0)
    );
    let (_, status) = json_of(app.get(&status_path(project, repo), Some(&key)).await).await;
    assert_eq!(status["total_commits"], 250);
    assert_eq!(status["status"], "healthy");
    assert_eq!(status["last_ingested_sha"], git.head());

    // What git reported is what was stored.
    let (title, body, files, adds, email): (String, Option<String>, i64, i64, String) =
        sqlx::query_as(
            "select message_title, message_body, files_changed, additions, author_email
         from repo_commits where repo_id = $1 and sha = $2",
        )
        .bind(repo)
        .bind(git.head())
        .fetch_one(&app.state.db)
        .await
        .expect("row");
    assert_eq!(title, "Change 249");
    assert_eq!(
        body.as_deref(),
        Some("Body of change 249, with a tab\tand \"quotes\".")
    );
    assert_eq!((files, adds), (1, 1));
    assert_eq!(email, "dev0@example.com");

    let again = client::sync(&config, &options()).await;
    assert_eq!((again[0].pending, again[0].sent), (0, 0), "nothing new");

    git.add_commits(30);
    let more = client::sync(&config, &options()).await;
    assert_eq!(
        (more[0].pending, more[0].inserted, more[0].skipped),
        (30, 30, 0)
    );
    assert_eq!(stored_commits(&app, repo).await, 280);

    // --full resends everything; the server skips it all.
    let full = client::sync(
        &config,
        &SyncOptions {
            full: true,
            ..options()
        },
    )
    .await;
    assert_eq!(
        (full[0].sent, full[0].inserted, full[0].skipped),
        (280, 0, 280)
    );
}

#[tokio::test]
async fn an_interrupted_sync_resumes_where_the_server_got_to() {
    // Four sync requests per minute per IP: the status call and three batches.
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_enabled = true;
        c.sync_rate_limit_per_minute = 4;
    })
    .await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let (_, key) = create_key(&app, &jwt, json!({})).await;
    let mut git = GitRepo::new();
    git.add_commits(500);
    let dir = TempDir::new("resume");
    let file = write_config(
        &dir.0,
        &app.url,
        Some(&key),
        (100, 0),
        (project, repo),
        git.path(),
    );
    let config = ClientConfig::load(&file).expect("config");

    let first = client::sync(&config, &options()).await;
    let error = first[0].error.clone().expect("interrupted by 429");
    assert!(error.contains("429"), "{error}");
    assert_eq!(first[0].sent, 300);
    assert_eq!(stored_commits(&app, repo).await, 300, "whole batches only");

    // Rerun through another replica (its own sync limiter): only the rest is sent.
    let replica = app.replica().await;
    let file = write_config(
        &dir.0,
        &replica.url,
        Some(&key),
        (100, 0),
        (project, repo),
        git.path(),
    );
    let config = ClientConfig::load(&file).expect("config");
    let second = client::sync(&config, &options()).await;
    assert_eq!(second[0].error, None);
    assert_eq!(
        (second[0].pending, second[0].inserted, second[0].skipped),
        (200, 200, 0)
    );
    assert_eq!(stored_commits(&app, repo).await, 500);
    let (_, status) = json_of(replica.get(&status_path(project, repo), Some(&key)).await).await;
    assert_eq!(status["last_ingested_sha"], git.head());
}

#[tokio::test]
async fn bad_keys_and_missing_repositories_fail_clearly() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let (key_id, key) = create_key(&app, &jwt, json!({})).await;
    let git = GitRepo::new(); // no commits
    let dir = TempDir::new("fail");
    let file = write_config(
        &dir.0,
        &app.url,
        Some(&key),
        (10, 0),
        (project, repo + 100),
        git.path(),
    );
    let config = ClientConfig::load(&file).expect("config");
    let reports = client::sync(&config, &options()).await;
    assert!(
        reports[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("main")),
        "{:?}",
        reports[0].error
    );

    let mut git = git;
    git.add_commits(3);
    let reports = client::sync(&config, &options()).await;
    assert!(
        reports[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("404")),
        "{:?}",
        reports[0].error
    );

    let path = format!("/api/v1/api-keys/{key_id}");
    app.send_json(reqwest::Method::DELETE, &path, &json!({}), Some(&jwt))
        .await;
    let error = client::test_connection(&config).await.expect_err("revoked");
    assert!(error.to_string().contains("401"), "{error}");

    let bad = write_config(
        &dir.0,
        &app.url,
        Some("not-a-key"),
        (10, 0),
        (project, repo),
        git.path(),
    );
    assert!(ClientConfig::load(&bad).is_err());
    let bad = write_config(
        &dir.0,
        &app.url,
        Some(&key),
        (1001, 0),
        (project, repo),
        git.path(),
    );
    let error = ClientConfig::load(&bad).expect_err("batch too big");
    assert!(error.to_string().contains("batch_size"), "{error}");
}

/// The real binary: key from GITPULSE_API_KEY, one clear error line and exit codes.
#[tokio::test]
async fn the_binary_syncs_and_fails_with_one_line() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let (_, key) = create_key(&app, &jwt, json!({})).await;
    let mut git = GitRepo::new();
    git.add_commits(20);
    let dir = TempDir::new("binary");
    let file = write_config(&dir.0, &app.url, None, (7, 0), (project, repo), git.path());
    let config = file.to_str().expect("utf-8").to_string();
    let run = |args: Vec<String>, key: Option<String>| async move {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_gitpulse"));
        command.args(&args).env_remove("GITPULSE_API_KEY");
        if let Some(key) = key {
            command.env("GITPULSE_API_KEY", key);
        }
        command.output().await.expect("gitpulse runs")
    };
    let args = |cmd: &str| {
        vec![
            "client".to_string(),
            cmd.to_string(),
            "--config".to_string(),
            config.clone(),
        ]
    };

    let output = run(args("sync"), Some(key.clone())).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("sent 20 commits, 20 new"), "{stdout}");
    assert_eq!(stored_commits(&app, repo).await, 20);

    let output = run(args("test"), Some(key.clone())).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("as alice"), "{stdout}");

    let output = run(args("sync"), None).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("GITPULSE_API_KEY"), "{stderr}");

    let output = run(args("init"), None).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));

    // A server that is down: one line, exit 1.
    let down = write_config(
        &dir.0,
        "http://127.0.0.1:9",
        Some(&key),
        (7, 0),
        (project, repo),
        git.path(),
    );
    let output = run(
        vec![
            "client".into(),
            "sync".into(),
            "--config".into(),
            down.to_str().expect("utf-8").into(),
        ],
        None,
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot reach"), "{stderr}");
}

async fn wait_for_total(
    app: &TestApp,
    jwt: &str,
    project: i64,
    repo: i64,
    total: i64,
) -> serde_json::Value {
    for _ in 0..150 {
        let (status, body) = json_of(app.get(&status_path(project, repo), Some(jwt)).await).await;
        assert_eq!(status, StatusCode::OK);
        if body["total_commits"] == total && body["status"] == "healthy" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("repository {repo} never reached {total} commits");
}

#[tokio::test]
async fn pull_repositories_pick_up_new_commits_without_a_client() {
    let mirrors = TempDir::new("mirrors");
    let mirror_dir = mirrors.0.clone();
    let app = TestApp::spawn_with(move |c| {
        c.backup_allow_local = true;
        c.pull_sync_interval_secs = 1;
        c.pull_mirror_dir = Some(mirror_dir);
    })
    .await;
    let jwt = app.register("alice").await;
    let project = create_project(&app, &jwt, "mirrored").await;
    let mut git = GitRepo::new();
    git.add_commits(1200);
    let body =
        json!({"name": "upstream", "sync_method": "pull", "remote_url": git.path().to_str()});
    let repo = create_repo(&app, &jwt, project, body).await;

    let status = wait_for_total(&app, &jwt, project, repo, 1200).await;
    assert_eq!(status["last_ingested_sha"], git.head());
    git.add_commits(5);
    let status = wait_for_total(&app, &jwt, project, repo, 1205).await;
    assert_eq!(status["last_ingested_sha"], git.head());
    assert_eq!(stored_commits(&app, repo).await, 1205);
    let (_, logs) = json_of(app.get("/api/v1/audit-logs", Some(&jwt)).await).await;
    assert_eq!(logs["data"][0]["action"], "commits.pulled");

    // A remote that cannot be fetched puts the repository in error, with a reason.
    let missing = git.path().join("does-not-exist");
    let body = json!({"name": "broken", "sync_method": "pull", "remote_url": missing.to_str()});
    let broken = create_repo(&app, &jwt, project, body).await;
    let mut last = json!(null);
    for _ in 0..100 {
        let (_, body) = json_of(app.get(&status_path(project, broken), Some(&jwt)).await).await;
        if body["status"] == "error" {
            last = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        last["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("fetching")),
        "{last}"
    );
}

#[tokio::test]
async fn run_due_syncs_each_due_pull_repository_once() {
    let mirrors = TempDir::new("mirrors");
    let mirror_dir = mirrors.0.clone();
    let app = TestApp::spawn_with(move |c| {
        c.backup_allow_local = true;
        c.pull_sync_interval_secs = 3600;
        c.pull_mirror_dir = Some(mirror_dir);
    })
    .await;
    let (jwt, _project, repo) = user_with_repo(&app, "alice").await;
    let mut git = GitRepo::new();
    git.add_commits(12);
    let patch = format!("/api/v1/repos/{repo}");
    let body =
        json!({"sync_method": "pull", "remote_url": format!("file://{}", git.path().display())});
    let response = app
        .send_json(reqwest::Method::PATCH, &patch, &body, Some(&jwt))
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    // The loop ran at start-up, before the switch; run a round by hand.
    let synced = gitpulse::jobs::pull_sync::run_due(&app.state)
        .await
        .expect("round");
    assert_eq!(synced, 1);
    assert_eq!(stored_commits(&app, repo).await, 12);
    let again = gitpulse::jobs::pull_sync::run_due(&app.state)
        .await
        .expect("round");
    assert_eq!(again, 0, "not due again for an hour");
}

/// A proxy in front of the server that answers 503, then 429 with `Retry-After: 1`, to
/// the first two pushes, and forwards everything else.
async fn flaky_proxy(upstream: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, Response};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let pushes = Arc::new(AtomicUsize::new(0));
    let counter = pushes.clone();
    let http = reqwest::Client::new();
    let handler = move |request: Request<Body>| {
        let (counter, http, upstream) = (counter.clone(), http.clone(), upstream.clone());
        async move {
            let is_push = request.uri().path().ends_with("/commits");
            if is_push {
                match counter.fetch_add(1, Ordering::SeqCst) {
                    0 => {
                        return Response::builder()
                            .status(503)
                            .body(Body::from("{\"message\":\"down\"}"))
                            .expect("response");
                    }
                    1 => {
                        return Response::builder()
                            .status(429)
                            .header("retry-after", "1")
                            .body(Body::from("{\"message\":\"slow down\"}"))
                            .expect("response");
                    }
                    _ => {}
                }
            }
            let method = request.method().clone();
            let url = format!("{upstream}{}", request.uri());
            let auth = request.headers().get("authorization").cloned();
            let body = to_bytes(request.into_body(), 1 << 26).await.expect("body");
            let mut forward = http
                .request(method, url)
                .header("content-type", "application/json")
                .body(body.to_vec());
            if let Some(auth) = auth {
                forward = forward.header("authorization", auth);
            }
            let answer = forward.send().await.expect("upstream");
            let status = answer.status().as_u16();
            let bytes = answer.bytes().await.expect("upstream body");
            Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Body::from(bytes))
                .expect("response")
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, axum::Router::new().fallback(handler)).await;
    });
    (format!("http://{addr}"), pushes)
}

#[tokio::test]
async fn server_errors_and_429_are_retried_with_backoff_and_retry_after() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let (_, key) = create_key(&app, &jwt, json!({})).await;
    let (proxy, pushes) = flaky_proxy(app.url.clone()).await;
    let mut git = GitRepo::new();
    git.add_commits(30);
    let dir = TempDir::new("retry");
    let file = write_config(
        &dir.0,
        &proxy,
        Some(&key),
        (10, 3),
        (project, repo),
        git.path(),
    );
    let config = ClientConfig::load(&file).expect("config");
    let started = std::time::Instant::now();
    let reports = client::sync(&config, &options()).await;
    assert_eq!(reports[0].error, None);
    assert_eq!((reports[0].sent, reports[0].inserted), (30, 30));
    assert_eq!(
        pushes.load(std::sync::atomic::Ordering::SeqCst),
        5,
        "3 batches + 2 failures"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(stored_commits(&app, repo).await, 30);

    // With no retries allowed, the first failure ends the sync (and a rerun resumes).
    let (proxy, _) = flaky_proxy(app.url.clone()).await;
    git.add_commits(5);
    let file = write_config(
        &dir.0,
        &proxy,
        Some(&key),
        (10, 0),
        (project, repo),
        git.path(),
    );
    let config = ClientConfig::load(&file).expect("config");
    let reports = client::sync(&config, &options()).await;
    assert!(
        reports[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("503")),
        "{:?}",
        reports[0].error
    );
    let file = write_config(
        &dir.0,
        &app.url,
        Some(&key),
        (10, 0),
        (project, repo),
        git.path(),
    );
    let config = ClientConfig::load(&file).expect("config");
    let reports = client::sync(&config, &options()).await;
    assert_eq!((reports[0].pending, reports[0].inserted), (5, 5));
}

#[tokio::test]
async fn batches_too_large_for_the_server_are_split() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 48 * 1024).await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let (_, key) = create_key(&app, &jwt, json!({})).await;
    let mut git = GitRepo::new();
    git.add_commits(300);
    let dir = TempDir::new("split");
    let file = write_config(
        &dir.0,
        &app.url,
        Some(&key),
        (1000, 0),
        (project, repo),
        git.path(),
    );
    let config = ClientConfig::load(&file).expect("config");
    let reports = client::sync(&config, &options()).await;
    assert_eq!(reports[0].error, None);
    assert_eq!((reports[0].sent, reports[0].inserted), (300, 300));
    let (_, status) = json_of(app.get(&status_path(project, repo), Some(&key)).await).await;
    assert_eq!(status["last_ingested_sha"], git.head(), "order kept");
}

/// What a new user hit: a wrong `api_url` used to retry silently for 14 seconds, and a
/// mistyped `path` was blamed on git.
#[tokio::test]
async fn a_wrong_api_url_fails_fast_and_a_missing_path_is_named() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let (_, key) = create_key(&app, &jwt, json!({})).await;
    let mut git = GitRepo::new();
    git.add_commits(2);
    let dir = TempDir::new("new-user");

    // Nothing listens on port 9: the first connection fails, so no retries.
    let wrong = write_config(
        &dir.0,
        "http://127.0.0.1:9",
        Some(&key),
        (10, 5),
        (project, repo),
        git.path(),
    );
    let started = std::time::Instant::now();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_gitpulse"))
        .args(["client", "test", "--config"])
        .arg(&wrong)
        .env_remove("GITPULSE_API_KEY")
        .output()
        .await
        .expect("gitpulse runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(3), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot reach the gitpulse server at http://127.0.0.1:9")
            && stderr.contains("api_url"),
        "{stderr}"
    );

    let missing = dir.0.join("no-such-clone");
    let file = write_config(
        &dir.0,
        &app.url,
        Some(&key),
        (10, 0),
        (project, repo),
        &missing,
    );
    let config = ClientConfig::load(&file).expect("config");
    let reports = client::sync(&config, &options()).await;
    let error = reports[0].error.as_deref().expect("an error");
    assert!(
        error.contains(&format!("{} does not exist", missing.display())),
        "{error}"
    );
    let (_, repos) = client::test_connection(&config).await.expect("connected");
    let error = repos[0].1.as_ref().expect_err("missing path").to_string();
    assert!(error.contains("does not exist"), "{error}");

    let help = std::process::Command::new(env!("CARGO_BIN_EXE_gitpulse"))
        .args(["client", "--help"])
        .output()
        .expect("gitpulse runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("YAML"), "{help}");
}
