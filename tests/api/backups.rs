//! Repository backups: register a local repository (real `git`), send GitHub's signed
//! webhooks, and check the archives on disk, the reports and the downloads.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{TestApp, json_of};

const PUSH_FIXTURE: &str = include_str!("../fixtures/webhooks/push.payload.json");
const PING_FIXTURE: &str = include_str!("../fixtures/webhooks/ping.payload.json");
const COMPANY: &str = "6385c0f18eca0fb652c94558";
const REPO: &str = "100058-editor";

/// A directory removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "gitpulse-{label}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A repository with one commit on `main`; returns its path.
fn source_repository(root: &Path) -> PathBuf {
    let dir = root.join("source");
    std::fs::create_dir_all(&dir).expect("source dir");
    git(&dir, &["init", "--quiet"]);
    std::fs::write(dir.join("README.md"), "# editor\n").expect("write");
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "--quiet", "-m", "first"]);
    dir
}

/// Commits a change to `file`; returns the new head.
fn commit(dir: &Path, file: &str, content: &str) -> String {
    std::fs::write(dir.join(file), content).expect("write");
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", &format!("change {file}")]);
    git(dir, &["rev-parse", "HEAD"])
}

struct Setup {
    app: TestApp,
    token: String,
    backups: TempDir,
    work: TempDir,
    user_id: i64,
}

/// Everything under `root` that is a file, a mirror (`*.git`) or a scratch clone.
fn leftovers(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !path.is_dir() || name.ends_with(".git") || name.contains(".partial-") {
                found.push(path);
            } else {
                pending.push(path);
            }
        }
    }
    found
}

async fn user_id(app: &TestApp, token: &str) -> i64 {
    let (status, me) = json_of(app.get("/auth/me", Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    me["id"].as_i64().expect("id")
}

impl Setup {
    async fn new(keep: u32) -> Self {
        Self::with_hosts(keep, &[]).await
    }

    /// Like [`Setup::new`], with more hosts on `BACKUP_ALLOWED_HOSTS`.
    async fn with_hosts(keep: u32, hosts: &[&str]) -> Self {
        let backups = TempDir::new("backups");
        let work = TempDir::new("repos");
        let dir = backups.0.clone();
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let app = TestApp::spawn_with(move |c| {
            c.backup_dir = Some(dir);
            c.backup_allow_local = true;
            c.backup_keep = keep;
            c.backup_allowed_hosts.extend(hosts);
            c.public_url = Some("https://backups.example.com/".into());
        })
        .await;
        let token = app.register("alice").await;
        let user_id = user_id(&app, &token).await;
        Self {
            app,
            token,
            backups,
            work,
            user_id,
        }
    }

    /// Registers `name` for `url`; returns the response body.
    async fn register(&self, name: &str, url: &str) -> (StatusCode, Value) {
        self.register_as(&self.token, name, url).await
    }

    /// Registers `name` for `url` as the user of `token`.
    async fn register_as(&self, token: &str, name: &str, url: &str) -> (StatusCode, Value) {
        let body = registration(name, url);
        json_of(
            self.app
                .post_json("/backup/repositoryClone/", &body, Some(token))
                .await,
        )
        .await
    }

    async fn registered(&self, name: &str, url: &str) -> String {
        let (status, body) = self.register(name, url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["webhook_secret"]
            .as_str()
            .expect("webhook_secret")
            .to_string()
    }

    async fn backup_report(&self, token: &str) -> Vec<Value> {
        let (status, body) = json_of(
            self.app
                .get(&format!("/get-backup-reports/{COMPANY}/"), Some(token))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["isSuccess"], true);
        body["data"].as_array().expect("data").clone()
    }

    /// Waits until backup `id` leaves `queued`/`running`; returns its report entry.
    async fn finished(&self, id: i64) -> Value {
        self.finished_for(&self.token, id).await
    }

    /// Same as [`Setup::finished`], as the user of `token`.
    async fn finished_for(&self, token: &str, id: i64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let report = self.backup_report(token).await;
            let entry = report.iter().find(|b| b["backup_id"] == id);
            if let Some(entry) = entry
                && !matches!(entry["status"].as_str(), Some("queued" | "running"))
            {
                return entry.clone();
            }
            assert!(Instant::now() < deadline, "backup {id} never finished");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Where the caller's registrations under `COMPANY` keep their files.
    fn company_dir(&self) -> PathBuf {
        self.storage_of(self.user_id)
    }

    fn storage_of(&self, user_id: i64) -> PathBuf {
        self.backups
            .0
            .join(gitpulse::backups::storage_dir(user_id, COMPANY))
    }

    fn zips(&self) -> Vec<String> {
        Self::zips_in(&self.company_dir())
    }

    fn zips_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".zip"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

fn registration(name: &str, url: &str) -> Value {
    json!({
        "repository_name": name,
        "repository_url": url,
        "org_name": "octo-org",
        "company_id": COMPANY,
        "data_type": "real_data",
        "created_by": "alice",
    })
}

/// GitHub's push fixture, made a branch push with two commits' worth of files.
fn push_body() -> Vec<u8> {
    let mut payload: Value = serde_json::from_str(PUSH_FIXTURE).expect("fixture");
    payload["ref"] = json!("refs/heads/main");
    payload["commits"] = json!([
        {"id": "1", "added": ["src/new.rs"], "modified": ["README.md"], "removed": []},
        {"id": "2", "added": ["docs/a.md", "src/new.rs"], "modified": ["README.md", "Cargo.toml"], "removed": ["old.txt"]},
    ]);
    serde_json::to_vec(&payload).expect("json")
}

fn sign(secret: &str, body: &[u8]) -> String {
    gitpulse::backups::sign(secret.as_bytes(), body)
}

/// Sends a webhook as GitHub would; `signature` None sends none.
async fn deliver(
    app: &TestApp,
    path: &str,
    event: &str,
    delivery: &str,
    body: &[u8],
    signature: Option<&str>,
) -> (StatusCode, Value, Duration) {
    let mut request = app
        .request(Method::POST, path)
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("user-agent", "GitHub-Hookshot/test")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    let started = Instant::now();
    let response = request.send().await.expect("webhook sent");
    let elapsed = started.elapsed();
    let (status, body) = json_of(response).await;
    (status, body, elapsed)
}

async fn push(setup: &Setup, secret: &str, delivery: &str) -> (StatusCode, Value, Duration) {
    let body = push_body();
    deliver(
        &setup.app,
        &format!("/backup/{COMPANY}/{REPO}/"),
        "push",
        delivery,
        &body,
        Some(&sign(secret, &body)),
    )
    .await
}

fn delivery() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn register_push_archive_report_and_download() {
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    let url = format!("file://{}", source.display());

    let (status, body) = setup.register(REPO, &url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "100058-editor has been cloned.");
    assert_eq!(
        body["webhook_link"],
        format!("https://backups.example.com/backup/{COMPANY}/{REPO}/")
    );
    let secret = body["webhook_secret"].as_str().expect("secret").to_string();
    assert_eq!(secret.len(), 64);
    assert!(setup.company_dir().join("100058-editor.git/HEAD").is_file());
    assert_eq!(
        count(
            &setup.app,
            "select count(*) from audit_logs where action = 'backup.registered'"
        )
        .await,
        1,
        "the registration is in the audit log"
    );

    // Both spellings of the repository report, scoped to the caller, without the secret.
    for path in [
        format!("/get-respository-reports/{COMPANY}/"),
        format!("/get-repository-reports/{COMPANY}"),
    ] {
        let response = setup.app.get(&path, Some(&setup.token)).await;
        let text = response.text().await.expect("text");
        assert!(
            !text.contains(&secret),
            "the secret never appears in reports"
        );
        let report: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(report["isSuccess"], true);
        let entry = &report["data"][0];
        assert_eq!(entry["function_number"], "100058");
        assert_eq!(entry["repository_name"], REPO);
        assert_eq!(entry["repository_url"], url);
        assert_eq!(entry["org_name"], "octo-org");
        assert_eq!(entry["company_id"], COMPANY);
        assert_eq!(entry["data_type"], "real_data");
        assert_eq!(entry["created_by"], "alice");
        assert_eq!(entry["webhook_link"], body["webhook_link"]);
        assert_eq!(
            entry["date_of_registration"].as_str().map(str::len),
            Some(10)
        );
        assert_eq!(
            entry["time_of_registration"].as_str().map(str::len),
            Some(8)
        );
    }

    // GitHub's ping when the webhook is created.
    let ping = PING_FIXTURE.as_bytes();
    let (status, answer, _) = deliver(
        &setup.app,
        &format!("/backup/{COMPANY}/{REPO}/"),
        "ping",
        &delivery(),
        ping,
        Some(&sign(&secret, ping)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // A new commit, then the push webhook.
    let head = commit(&source, "src.txt", "new work\n");
    let delivery_id = delivery();
    let (status, answer, elapsed) = push(&setup, &secret, &delivery_id).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["message"], "Backup queued");
    assert!(elapsed < Duration::from_secs(1), "answered in {elapsed:?}");
    let backup_id = answer["backup_id"].as_i64().expect("backup_id");

    let queued_at = Instant::now();
    let entry = setup.finished(backup_id).await;
    assert_eq!(entry["status"], "done", "{entry}");
    // The webhook wakes the worker: no waiting for a poll.
    let took = queued_at.elapsed();
    assert!(took < Duration::from_secs(5), "backup took {took:?}");
    let zip_name = format!("{REPO} {delivery_id}.zip");
    assert_eq!(entry["zip_file_name"], zip_name);
    assert_eq!(entry["function_number"], "100058");
    assert_eq!(entry["company_id"], COMPANY);
    assert_eq!(entry["pusher"], "Codertocat");
    assert_eq!(entry["added_files"], json!(["src/new.rs", "docs/a.md"]));
    assert_eq!(entry["modified_files"], json!(["README.md", "Cargo.toml"]));
    assert_eq!(entry["removed_files"], json!(["old.txt"]));
    assert!(entry["error"].is_null());
    assert_eq!(entry["backup_date"].as_str().map(str::len), Some(10));
    assert_eq!(entry["backup_time"].as_str().map(str::len), Some(8));

    // The archive on disk: the mirror's files, with the pushed commit.
    let path = setup.company_dir().join(&zip_name);
    let bytes = std::fs::read(&path).expect("archive on disk");
    assert_eq!(entry["size_bytes"], bytes.len() as u64);
    assert_eq!(entry["sha256"], sha256_hex(&bytes));
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).expect("a zip archive");
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    for expected in ["HEAD", "config", "refs/", "objects/"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let mut refs = String::new();
    for name in ["refs/heads/main", "packed-refs"] {
        if let Ok(mut file) = archive.by_name(name) {
            file.read_to_string(&mut refs).expect("read ref");
        }
    }
    assert!(
        refs.contains(&head),
        "the pushed commit {head} is in {refs}"
    );

    // The download is the same file.
    let response = setup
        .app
        .get(&format!("/backup/archives/{backup_id}"), Some(&setup.token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(disposition, format!("attachment; filename=\"{zip_name}\""));
    let downloaded = response.bytes().await.expect("bytes");
    assert_eq!(
        sha256_hex(&downloaded),
        entry["sha256"].as_str().expect("sha")
    );

    // Without a token: 401.
    let response = setup
        .app
        .get(&format!("/backup/archives/{backup_id}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn webhook_signatures_are_required() {
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    let secret = setup.registered(REPO, &source.display().to_string()).await;
    let body = push_body();
    let path = format!("/backup/{COMPANY}/{REPO}/");
    let wrong_secret = sign("not-the-secret", &body);
    let tampered = sign(&secret, b"another body");
    for signature in [
        None,
        Some("sha256=deadbeef"),
        Some("garbage"),
        Some(wrong_secret.as_str()),
        Some(tampered.as_str()),
    ] {
        let (status, answer, _) =
            deliver(&setup.app, &path, "push", &delivery(), &body, signature).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{signature:?}: {answer}");
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|m| m.contains("X-Hub-Signature-256"))
        );
    }
    // The owner can rotate the secret; the old one stops working, the new one works.
    let rotate = format!("/backup/repositories/{COMPANY}/{REPO}/rotate-secret");
    let bob = setup.app.register("bob").await;
    let response = setup.app.post_json(&rotate, &json!({}), Some(&bob)).await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "only the owner rotates"
    );
    let (status, rotated) = json_of(
        setup
            .app
            .post_json(&rotate, &json!({}), Some(&setup.token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["webhook_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert_ne!(new_secret, secret);
    let ping = PING_FIXTURE.as_bytes();
    let (status, _, _) = deliver(
        &setup.app,
        &path,
        "ping",
        &delivery(),
        ping,
        Some(&sign(&secret, ping)),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old secret is revoked"
    );
    let secret = new_secret;

    // An unsigned ping is refused too.
    let (status, _, _) = deliver(&setup.app, &path, "ping", &delivery(), b"{}", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&setup.app, "select count(*) from backups").await, 0);

    // The right secret works, and other events are acknowledged but ignored.
    let issues = br#"{"action":"opened"}"#;
    let (status, answer, _) = deliver(
        &setup.app,
        &path,
        "issues",
        &delivery(),
        issues,
        Some(&sign(&secret, issues)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("ignored"))
    );
    assert_eq!(count(&setup.app, "select count(*) from backups").await, 0);
}

#[tokio::test]
async fn a_repeated_delivery_is_backed_up_once() {
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    let secret = setup.registered(REPO, &source.display().to_string()).await;
    let id = delivery();
    let (status, first, _) = push(&setup, &secret, &id).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let (status, second, _) = push(&setup, &secret, &id).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["backup_id"], first["backup_id"]);
    let entry = setup
        .finished(first["backup_id"].as_i64().expect("id"))
        .await;
    assert_eq!(entry["status"], "done");
    let (status, third, _) = push(&setup, &secret, &id).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    assert_eq!(count(&setup.app, "select count(*) from backups").await, 1);
    assert_eq!(setup.zips().len(), 1);
}

#[tokio::test]
async fn unknown_registrations_are_404() {
    let setup = Setup::new(30).await;
    let body = push_body();
    for path in [
        format!("/backup/{COMPANY}/nothing-here/"),
        format!("/backup/{COMPANY}/nothing-here"),
        "/backup/unknown/repo/".to_string(),
        "/backup/%2E%2E/repo/".to_string(),
    ] {
        let (status, answer, _) = deliver(
            &setup.app,
            &path,
            "push",
            &delivery(),
            &body,
            Some(&sign("x", &body)),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
    }
}

#[tokio::test]
async fn registration_validates_names_urls_and_duplicates() {
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    let local = source.display().to_string();

    let (status, body) = json_of(
        setup
            .app
            .post_json(
                "/backup/repositoryClone/",
                &json!({"repository_name": REPO, "company_id": " "}),
                Some(&setup.token),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "Missing required fields: repository_url, org_name, company_id, data_type, created_by"
    );

    for (name, url, field) in [
        ("..", local.as_str(), "repository_name"),
        (".", local.as_str(), "repository_name"),
        ("a/b", local.as_str(), "repository_name"),
        ("../../etc", local.as_str(), "repository_name"),
        (REPO, "https://evil.example.com/a/b.git", "repository_url"),
        (REPO, "http://github.com/a/b.git", "repository_url"),
        (REPO, "--upload-pack=touch /tmp/pwned", "repository_url"),
        (REPO, "-oProxyCommand=x", "repository_url"),
        (REPO, "ext::sh -c touch% /tmp/pwned", "repository_url"),
        (REPO, "ext::sh", "repository_url"),
        (
            REPO,
            "https://user:hunter2@github.com/a/b.git",
            "repository_url",
        ),
        (REPO, "relative/path", "repository_url"),
    ] {
        let (status, body) = setup.register(name, url).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name} {url}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{name} {url}: {body}");
        assert!(!body.to_string().contains("hunter2"), "{body}");
    }

    let mut bad_company = registration(REPO, &local);
    bad_company["company_id"] = json!("..");
    let (status, body) = json_of(
        setup
            .app
            .post_json("/backup/repositoryClone", &bad_company, Some(&setup.token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "company_id");

    // A clone that fails leaves nothing behind.
    let missing = setup.work.0.join("does-not-exist");
    let (status, body) = setup.register(REPO, &missing.display().to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Could not clone the repository")),
        "{body}"
    );
    assert_eq!(
        count(&setup.app, "select count(*) from backup_repositories").await,
        0
    );
    let left = leftovers(&setup.backups.0);
    assert!(left.is_empty(), "{left:?}");

    // Registered once (without the trailing slash), refused the second time.
    let (status, body) = json_of(
        setup
            .app
            .post_json(
                "/backup/repositoryClone",
                &registration(REPO, &local),
                Some(&setup.token),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = setup.register(REPO, &local).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("already registered"))
    );
    let (status, _) = setup.register(&REPO.to_uppercase(), &local).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "names are unique regardless of case"
    );
    assert_eq!(
        count(&setup.app, "select count(*) from backup_repositories").await,
        1
    );

    // Without a token: 401.
    let response = setup
        .app
        .post_json("/backup/repositoryClone/", &registration("x", &local), None)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn local_urls_need_the_setting() {
    let backups = TempDir::new("backups");
    let work = TempDir::new("repos");
    let source = source_repository(&work.0);
    let dir = backups.0.clone();
    let app = TestApp::spawn_with(move |c| c.backup_dir = Some(dir)).await;
    let token = app.register("alice").await;
    for url in [
        format!("file://{}", source.display()),
        source.display().to_string(),
    ] {
        let (status, body) = json_of(
            app.post_json(
                "/backup/repositoryClone/",
                &registration(REPO, &url),
                Some(&token),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert_eq!(body["errors"][0]["field"], "repository_url");
    }
    assert_eq!(
        count(&app, "select count(*) from backup_repositories").await,
        0
    );
    assert_eq!(std::fs::read_dir(&backups.0).expect("dir").count(), 0);
}

#[tokio::test]
async fn only_the_newest_archives_are_kept() {
    let setup = Setup::new(2).await;
    let source = source_repository(&setup.work.0);
    let secret = setup.registered(REPO, &source.display().to_string()).await;
    let mut ids = Vec::new();
    for round in 0..3 {
        commit(&source, "file.txt", &format!("round {round}\n"));
        let (status, answer, _) = push(&setup, &secret, &delivery()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        let id = answer["backup_id"].as_i64().expect("id");
        assert_eq!(setup.finished(id).await["status"], "done");
        ids.push(id);
    }
    let report = setup.backup_report(&setup.token).await;
    let status_of = |id: i64| {
        report
            .iter()
            .find(|b| b["backup_id"] == id)
            .map(|b| b["status"].clone())
    };
    assert_eq!(status_of(ids[0]), Some(json!("pruned")));
    assert_eq!(status_of(ids[1]), Some(json!("done")));
    assert_eq!(status_of(ids[2]), Some(json!("done")));
    let zips = setup.zips();
    assert_eq!(zips.len(), 2, "{zips:?}");
    let pruned_name = report
        .iter()
        .find(|b| b["backup_id"] == ids[0])
        .and_then(|b| b["zip_file_name"].as_str())
        .expect("name")
        .to_string();
    assert!(!zips.contains(&pruned_name));
    let response = setup
        .app
        .get(&format!("/backup/archives/{}", ids[0]), Some(&setup.token))
        .await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "pruned archives are gone"
    );
}

#[tokio::test]
async fn a_failing_fetch_is_reported() {
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    let secret = setup.registered(REPO, &source.display().to_string()).await;
    std::fs::remove_dir_all(&source).expect("source deleted");

    let (status, answer, _) = push(&setup, &secret, &delivery()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let id = answer["backup_id"].as_i64().expect("id");
    let entry = setup.finished(id).await;
    assert_eq!(entry["status"], "failed", "{entry}");
    let error = entry["error"].as_str().expect("error message");
    assert!(
        error.starts_with("Fetching the repository failed"),
        "{error}"
    );
    assert!(entry["sha256"].is_null() && entry["size_bytes"].is_null());
    assert!(setup.zips().is_empty());
    let response = setup
        .app
        .get(&format!("/backup/archives/{id}"), Some(&setup.token))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn other_users_see_nothing() {
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    let secret = setup.registered(REPO, &source.display().to_string()).await;
    let (_, answer, _) = push(&setup, &secret, &delivery()).await;
    let id = answer["backup_id"].as_i64().expect("id");
    assert_eq!(setup.finished(id).await["status"], "done");

    let bob = setup.app.register("bob").await;
    for path in [
        format!("/get-respository-reports/{COMPANY}/"),
        format!("/get-repository-reports/{COMPANY}/"),
        format!("/get-backup-reports/{COMPANY}/"),
        format!("/get-backup-reports/{COMPANY}"),
    ] {
        let (status, body) = json_of(setup.app.get(&path, Some(&bob)).await).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, json!({"isSuccess": true, "data": []}), "{path}");
    }
    let response = setup
        .app
        .get(&format!("/backup/archives/{id}"), Some(&bob))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = setup
        .app
        .get(&format!("/get-backup-reports/{COMPANY}/"), None)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn two_users_register_the_same_names_without_seeing_each_other() {
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    let url = source.display().to_string();
    let alice_secret = setup.registered(REPO, &url).await;

    // Bob registers the very same names: accepted, nothing tells him Alice has them.
    let bob = setup.app.register("bob").await;
    let bob_id = user_id(&setup.app, &bob).await;
    let (status, body) = setup.register_as(&bob, REPO, &url).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["webhook_link"],
        format!("https://backups.example.com/backup/{COMPANY}/{REPO}/"),
        "the seed's link shape"
    );
    let bob_secret = body["webhook_secret"].as_str().expect("secret").to_string();
    assert_ne!(bob_secret, alice_secret);
    // Names stay unique per user, regardless of case.
    let (status, body) = setup.register_as(&bob, &REPO.to_uppercase(), &url).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("already registered")),
        "{body}"
    );

    // Each sees only their own registration.
    for token in [&setup.token, &bob] {
        let (status, body) = json_of(
            setup
                .app
                .get(&format!("/get-repository-reports/{COMPANY}/"), Some(token))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"].as_array().map(Vec::len), Some(1), "{body}");
    }

    // A push signed with Bob's secret is Bob's backup; one signed with Alice's is hers.
    let (status, answer, _) = push(&setup, &bob_secret, &delivery()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let bob_backup = answer["backup_id"].as_i64().expect("id");
    assert_eq!(setup.finished_for(&bob, bob_backup).await["status"], "done");
    assert!(setup.backup_report(&setup.token).await.is_empty());
    let (status, answer, _) = push(&setup, &alice_secret, &delivery()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let alice_backup = answer["backup_id"].as_i64().expect("id");
    assert_eq!(setup.finished(alice_backup).await["status"], "done");
    let ids = |report: Vec<Value>| -> Vec<i64> {
        report
            .iter()
            .filter_map(|b| b["backup_id"].as_i64())
            .collect()
    };
    assert_eq!(ids(setup.backup_report(&setup.token).await), [alice_backup]);
    assert_eq!(ids(setup.backup_report(&bob).await), [bob_backup]);

    // A signature made with neither secret: 401, no backup.
    let (status, _, _) = push(&setup, "neither-secret", &delivery()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Mirrors and archives live apart.
    let alice_dir = setup.company_dir();
    let bob_dir = setup.storage_of(bob_id);
    assert_ne!(alice_dir, bob_dir);
    for dir in [&alice_dir, &bob_dir] {
        assert!(
            dir.join(format!("{REPO}.git/HEAD")).is_file(),
            "{}",
            dir.display()
        );
        assert_eq!(Setup::zips_in(dir).len(), 1, "{}", dir.display());
    }

    // Downloads stay the caller's own.
    let mine = setup
        .app
        .get(
            &format!("/backup/archives/{alice_backup}"),
            Some(&setup.token),
        )
        .await;
    assert_eq!(mine.status(), StatusCode::OK);
    let theirs = setup
        .app
        .get(
            &format!("/backup/archives/{bob_backup}"),
            Some(&setup.token),
        )
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn registrations_made_before_names_were_per_user_keep_their_files() {
    // A registration as the old layout stored it: `{BACKUP_DIR}/{company_id}/`.
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    let secret = setup.registered(REPO, &source.display().to_string()).await;
    let legacy = setup.backups.0.join(COMPANY);
    std::fs::create_dir_all(&legacy).expect("legacy dir");
    std::fs::rename(
        setup.company_dir().join(format!("{REPO}.git")),
        legacy.join(format!("{REPO}.git")),
    )
    .expect("move the mirror");
    sqlx::query("update backup_repositories set storage_dir = company_id")
        .execute(&setup.app.state.db)
        .await
        .expect("old layout");
    let (status, answer, _) = push(&setup, &secret, &delivery()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let id = answer["backup_id"].as_i64().expect("id");
    assert_eq!(setup.finished(id).await["status"], "done");
    assert_eq!(Setup::zips_in(&legacy).len(), 1);
    let response = setup
        .app
        .get(&format!("/backup/archives/{id}"), Some(&setup.token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_webhook_answers_at_once_while_backups_run() {
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    // A few megabytes of incompressible data make each backup take a moment.
    let mut noise = vec![0u8; 8 * 1024 * 1024];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut noise);
    std::fs::write(source.join("noise.bin"), &noise).expect("noise");
    git(&source, &["add", "."]);
    git(&source, &["commit", "--quiet", "-m", "noise"]);
    let secret = setup.registered(REPO, &source.display().to_string()).await;

    let mut ids = Vec::new();
    let mut slowest = Duration::ZERO;
    for _ in 0..4 {
        let (status, answer, elapsed) = push(&setup, &secret, &delivery()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        slowest = slowest.max(elapsed);
        ids.push(answer["backup_id"].as_i64().expect("id"));
    }
    assert!(
        slowest < Duration::from_secs(1),
        "slowest answer {slowest:?}"
    );
    for id in ids {
        assert_eq!(setup.finished(id).await["status"], "done");
    }
}

#[tokio::test]
async fn replicas_never_run_a_backup_twice() {
    let setup = Setup::new(30).await;
    let replica = setup.app.replica().await;
    let source = source_repository(&setup.work.0);
    let secret = setup.registered(REPO, &source.display().to_string()).await;
    let mut ids = Vec::new();
    for round in 0..4 {
        let body = push_body();
        // Alternate the replica GitHub's load balancer picks.
        let app = if round % 2 == 0 { &setup.app } else { &replica };
        let (status, answer, _) = deliver(
            app,
            &format!("/backup/{COMPANY}/{REPO}/"),
            "push",
            &delivery(),
            &body,
            Some(&sign(&secret, &body)),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        ids.push(answer["backup_id"].as_i64().expect("id"));
    }
    for id in &ids {
        assert_eq!(setup.finished(*id).await["status"], "done");
    }
    assert_eq!(
        count(
            &setup.app,
            "select count(*) from backups where attempts <> 1"
        )
        .await,
        0,
        "every backup ran exactly once"
    );
    assert_eq!(setup.zips().len(), 4);
}

#[tokio::test]
async fn a_backup_abandoned_by_a_crashed_worker_is_retried() {
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    setup.registered(REPO, &source.display().to_string()).await;
    let db = &setup.app.state.db;
    // Two backups left `running` by a worker that died: one on its first attempt, one
    // that has used up its attempts. Their repository's lease is still live at first.
    sqlx::query("update backup_repositories set lease_expires_at = now() + interval '1 hour'")
        .execute(db)
        .await
        .expect("lease");
    let ids: Vec<i64> = sqlx::query_scalar(
        "insert into backups (repository_id, delivery_id, zip_file_name, status, attempts)
         select id, d, repository_name || ' ' || d || '.zip', 'running', a
         from backup_repositories, (values ('crash-1', 1), ('crash-2', 3)) as v(d, a)
         returning id",
    )
    .fetch_all(db)
    .await
    .expect("insert");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let report = setup.backup_report(&setup.token).await;
    assert!(
        report.iter().all(|b| b["status"] == "running"),
        "a live lease is respected: {report:?}"
    );

    sqlx::query("update backup_repositories set lease_expires_at = now() - interval '1 second'")
        .execute(db)
        .await
        .expect("expire");
    let retried = setup.finished(ids[0]).await;
    assert_eq!(retried["status"], "done", "{retried}");
    let given_up = setup.finished(ids[1]).await;
    assert_eq!(given_up["status"], "failed", "{given_up}");
    assert!(
        given_up["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("Gave up after 3 attempts"))
    );
}

#[tokio::test]
async fn the_webhook_is_not_rate_limited_per_user() {
    let backups = TempDir::new("backups");
    let work = TempDir::new("repos");
    let source = source_repository(&work.0);
    let dir = backups.0.clone();
    let app = TestApp::spawn_with(move |c| {
        c.backup_dir = Some(dir);
        c.backup_allow_local = true;
        c.rate_limit_enabled = true;
        c.rate_limit_per_hour = 2;
    })
    .await;
    let token = app.register("alice").await;
    let (status, body) = json_of(
        app.post_json(
            "/backup/repositoryClone/",
            &registration(REPO, &source.display().to_string()),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = body["webhook_secret"].as_str().expect("secret").to_string();
    let ping = PING_FIXTURE.as_bytes();
    for _ in 0..5 {
        let (status, answer, _) = deliver(
            &app,
            &format!("/backup/{COMPANY}/{REPO}/"),
            "ping",
            &delivery(),
            ping,
            Some(&sign(&secret, ping)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
}

#[tokio::test]
async fn backup_routes_are_documented() {
    let app = TestApp::spawn().await;
    let (_, doc) = json_of(app.get("/openapi.json", None).await).await;
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/backup/repositoryClone/",
        "/backup/repositoryClone",
        "/backup/{company_id}/{repository_name}/",
        "/get-respository-reports/{company_id}/",
        "/get-repository-reports/{company_id}/",
        "/get-backup-reports/{company_id}/",
        "/backup/archives/{backup_id}",
        "/backup/repositories/{company_id}/{repository_name}/rotate-secret",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
}

#[tokio::test]
async fn webhooks_answer_while_a_backup_runs_and_shutdown_requeues_it() {
    let setup = Setup::with_hosts(30, &["127.0.0.1"]).await;
    let source = source_repository(&setup.work.0);
    let secret = setup.registered(REPO, &source.display().to_string()).await;
    // Then the remote becomes slow: a server that accepts connections and never answers
    // (git waits in the TLS handshake until the worker is stopped).
    let stalling = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = stalling.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut streams = Vec::new();
        while let Ok((stream, _)) = stalling.accept().await {
            streams.push(stream);
        }
    });
    sqlx::query("update backup_repositories set repository_url = $1")
        .bind(format!("https://127.0.0.1:{port}/octo/slow.git"))
        .execute(&setup.app.state.db)
        .await
        .expect("slow remote");
    let db = setup.app.state.db.clone();
    let status_of = |id: i64| {
        let db = db.clone();
        async move {
            sqlx::query_as::<_, (String, i32)>("select status, attempts from backups where id = $1")
                .bind(id)
                .fetch_one(&db)
                .await
                .expect("backup row")
        }
    };

    let (status, first, _) = push(&setup, &secret, &delivery()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let first = first["backup_id"].as_i64().expect("id");
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_of(first).await.0 != "running" {
        assert!(Instant::now() < deadline, "the backup never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The webhook answers at once while the worker is busy.
    let (status, second, elapsed) = push(&setup, &secret, &delivery()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    assert!(elapsed < Duration::from_secs(1), "answered in {elapsed:?}");
    let second = second["backup_id"].as_i64().expect("id");
    assert_eq!(status_of(first).await.0, "running");

    // Shutdown: the running backup goes back to the queue without using an attempt, and
    // nothing more is claimed.
    setup.app.state.shutdown.cancel();
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_of(first).await.0 != "queued" {
        assert!(Instant::now() < deadline, "the backup was not requeued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status_of(first).await, ("queued".to_string(), 0));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(status_of(second).await, ("queued".to_string(), 0));
    assert!(setup.zips().is_empty());
    let lease: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select lease_expires_at from backup_repositories")
            .fetch_one(&db)
            .await
            .expect("lease");
    assert!(lease.is_none(), "the repository lease is released");
    held.abort();
}

#[tokio::test]
async fn deleting_the_account_removes_its_mirrors_and_archives() {
    let setup = Setup::new(30).await;
    let source = source_repository(&setup.work.0);
    let url = format!("file://{}", source.display());
    let secret = setup.registered(REPO, &url).await;
    let (status, body, _) = push(&setup, &secret, &delivery()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let entry = setup
        .finished(body["backup_id"].as_i64().expect("id"))
        .await;
    assert_eq!(entry["status"], "done", "{entry}");
    // Bob has the same names; his files must survive Alice's deletion.
    let bob = setup.app.register("bob").await;
    let (status, answer) = setup.register_as(&bob, REPO, &url).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let bob_dir = setup.storage_of(user_id(&setup.app, &bob).await);
    assert_eq!(setup.zips().len(), 1);

    let (status, answer) = json_of(
        setup
            .app
            .send_json(
                Method::DELETE,
                "/auth/me",
                &json!({"password": "correct horse battery"}),
                Some(&setup.token),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["removed"]["backup_registrations"], 1);
    assert_eq!(answer["removed"]["backups"], 1);
    assert!(
        !setup.company_dir().exists(),
        "{:?}",
        leftovers(&setup.company_dir())
    );
    assert!(bob_dir.join(format!("{REPO}.git/HEAD")).is_file());
    assert_eq!(
        count(&setup.app, "select count(*) from backup_repositories").await,
        1
    );
}
