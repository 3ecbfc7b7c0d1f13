//! Helpers for API keys, projects, pushed commits and local git repositories.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{TestApp, json_of};

/// Creates an API key with `body` (name added) and returns (id, full key).
pub async fn create_key(app: &TestApp, token: &str, mut body: Value) -> (i64, String) {
    body["name"] = body.get("name").cloned().unwrap_or(json!("test key"));
    let (status, key) = json_of(app.post_json("/api/v1/api-keys/", &body, Some(token)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    (
        key["id"].as_i64().expect("id"),
        key["full_key"].as_str().expect("full_key").to_string(),
    )
}

pub async fn create_project(app: &TestApp, token: &str, slug: &str) -> i64 {
    let body = json!({"name": format!("Project {slug}"), "slug": slug});
    let (status, project) =
        json_of(app.post_json("/api/v1/projects", &body, Some(token)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    project["id"].as_i64().expect("id")
}

pub async fn create_repo(app: &TestApp, token: &str, project: i64, body: Value) -> i64 {
    let path = format!("/api/v1/projects/{project}/repos");
    let (status, repo) = json_of(app.post_json(&path, &body, Some(token)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{repo}");
    repo["id"].as_i64().expect("id")
}

/// A user with a project holding one push_client repository: (jwt, project, repo).
pub async fn user_with_repo(app: &TestApp, username: &str) -> (String, i64, i64) {
    let token = app.register(username).await;
    let project = create_project(app, &token, "main").await;
    let repo = create_repo(
        app,
        &token,
        project,
        json!({"name": "api", "sync_method": "push_client"}),
    )
    .await;
    (token, project, repo)
}

pub fn push_path(project: i64, repo: i64) -> String {
    format!("/api/v1/sync/projects/{project}/repos/{repo}/commits")
}

pub fn status_path(project: i64, repo: i64) -> String {
    format!("/api/v1/sync/projects/{project}/repos/{repo}/status")
}

/// The sha of fake commit `i`.
pub fn sha(i: usize) -> String {
    format!("{i:040x}")
}

/// A valid commit with a made-up sha.
pub fn fake_commit(i: usize) -> Value {
    json!({
        "sha": sha(i),
        "author_name": "Alice Developer",
        "author_email": "Alice@Example.com",
        "committer_name": "Alice Developer",
        "committer_email": "alice@example.com",
        "commit_date": "2026-01-02T12:00:00Z",
        "message_title": format!("Commit number {i}"),
        "message_body": "Some detail",
        "additions": 10, "deletions": 2, "files_changed": 1,
        "is_merge": false, "parent_count": 1,
    })
}

pub fn fake_commits(range: std::ops::Range<usize>) -> Vec<Value> {
    range.map(fake_commit).collect()
}

pub async fn stored_commits(app: &TestApp, repo: i64) -> i64 {
    sqlx::query_scalar("select count(*) from repo_commits where repo_id = $1")
        .bind(repo)
        .fetch_one(&app.state.db)
        .await
        .expect("count")
}

/// A throwaway directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "gitpulse-{label}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A local git repository on branch `main`, filled quickly with `git fast-import`.
pub struct GitRepo {
    pub dir: TempDir,
    commits: usize,
}

impl GitRepo {
    pub fn new() -> Self {
        let dir = TempDir::new("repo");
        git(&dir.0, &["init", "-q", "-b", "main"]);
        Self { dir, commits: 0 }
    }

    pub fn path(&self) -> &Path {
        &self.dir.0
    }

    /// Appends `n` commits to `main` (each changes one file) and returns their count so far.
    pub fn add_commits(&mut self, n: usize) -> usize {
        let mut stream = String::new();
        for k in 0..n {
            let i = self.commits + k;
            let message =
                format!("Change {i}\n\nBody of change {i}, with a tab\tand \"quotes\".\n");
            let content = format!("line {i}\nanother line\n");
            stream.push_str("commit refs/heads/main\n");
            let when = 1_700_000_000 + i * 60;
            stream.push_str(&format!(
                "author Dev {} <dev{}@example.com> {when} +0000\n",
                i % 3,
                i % 3
            ));
            stream.push_str(&format!(
                "committer Dev {} <dev{}@example.com> {when} +0000\n",
                i % 3,
                i % 3
            ));
            stream.push_str(&format!("data {}\n{message}", message.len()));
            if k == 0 && self.commits > 0 {
                stream.push_str("from refs/heads/main^0\n");
            }
            stream.push_str(&format!(
                "M 100644 inline file{}.txt\ndata {}\n{content}\n",
                i % 7,
                content.len()
            ));
        }
        let mut child = Command::new("git")
            .args(["fast-import", "--quiet"])
            .current_dir(self.path())
            .stdin(Stdio::piped())
            .spawn()
            .expect("git fast-import");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stream.as_bytes())
            .expect("stream");
        assert!(child.wait().expect("wait").success(), "fast-import failed");
        self.commits += n;
        self.commits
    }

    pub fn head(&self) -> String {
        git(self.path(), &["rev-parse", "main"]).trim().to_string()
    }
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
