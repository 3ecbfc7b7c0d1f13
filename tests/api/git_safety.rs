//! Git against hostile or slow remotes: no database connection is held while git talks
//! to the network, the global git limit answers 503 with `Retry-After`, redirects are
//! never followed, and local addresses are refused with the real reason.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

use crate::support::{TestApp, json_of};

const COMPANY: &str = "6385c0f18eca0fb652c94558";

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

/// A backup directory removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "gitpulse-git-safety-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    /// Every file and directory below the root.
    fn entries(&self) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                out.push(entry.path());
                if entry.path().is_dir() {
                    walk(&entry.path(), out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
        out
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A remote that accepts connections and never answers (git waits in the TLS handshake),
/// holding every connection until [`StallingRemote::release`].
struct StallingRemote {
    port: u16,
    accepted: Arc<AtomicUsize>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    task: tokio::task::JoinHandle<()>,
}

impl StallingRemote {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (count, keep) = (accepted.clone(), held.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                keep.lock().await.push(stream);
            }
        });
        Self {
            port,
            accepted,
            held,
            task,
        }
    }

    /// Closes every held connection and stops accepting: the clones fail at once.
    async fn release(&self) {
        self.task.abort();
        self.held.lock().await.clear();
    }
}

async fn timed_get(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, Duration) {
    let started = Instant::now();
    let request = crate::support::with_token(app.request(reqwest::Method::GET, path), token)
        .timeout(Duration::from_secs(15));
    let status = match request.send().await {
        Ok(response) => response.status(),
        Err(e) => panic!("GET {path} did not answer: {e}"),
    };
    (status, started.elapsed())
}

#[tokio::test]
async fn slow_clones_hold_no_database_connection_and_the_git_limit_answers_503() {
    let remote = StallingRemote::start().await;
    let backups = TempDir::new();
    let dir = backups.0.clone();
    let app = TestApp::spawn_with(move |c| {
        c.backup_dir = Some(dir);
        c.backup_allow_local = true;
        c.backup_allowed_hosts = vec!["127.0.0.1".into()];
        // Fewer connections than clones in flight: a clone holding one would starve
        // every other route.
        c.database_max_connections = 3;
        c.git_max_concurrency = 4;
        c.git_timeout_secs = 60;
    })
    .await;
    let token = app.register("alice").await;
    let url = format!("https://127.0.0.1:{}/octo/slow.git", remote.port);

    let mut clones = Vec::new();
    for i in 0..4 {
        let request = app
            .request(reqwest::Method::POST, "/backup/repositoryClone/")
            .bearer_auth(&token)
            .json(&registration(&format!("slow-{i}"), &url))
            .timeout(Duration::from_secs(90))
            .send();
        clones.push(tokio::spawn(request));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while remote.accepted.load(Ordering::SeqCst) < 4 {
        assert!(
            Instant::now() < deadline,
            "only {} clones reached the remote",
            remote.accepted.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Four clones are in flight; every other route still answers at once.
    for _ in 0..3 {
        let (status, took) = timed_get(&app, "/auth/me", Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(took < Duration::from_secs(1), "/auth/me took {took:?}");
        let (status, took) = timed_get(&app, "/readyz", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(took < Duration::from_secs(1), "/readyz took {took:?}");
    }

    // One more registration: the git limit is full, so 503 with Retry-After, quickly.
    let started = Instant::now();
    let response = app
        .request(reqwest::Method::POST, "/backup/repositoryClone/")
        .bearer_auth(&token)
        .json(&registration("one-too-many", &url))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .expect("answers");
    let took = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|s| s > 0), "{retry_after:?}");
    let (_, body) = json_of(response).await;
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(took < Duration::from_secs(5), "the 503 took {took:?}");
    assert_eq!(
        remote.accepted.load(Ordering::SeqCst),
        4,
        "the refused registration never ran git"
    );

    // The remote hangs up: each clone fails with 400, leaving no row and no directory.
    remote.release().await;
    for clone in clones {
        let response = clone.await.expect("joined").expect("answered");
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Could not clone the repository")),
            "{body}"
        );
    }
    let rows: i64 = sqlx::query_scalar("select count(*) from backup_repositories")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(rows, 0);
    let leftovers: Vec<_> = backups
        .entries()
        .into_iter()
        .filter(|p| !p.is_dir())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let dirs: Vec<_> = backups
        .entries()
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "git") || p.to_string_lossy().contains(".partial-")
        })
        .collect();
    assert!(dirs.is_empty(), "{dirs:?}");
}

/// A plain HTTP server answering every request with `answer`, counting requests.
async fn http_server(answer: String) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let count = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let count = count.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                count.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (port, hits)
}

#[tokio::test]
async fn git_never_follows_a_redirect() {
    // The target: what a redirect would lead to (an internal admin page, say).
    let (target_port, target_hits) = http_server(
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
    )
    .await;
    let location = format!(
        "http://127.0.0.1:{target_port}/internal-admin/repo.git/info/refs?service=git-upload-pack"
    );
    let (port, hits) = http_server(format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ))
    .await;

    let backups = TempDir::new();
    let dir = backups.0.clone();
    let app = TestApp::spawn_with(move |c| {
        c.backup_dir = Some(dir);
        // Local remotes allowed, so only the redirect rule can stop the second request.
        c.backup_allow_local = true;
        c.backup_allowed_hosts = vec!["127.0.0.1".into()];
    })
    .await;
    let token = app.register("alice").await;
    let url = format!("http://127.0.0.1:{port}/octo/repo.git");
    let (status, body) = json_of(
        app.post_json(
            "/backup/repositoryClone/",
            &registration("redirected", &url),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Could not clone the repository") && message.contains("redirect"),
        "{body}"
    );
    assert!(hits.load(Ordering::SeqCst) >= 1, "the remote was asked");
    assert_eq!(
        target_hits.load(Ordering::SeqCst),
        0,
        "the redirect target received a request"
    );
    let rows: i64 = sqlx::query_scalar("select count(*) from backup_repositories")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn local_addresses_are_refused_with_the_reason() {
    let backups = TempDir::new();
    let dir = backups.0.clone();
    let app = TestApp::spawn_with(move |c| {
        c.backup_dir = Some(dir);
        c.backup_allowed_hosts = vec!["github.com".into(), "localhost".into()];
    })
    .await;
    let token = app.register("alice").await;

    let (status, body) = json_of(
        app.post_json(
            "/backup/repositoryClone/",
            &registration("v6", "https://[::1]/x.git"),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "repository_url", "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("[::1], a loopback address")
            && message.contains("BACKUP_ALLOW_LOCAL=true")
            && !message.contains("transport::address"),
        "{body}"
    );

    // A name on the allow-list that resolves to a loopback address: refused by the
    // address check before git runs.
    let (status, body) = json_of(
        app.post_json(
            "/backup/repositoryClone/",
            &registration("named", "https://localhost/x.git"),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("localhost resolves to") && message.contains("loopback"),
        "{body}"
    );
}

/// A `pull` repository is saved without contacting its remote, but a host that resolves
/// to a local address now (or an address that carries a local IPv4 address, such as
/// NAT64's `64:ff9b::7f00:1`) is a 400 at once instead of a sync error later; a host that
/// cannot be resolved is saved (the sync reports it).
#[tokio::test]
async fn pull_repositories_with_local_addresses_are_refused_when_saved() {
    let app = TestApp::spawn_with(|c| {
        c.backup_allowed_hosts = vec!["localhost".into(), "unresolvable.invalid".into()];
    })
    .await;
    let token = app.register("alice").await;
    let (status, project) = json_of(
        app.post_json(
            "/api/v1/projects",
            &json!({"name": "Mirrors", "slug": "mirrors"}),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let repos = format!("/api/v1/projects/{}/repos", project["id"]);
    for (name, url, reason) in [
        ("named", "https://localhost/x.git", "resolves to"),
        (
            "nat64",
            "https://[64:ff9b::7f00:1]/x.git",
            "a loopback address",
        ),
        ("6to4", "https://[2002:a00:1::1]/x.git", "a private address"),
    ] {
        let body = json!({"name": name, "sync_method": "pull", "remote_url": url});
        let (status, error) = json_of(app.post_json(&repos, &body, Some(&token)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("remote_url") && message.contains(reason),
            "{url}: {error}"
        );
    }
    let body = json!({"name": "later", "sync_method": "pull",
                      "remote_url": "https://unresolvable.invalid/x.git"});
    let (status, repo) = json_of(app.post_json(&repos, &body, Some(&token)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{repo}");

    // Switching a repository to pull with a local remote is refused the same way.
    let body = json!({"name": "pushed"});
    let (status, pushed) = json_of(app.post_json(&repos, &body, Some(&token)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{pushed}");
    let (status, error) = json_of(
        app.send_json(
            reqwest::Method::PATCH,
            &format!("/api/v1/repos/{}", pushed["id"]),
            &json!({"sync_method": "pull", "remote_url": "https://localhost/y.git"}),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let rows: i64 = sqlx::query_scalar("select count(*) from project_repos")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(
        rows, 2,
        "only the unresolvable and the pushed repositories are saved"
    );
}
