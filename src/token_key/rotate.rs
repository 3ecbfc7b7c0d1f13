//! `gitpulse rotate-key`: every stored token re-encrypted with a new key in one transaction.
//!
//! The order keeps the tokens readable whatever stops the command: every token is decrypted
//! first (one that cannot be aborts before anything is written); the new key goes to
//! `<key file>.new`; the tokens and the fingerprint change in one commit; then `.new` is
//! renamed over the key file. A crash before the commit leaves the old key in use (the `.new`
//! is ignored); a crash after it leaves the database on the key in `.new`, and the next start
//! (or rotation) finishes the rename. The advisory lock keeps starts out meanwhile. When the
//! key is `TOKEN_ENCRYPTION_KEY`, nothing is written to disk: the operator sets the variable.

use std::path::PathBuf;

use sqlx::{Connection, PgConnection};

use super::{FINGERPRINT_SETTING, KeyCheckError, KeyFileError, file, file_key, origin, short};
use crate::config::{Config, ConfigError, KeySource};
use crate::crypto::{TokenCipher, parse_key, random_key};
use crate::db::{self, DbError};
use crate::store::{integrations, settings};

#[derive(Debug, clap::Args)]
pub struct RotateKeyArgs {
    /// Read the new key from PATH (64 hex characters or base64 of 32 bytes). The environment
    /// variable NEW_TOKEN_ENCRYPTION_KEY may give it instead.
    #[arg(long, value_name = "PATH", conflicts_with = "generate")]
    pub new_key_file: Option<PathBuf>,
    /// Generate a new random key (only when the key is in a key file).
    #[arg(long)]
    pub generate: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("database error, nothing was changed: {0}")]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Check(#[from] KeyCheckError),
    #[error(transparent)]
    File(#[from] KeyFileError),
    #[error(
        "give the new key with exactly one of --new-key-file PATH, NEW_TOKEN_ENCRYPTION_KEY or --generate"
    )]
    NoNewKey,
    #[error(
        "--generate needs a key file, but the key is TOKEN_ENCRYPTION_KEY: give the new key with \
         --new-key-file PATH or NEW_TOKEN_ENCRYPTION_KEY"
    )]
    GenerateWithSetting,
    #[error("NEW_TOKEN_ENCRYPTION_KEY: {0}")]
    NewKeySetting(String),
    #[error("there is no current key: {0} does not exist (gitpulse serve creates it)")]
    NoCurrentKey(String),
    #[error("the new key is the current key; nothing was changed")]
    SameKey,
    #[error(
        "{count} stored GitHub token(s) cannot be decrypted with the current key (integration \
         ids {ids}); nothing was changed"
    )]
    Undecryptable { count: usize, ids: String },
    #[error(
        "the commit failed ({reason}); {pending} is kept: if the commit went through, the next \
         start puts it in place"
    )]
    Commit {
        reason: sqlx::Error,
        pending: String,
    },
    #[error(
        "the tokens now use the new key in {pending}, but it could not be put in place ({reason}); \
         the next start does it"
    )]
    Finish {
        pending: String,
        reason: KeyFileError,
    },
}

/// The new key, and how the operator gave it.
struct NewKey {
    cipher: TokenCipher,
    text: String,
    given_as: String,
}

/// Runs the command; prints what it did (never a key) and what the operator does next.
pub async fn run(
    config: &Config,
    args: &RotateKeyArgs,
    new_key_setting: Option<String>,
) -> Result<(), RotateError> {
    let source = config.data_paths()?.key;
    let new = new_key(&source, args, new_key_setting)?;
    let pool = db::connect(config.database_url.expose(), 2).await?;
    db::migrate(&pool).await?;
    let mut conn = pool.acquire().await?;
    settings::lock_token_key(&mut conn).await?;
    let rotated = rotate_locked(&mut conn, &source, &new).await;
    let _ = settings::unlock_token_key(&mut conn).await;
    drop(conn);
    pool.close().await;
    let count = rotated?;
    let fingerprint = short(new.cipher.fingerprint());
    match &source {
        KeySource::File(path) => println!(
            "Re-encrypted {count} GitHub token(s). The new key (fingerprint {fingerprint}…) is in \
             {}: back it up, and restart every gitpulse server; the old key is refused from now on.",
            path.display()
        ),
        KeySource::Setting(_) => println!(
            "Re-encrypted {count} GitHub token(s) with the new key (fingerprint {fingerprint}…). \
             Set TOKEN_ENCRYPTION_KEY to it ({}) wherever gitpulse runs, then restart: the old \
             key is refused from now on.",
            new.given_as
        ),
    }
    Ok(())
}

fn new_key(
    source: &KeySource,
    args: &RotateKeyArgs,
    setting: Option<String>,
) -> Result<NewKey, RotateError> {
    let setting = setting.filter(|v| !v.trim().is_empty());
    let (key, given_as) = match (&args.new_key_file, setting, args.generate) {
        (Some(path), None, false) => {
            let text = std::fs::read_to_string(path).map_err(|e| KeyFileError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let key = parse_key(&text).map_err(|reason| KeyFileError::Invalid {
                path: path.display().to_string(),
                reason,
            })?;
            (key, format!("the key in {}", path.display()))
        }
        (None, Some(text), false) => {
            let key = parse_key(&text).map_err(RotateError::NewKeySetting)?;
            (key, "the value of NEW_TOKEN_ENCRYPTION_KEY".into())
        }
        (None, None, true) if matches!(source, KeySource::Setting(_)) => {
            return Err(RotateError::GenerateWithSetting);
        }
        (None, None, true) => (random_key(), "generated".into()),
        _ => return Err(RotateError::NoNewKey),
    };
    Ok(NewKey {
        cipher: TokenCipher::new(&key),
        text: hex::encode(key),
        given_as,
    })
}

/// The rotation itself, under the token key lock; the number of tokens re-encrypted.
async fn rotate_locked(
    conn: &mut PgConnection,
    source: &KeySource,
    new: &NewKey,
) -> Result<usize, RotateError> {
    let stored = settings::get(conn, FINGERPRINT_SETTING).await?;
    let current = match source {
        KeySource::Setting(secret) => super::setting_key(secret)?,
        KeySource::File(path) => file_key(path, stored.as_deref())?
            .ok_or_else(|| RotateError::NoCurrentKey(path.display().to_string()))?,
    };
    if current.fingerprint() == new.cipher.fingerprint() {
        return Err(RotateError::SameKey);
    }
    let mut tx = conn.begin().await?;
    let tokens = integrations::tokens_for_update(&mut tx).await?;
    if let Some(expected) = stored.as_deref()
        && expected != current.fingerprint()
        && !tokens.is_empty()
    {
        return Err(KeyCheckError::Mismatch {
            origin: origin(source),
            found: short(current.fingerprint()).into(),
            expected: short(expected).into(),
        }
        .into());
    }
    let (ids, ciphertexts) = reencrypt(&tokens, &current, &new.cipher)?;
    let KeySource::File(path) = source else {
        integrations::replace_tokens(&mut tx, &ids, &ciphertexts).await?;
        settings::put(&mut tx, FINGERPRINT_SETTING, new.cipher.fingerprint()).await?;
        tx.commit().await?;
        return Ok(ids.len());
    };
    // The new key is on disk before the database needs it.
    let pending = file::write_pending(path, &new.text)?;
    let updated = async {
        integrations::replace_tokens(&mut tx, &ids, &ciphertexts).await?;
        settings::put(&mut tx, FINGERPRINT_SETTING, new.cipher.fingerprint()).await
    }
    .await;
    if let Err(e) = updated {
        file::remove_pending(path);
        return Err(e.into());
    }
    tx.commit().await.map_err(|reason| RotateError::Commit {
        reason,
        pending: pending.display().to_string(),
    })?;
    file::finish_pending(path).map_err(|reason| RotateError::Finish {
        pending: pending.display().to_string(),
        reason,
    })?;
    Ok(ids.len())
}

/// Every token decrypted with `current` and encrypted with `new`; any that cannot be
/// decrypted aborts the rotation.
fn reencrypt(
    tokens: &[(i64, Vec<u8>)],
    current: &TokenCipher,
    new: &TokenCipher,
) -> Result<(Vec<i64>, Vec<Vec<u8>>), RotateError> {
    let mut ids = Vec::with_capacity(tokens.len());
    let mut ciphertexts = Vec::with_capacity(tokens.len());
    let mut undecryptable = Vec::new();
    for (id, ciphertext) in tokens {
        match current.decrypt(ciphertext) {
            Ok(token) => {
                ids.push(*id);
                ciphertexts.push(new.encrypt(&token));
            }
            Err(_) => undecryptable.push(id.to_string()),
        }
    }
    if undecryptable.is_empty() {
        return Ok((ids, ciphertexts));
    }
    let count = undecryptable.len();
    undecryptable.truncate(10);
    let mut ids = undecryptable.join(", ");
    if count > 10 {
        ids.push_str(", …");
    }
    Err(RotateError::Undecryptable { count, ids })
}
