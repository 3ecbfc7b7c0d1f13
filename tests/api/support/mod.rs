//! Test support: a real gitpulse server on port 0 over its own fresh database.

pub mod process;
pub mod push;

use fake_github::FakeGitHub;
use gitpulse::AppState;
use gitpulse::config::{Config, Secret};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The server that owns test databases: `TEST_DATABASE_URL`, else the local PostgreSQL.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// `admin_url` with its database name replaced by `name`.
pub fn database_url(name: &str) -> String {
    let admin = admin_url();
    let (base, _) = admin
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL has a database name");
    format!("{base}/{name}")
}

/// A throwaway database name; the server creates the database on start.
pub fn fresh_database_name() -> String {
    format!("gitpulse_test_{}", uuid::Uuid::new_v4().simple())
}

/// The data directory of the test over `database` (created only if something is written).
pub fn test_data_dir(database: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("gitpulse-data-{database}"))
}

/// Settings for tests: a fresh database and data directory, a fixed token encryption key,
/// limits off.
pub fn test_config(database: &str) -> Config {
    Config {
        database_url: Secret::new(database_url(database)),
        data_dir: Some(test_data_dir(database)),
        database_max_connections: 5,
        rate_limit_enabled: false,
        // A fixed key, so no test writes a key file into the working directory.
        token_encryption_key: Some(Secret::new("7".repeat(64))),
        ..Config::default()
    }
}

pub struct TestApp {
    pub url: String,
    pub state: AppState,
    pub client: reqwest::Client,
    pub database: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    owns_database: bool,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server whose settings `adjust` may change first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let database = fresh_database_name();
        let mut config = test_config(&database);
        adjust(&mut config);
        Self::start(config, database, true).await
    }

    /// Starts a server that talks to `github` (a fake GitHub) for its GitHub calls.
    pub async fn with_github(github: &FakeGitHub, adjust: impl FnOnce(&mut Config)) -> Self {
        let url = github.url();
        Self::spawn_with(move |config| {
            config.github_api_url = url.clone();
            config.github_web_url = url;
            adjust(config);
        })
        .await
    }

    /// A second server over the same database (replicas).
    pub async fn replica(&self) -> Self {
        self.replica_with(|_| {}).await
    }

    /// A second server over the same database whose settings `adjust` may change first.
    pub async fn replica_with(&self, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = (*self.state.config).clone();
        adjust(&mut config);
        Self::start(config, self.database.clone(), false).await
    }

    /// Binds port 0 first so that, unless a test set one, `PUBLIC_URL` is the real address
    /// (OAuth redirects and webhook links then lead back to this server).
    async fn start(mut config: Config, database: String, owns_database: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("local addr");
        config
            .public_url
            .get_or_insert_with(|| format!("http://{addr}"));
        let state = gitpulse::start(config).await.expect("server starts");
        let (stop, stopped) = oneshot::channel::<()>();
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            gitpulse::launch(server_state, listener, shutdown)
                .await
                .expect("server runs");
        });
        Self {
            url: format!("http://{addr}"),
            state,
            client: reqwest::Client::builder().build().expect("http client"),
            database,
            stop: Some(stop),
            server: Some(server),
            owns_database,
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        with_token(self.request(Method::GET, path), token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> Response {
        with_token(self.request(method, path), token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        self.send_json(Method::POST, path, body, token).await
    }

    /// Registers `username` and returns its access token.
    pub async fn register(&self, username: &str) -> String {
        let response = self
            .post_json(
                "/auth/register",
                &json!({"username": username, "password": "correct horse battery"}),
                None,
            )
            .await;
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::OK, "register {username}: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// A GitHub integration (with a placeholder token) for the registered user `username`,
    /// for tests that store documents directly; returns its id.
    pub async fn integration_for(&self, username: &str, github_id: i64) -> i64 {
        sqlx::query_scalar(
            "insert into github_integrations (user_id, github_id, github_login, profile, token_ciphertext)
             select id, $2, $1, '{}', '\\x00' from users where username = $1 returning id",
        )
        .bind(username)
        .bind(github_id)
        .fetch_one(&self.state.db)
        .await
        .expect("integration")
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        self.state.shutdown.cancel();
        if self.owns_database {
            drop_database(&self.database);
            let _ = std::fs::remove_dir_all(test_data_dir(&self.database));
        }
    }
}

/// Drops a test database from a helper thread (Drop cannot await, and may run
/// inside a runtime).
pub fn drop_database(name: &str) {
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(runtime) = runtime {
            runtime.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::query(&sql).execute(&mut conn).await;
                }
            });
        }
    })
    .join();
}

pub fn with_token(builder: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(token) => builder.bearer_auth(token),
        None => builder,
    }
}

/// Status and JSON body of a response (panics with the raw text if it is not JSON).
pub async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}
