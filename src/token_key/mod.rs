//! The token encryption key: the check at start that the configured key is the one that
//! encrypted the stored GitHub tokens, and `gitpulse rotate-key` (`rotate.rs`).
//!
//! The database keeps the key's fingerprint (`app_settings.token_key_fingerprint`, see
//! `TokenCipher::fingerprint`). While tokens are stored, a start with another key, or without
//! the key file, stops with one line instead of generating a new key: the tokens would be lost.
//! Every check and change holds one advisory lock, so starts and rotations never interleave.

mod file;
pub mod rotate;

use std::path::Path;

use sqlx::{PgConnection, PgPool};

use crate::config::{KeySource, Secret};
use crate::crypto::{TokenCipher, parse_key};
use crate::store::{integrations, settings};

pub use file::KeyFileError;

/// The `app_settings` key of the fingerprint.
pub const FINGERPRINT_SETTING: &str = "token_key_fingerprint";

#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error(
        "{origin} does not match the key that encrypted the stored GitHub tokens (fingerprint \
         {found}… expected {expected}…); restore that key (to change keys, run gitpulse \
         rotate-key with it in place)"
    )]
    Mismatch {
        origin: String,
        found: String,
        expected: String,
    },
    #[error(
        "the token encryption key file {path} is missing, but the database holds {count} GitHub \
         token(s) encrypted with a key{expected}; restore the file (no new key was generated){hint}"
    )]
    Missing {
        path: String,
        count: i64,
        expected: String,
        hint: &'static str,
    },
    #[error(
        "{origin} decrypts none of the {count} stored GitHub token(s); restore the key that \
         encrypted them"
    )]
    DecryptsNone { origin: String, count: usize },
    #[error("TOKEN_ENCRYPTION_KEY: {0}")]
    Setting(String),
    #[error(transparent)]
    File(#[from] KeyFileError),
    #[error("cannot check the token encryption key against the database: {0}")]
    Db(#[from] sqlx::Error),
}

/// The cipher of the configured key, once it is known to be the key of the stored tokens.
/// It writes (a new key file, the fingerprint) only after every check has passed; a key file
/// is generated only while no token is stored.
pub async fn load(db: &PgPool, source: &KeySource) -> Result<TokenCipher, KeyCheckError> {
    let mut tx = db.begin().await?;
    settings::lock_token_key_for_transaction(&mut tx).await?;
    let stored = settings::get(&mut tx, FINGERPRINT_SETTING).await?;
    let count = integrations::count_tokens(&mut tx).await?;
    let cipher = match source {
        KeySource::Setting(secret) => setting_key(secret)?,
        KeySource::File(path) => match file_key(path, stored.as_deref())? {
            Some(cipher) => cipher,
            None if count > 0 => return Err(missing(path, count, stored.as_deref())),
            None => file::create(path)?,
        },
    };
    let origin = || origin(source);
    match stored {
        Some(fp) if fp == cipher.fingerprint() => {}
        Some(fp) if count > 0 => {
            return Err(KeyCheckError::Mismatch {
                origin: origin(),
                found: short(cipher.fingerprint()).into(),
                expected: short(&fp).into(),
            });
        }
        Some(_) => {
            settings::put(&mut tx, FINGERPRINT_SETTING, cipher.fingerprint()).await?;
            tracing::info!(
                "the token encryption key changed while no GitHub token was stored; recorded the new key's fingerprint"
            );
        }
        None => {
            if count > 0 {
                check_decrypts_some(&mut tx, &cipher, &origin()).await?;
            }
            settings::put(&mut tx, FINGERPRINT_SETTING, cipher.fingerprint()).await?;
        }
    }
    tx.commit().await?;
    Ok(cipher)
}

fn setting_key(secret: &Secret) -> Result<TokenCipher, KeyCheckError> {
    let key = parse_key(secret.expose()).map_err(KeyCheckError::Setting)?;
    Ok(TokenCipher::new(&key))
}

/// The key file's key (`None` if it is missing). If the file does not hold the stored
/// fingerprint's key but `<file>.new` does, a rotation was interrupted after its commit: the
/// rename is finished here.
fn file_key(path: &Path, stored: Option<&str>) -> Result<Option<TokenCipher>, KeyCheckError> {
    let current = file::read(path)?;
    let Some(expected) = stored else {
        return Ok(current);
    };
    if current
        .as_ref()
        .is_some_and(|c| c.fingerprint() == expected)
    {
        return Ok(current);
    }
    match file::read(&file::pending_path(path))? {
        Some(pending) if pending.fingerprint() == expected => {
            file::finish_pending(path)?;
            tracing::info!(path = %path.display(), "finished an interrupted key rotation: the new key file is in place");
            Ok(Some(pending))
        }
        _ => Ok(current),
    }
}

fn missing(path: &Path, count: i64, stored: Option<&str>) -> KeyCheckError {
    KeyCheckError::Missing {
        path: path.display().to_string(),
        count,
        expected: stored
            .map(|fp| format!(" (fingerprint {}…)", short(fp)))
            .unwrap_or_default(),
        // Before the fingerprint existed the key file's default was relative to the start
        // directory.
        hint: match stored {
            None => {
                "; gitpulse before DATA_DIR kept it in ./data/token-encryption.key under the \
                 directory it was started from"
            }
            Some(_) => "",
        },
    }
}

/// A database from before the fingerprint: the key must decrypt at least one stored token.
async fn check_decrypts_some(
    conn: &mut PgConnection,
    cipher: &TokenCipher,
    origin: &str,
) -> Result<(), KeyCheckError> {
    let tokens = integrations::tokens_for_update(conn).await?;
    let failed = tokens
        .iter()
        .filter(|(_, ciphertext)| cipher.decrypt(ciphertext).is_err())
        .count();
    if failed == tokens.len() {
        return Err(KeyCheckError::DecryptsNone {
            origin: origin.into(),
            count: tokens.len(),
        });
    }
    if failed > 0 {
        tracing::warn!(
            undecryptable = failed,
            "some stored GitHub tokens were encrypted with another key; their users must sign in with GitHub again"
        );
    }
    Ok(())
}

/// How errors name the key: the setting, or the file it was read from.
fn origin(source: &KeySource) -> String {
    match source {
        KeySource::Setting(_) => "TOKEN_ENCRYPTION_KEY".into(),
        KeySource::File(path) => format!("the key in {}", path.display()),
    }
}

/// The first 8 hex digits of a fingerprint, enough to tell keys apart in a message.
fn short(fingerprint: &str) -> &str {
    fingerprint.get(..8).unwrap_or(fingerprint)
}
