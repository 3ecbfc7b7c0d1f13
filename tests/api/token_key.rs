//! The key check at start over one database: the fingerprint follows the key while no token
//! is stored, a database from before the fingerprint keeps its key, and an interrupted
//! rotation is finished.

use gitpulse::config::{Config, Secret};
use gitpulse::crypto::{TokenCipher, parse_key};

use crate::data_dir::{key_in, store_token, stored_fingerprint, stored_tokens};
use crate::support::process::{DroppedAtEnd, TempDir};
use crate::support::{fresh_database_name, test_config};

const KEY_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const KEY_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn cipher(key: &str) -> TokenCipher {
    TokenCipher::new(&parse_key(key).expect("key"))
}

fn with_key(database: &str, key: &str) -> Config {
    Config {
        token_encryption_key: Some(Secret::new(key)),
        ..test_config(database)
    }
}

async fn start(config: Config) -> Result<gitpulse::AppState, gitpulse::StartupError> {
    gitpulse::start(config).await
}

/// The error line of a start that must fail.
async fn refused(config: Config) -> String {
    match gitpulse::start(config).await {
        Ok(_) => panic!("the server started"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn the_fingerprint_follows_the_key_only_while_no_token_is_stored() {
    let database = fresh_database_name();
    let _cleanup = DroppedAtEnd(database.clone());
    let state = start(with_key(&database, KEY_A)).await.expect("starts");
    let db = state.db.clone();
    assert_eq!(
        stored_fingerprint(&db).await.as_deref(),
        Some(cipher(KEY_A).fingerprint())
    );

    let state = start(with_key(&database, KEY_B))
        .await
        .expect("no token yet");
    assert_eq!(
        stored_fingerprint(&db).await.as_deref(),
        Some(cipher(KEY_B).fingerprint())
    );
    store_token(&db, "octocat", 1, &state.token_cipher.encrypt("gho_b")).await;

    let err = refused(with_key(&database, KEY_A)).await;
    assert!(
        err.starts_with(
            "TOKEN_ENCRYPTION_KEY does not match the key that encrypted the stored GitHub tokens"
        ),
        "{err}"
    );
    start(with_key(&database, KEY_B)).await.expect("its key");
    db.close().await;
}

#[tokio::test]
async fn a_database_from_before_the_fingerprint_keeps_the_key_of_its_tokens() {
    let database = fresh_database_name();
    let _cleanup = DroppedAtEnd(database.clone());
    let state = start(with_key(&database, KEY_A)).await.expect("starts");
    let db = state.db.clone();
    sqlx::query("delete from app_settings where key = 'token_key_fingerprint'")
        .execute(&db)
        .await
        .expect("as before the fingerprint");
    store_token(&db, "octocat", 1, &cipher(KEY_A).encrypt("gho_a")).await;

    let err = refused(with_key(&database, KEY_B)).await;
    assert!(
        err.contains("TOKEN_ENCRYPTION_KEY decrypts none of the 1 stored GitHub token(s)"),
        "{err}"
    );
    assert_eq!(stored_fingerprint(&db).await, None);
    start(with_key(&database, KEY_A)).await.expect("its key");
    assert_eq!(
        stored_fingerprint(&db).await.as_deref(),
        Some(cipher(KEY_A).fingerprint())
    );
    db.close().await;
}

#[tokio::test]
async fn a_rotation_interrupted_after_its_commit_is_finished_at_start() {
    let database = fresh_database_name();
    let _cleanup = DroppedAtEnd(database.clone());
    let dir = TempDir::new();
    // The key file in DATA_DIR.
    let config = || Config {
        data_dir: Some(dir.0.join("data")),
        token_encryption_key: None,
        ..test_config(&database)
    };
    let state = start(config()).await.expect("starts");
    let db = state.db.clone();
    let key_file = dir.0.join("data/token-encryption.key");
    let old = key_in(&key_file);
    assert_eq!(old.fingerprint(), state.token_cipher.fingerprint());

    // What rotate-key leaves if it stops right after its commit: the new key in `.new`, the
    // database already on it.
    let pending = dir.0.join("data/token-encryption.key.new");
    std::fs::write(&pending, KEY_B).expect("pending key");
    store_token(&db, "octocat", 1, &cipher(KEY_B).encrypt("gho_b")).await;
    sqlx::query("update app_settings set value = $1 where key = 'token_key_fingerprint'")
        .bind(cipher(KEY_B).fingerprint())
        .execute(&db)
        .await
        .expect("fingerprint");

    let state = start(config()).await.expect("starts with the new key");
    assert_eq!(key_in(&key_file).fingerprint(), cipher(KEY_B).fingerprint());
    assert!(!pending.exists());
    let tokens = stored_tokens(&db).await;
    assert_eq!(
        state.token_cipher.decrypt(&tokens[0].1).expect("decrypts"),
        "gho_b"
    );
    db.close().await;
}
