//! DATA_DIR and the token encryption key, with the real binary: the key does not depend on
//! the working directory, a start with the wrong key (or none) while tokens are stored stops
//! with exit code 2 and writes nothing, and so does a start that cannot listen.

use std::path::{Path, PathBuf};

use gitpulse::crypto::{TokenCipher, parse_key};
use sqlx::PgPool;

use crate::support::process::{
    DroppedAtEnd, TempDir, assert_setup_error, entries, free_port, serve_in,
};
use crate::support::{database_url, fresh_database_name};

/// One test's database and directories: `data` (DATA_DIR, not created up front) and two
/// empty working directories.
pub struct Setup {
    pub url: String,
    pub dir: TempDir,
    pub data_dir: PathBuf,
    _database: DroppedAtEnd,
}

impl Setup {
    pub fn new() -> Self {
        let name = fresh_database_name();
        let dir = TempDir::new();
        let data_dir = dir.0.join("data");
        Self {
            url: database_url(&name),
            dir,
            data_dir,
            _database: DroppedAtEnd(name),
        }
    }

    pub fn key_file(&self) -> PathBuf {
        self.data_dir.join("token-encryption.key")
    }

    /// The settings of a start: the database and DATA_DIR, then `extra`.
    pub fn env<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![
            ("DATABASE_URL", self.url.as_str()),
            ("DATA_DIR", self.data_dir.to_str().expect("utf-8")),
        ];
        env.extend_from_slice(extra);
        env
    }

    pub async fn db(&self) -> PgPool {
        PgPool::connect(&self.url).await.expect("database")
    }
}

/// The key a key file holds.
pub fn key_in(path: &Path) -> TokenCipher {
    let text = std::fs::read_to_string(path).expect("key file");
    TokenCipher::new(&parse_key(&text).expect("a key"))
}

/// Stores a GitHub integration for a new user `login` whose token is `ciphertext`.
pub async fn store_token(db: &PgPool, login: &str, github_id: i64, ciphertext: &[u8]) -> i64 {
    let user: i64 = sqlx::query_scalar("insert into users (username) values ($1) returning id")
        .bind(login)
        .fetch_one(db)
        .await
        .expect("user");
    sqlx::query_scalar(
        "insert into github_integrations (user_id, github_id, github_login, profile, token_ciphertext)
         values ($1, $2, $3, '{}', $4) returning id",
    )
    .bind(user)
    .bind(github_id)
    .bind(login)
    .bind(ciphertext)
    .fetch_one(db)
    .await
    .expect("integration")
}

/// Every stored token, by integration id.
pub async fn stored_tokens(db: &PgPool) -> Vec<(i64, Vec<u8>)> {
    sqlx::query_as("select id, token_ciphertext from github_integrations order by id")
        .fetch_all(db)
        .await
        .expect("tokens")
}

pub async fn stored_fingerprint(db: &PgPool) -> Option<String> {
    sqlx::query_scalar("select value from app_settings where key = 'token_key_fingerprint'")
        .fetch_optional(db)
        .await
        .expect("fingerprint")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn two_working_directories_with_one_data_dir_share_the_key() {
    let setup = Setup::new();
    let (first, second) = (setup.dir.subdir("first"), setup.dir.subdir("second"));
    serve_in(&first, &setup.env(&[])).stopped();
    assert!(
        entries(&first).is_empty(),
        "nothing in the working directory"
    );
    let key = key_in(&setup.key_file());
    #[cfg(unix)]
    {
        assert_eq!(mode(&setup.key_file()), 0o600);
        assert_eq!(mode(&setup.data_dir), 0o700);
    }
    let db = setup.db().await;
    assert_eq!(
        stored_fingerprint(&db).await.as_deref(),
        Some(key.fingerprint())
    );
    store_token(&db, "octocat", 1, &key.encrypt("gho_first")).await;

    serve_in(&second, &setup.env(&[])).stopped();
    assert!(
        entries(&second).is_empty(),
        "nothing in the working directory"
    );
    let again = key_in(&setup.key_file());
    assert_eq!(again.fingerprint(), key.fingerprint(), "the same key");
    let tokens = stored_tokens(&db).await;
    assert_eq!(again.decrypt(&tokens[0].1).expect("decrypts"), "gho_first");
}

#[tokio::test]
async fn another_key_while_tokens_are_stored_stops_with_code_2_and_writes_no_key() {
    let setup = Setup::new();
    let cwd = setup.dir.subdir("cwd");
    serve_in(&cwd, &setup.env(&[])).stopped();
    let key = key_in(&setup.key_file());
    let db = setup.db().await;
    store_token(&db, "octocat", 1, &key.encrypt("gho_token")).await;
    let short = &key.fingerprint()[..8];

    // Another key in the key file.
    let other = "ab".repeat(32);
    std::fs::write(setup.key_file(), &other).expect("replace the key");
    let output = serve_in(&cwd, &setup.env(&[])).failed();
    assert_setup_error(
        &output,
        "does not match the key that encrypted the stored GitHub tokens",
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains(&format!("expected {short}…")));
    assert_eq!(
        std::fs::read_to_string(setup.key_file()).expect("key"),
        other
    );

    // Another key in TOKEN_ENCRYPTION_KEY; neither key is ever shown.
    let output = serve_in(
        &cwd,
        &setup.env(&[("TOKEN_ENCRYPTION_KEY", &"cd".repeat(32))]),
    )
    .failed();
    assert_setup_error(
        &output,
        "gitpulse: error: TOKEN_ENCRYPTION_KEY does not match the key that encrypted",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains(&"cd".repeat(32)) && !stderr.contains(&other),
        "{stderr}"
    );

    // No key file: no new key either.
    std::fs::remove_file(setup.key_file()).expect("remove the key");
    let output = serve_in(&cwd, &setup.env(&[])).failed();
    assert_setup_error(
        &output,
        "is missing, but the database holds 1 GitHub token(s)",
    );
    assert!(!setup.key_file().exists(), "no key was generated");

    // Another (empty) data directory over the same database: it is not even created.
    let elsewhere = setup.dir.0.join("elsewhere");
    let mut env = setup.env(&[]);
    env[1].1 = elsewhere.to_str().expect("utf-8");
    let output = serve_in(&cwd, &env).failed();
    assert_setup_error(&output, "is missing");
    assert!(!elsewhere.exists());
    assert!(entries(&cwd).is_empty());
    assert_eq!(
        stored_fingerprint(&db).await.as_deref(),
        Some(key.fingerprint())
    );
}

#[tokio::test]
async fn a_start_that_fails_writes_nothing() {
    let setup = Setup::new();
    let cwd = setup.dir.subdir("cwd");
    // The port is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let output =
        crate::support::process::run_in(&cwd, &["serve"], &setup.env(&[("LISTEN_ADDR", &addr)]));
    assert_setup_error(&output, &format!("cannot listen on {addr}"));
    // The database is unreachable.
    let unreachable = format!("postgres://postgres@127.0.0.1:{}/x", free_port());
    let mut env = setup.env(&[]);
    env[0].1 = &unreachable;
    let output = serve_in(&cwd, &env).failed();
    assert_setup_error(&output, "cannot reach the database");
    // A bad setting.
    let output = serve_in(&cwd, &setup.env(&[("BACKUP_DIR", "backups")])).failed();
    assert_setup_error(&output, "BACKUP_DIR: must be an absolute path");

    assert!(!setup.data_dir.exists(), "DATA_DIR was not created");
    assert!(entries(&cwd).is_empty(), "nothing in the working directory");
    drop(taken);
}
