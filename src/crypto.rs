//! Encryption of stored OAuth tokens: AES-256-GCM, a fresh random 96-bit nonce per
//! encryption, stored as `nonce || ciphertext+tag`.
//!
//! The key comes from `TOKEN_ENCRYPTION_KEY` (64 hex characters or base64 of 32 bytes); if
//! unset it is read from `TOKEN_ENCRYPTION_KEY_FILE`, which is created once (mode 0600) when
//! missing. It is never stored in the database: a database dump alone cannot reveal tokens.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const NONCE_LEN: usize = 12;

/// Parses a 256-bit key written as 64 hex characters or as base64 of 32 bytes.
pub fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|e| e.to_string())?
    } else {
        STANDARD
            .decode(text)
            .map_err(|_| "expected 64 hex characters or base64 of 32 bytes".to_string())?
    };
    bytes
        .try_into()
        .map_err(|_| "expected 64 hex characters or base64 of 32 bytes (a 256-bit key)".into())
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the token encryption key file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot create the token encryption key file {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("invalid token encryption key in {path}: {reason}")]
    Invalid { path: String, reason: String },
}

/// Encrypts and decrypts stored tokens. `Debug` never shows the key.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: Aes256Gcm,
}

impl fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCipher([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the stored token cannot be decrypted (was the token encryption key changed?)")]
pub struct DecryptError;

impl TokenCipher {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key)),
        }
    }

    /// The configured key, else the key file's (created with a random key if missing).
    pub fn load(configured: Option<&str>, key_file: Option<&Path>) -> Result<Self, KeyError> {
        if let Some(text) = configured {
            // Already validated with the other settings; a failure here names the setting.
            let key = parse_key(text).map_err(|reason| KeyError::Invalid {
                path: "TOKEN_ENCRYPTION_KEY".into(),
                reason,
            })?;
            return Ok(Self::new(&key));
        }
        let Some(key_file) = key_file else {
            return Err(KeyError::Read {
                path: "TOKEN_ENCRYPTION_KEY_FILE".into(),
                reason: "not set".into(),
            });
        };
        let invalid = |reason: String| KeyError::Invalid {
            path: key_file.display().to_string(),
            reason,
        };
        let text = read_or_create_key_file(key_file)?;
        let key = parse_key(&text).map_err(invalid)?;
        Ok(Self::new(&key))
    }

    pub fn encrypt(&self, plaintext: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn decrypt(&self, stored: &[u8]) -> Result<String, DecryptError> {
        if stored.len() <= NONCE_LEN {
            return Err(DecryptError);
        }
        let (nonce, sealed) = stored.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| DecryptError)?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| DecryptError)?;
        String::from_utf8(plain).map_err(|_| DecryptError)
    }
}

/// Reads the key file, or writes a new random key to it. Concurrent starters agree: the
/// new key is written to a private temporary file and hard-linked into place, which fails
/// if another process won, in which case that process's key is read.
fn read_or_create_key_file(path: &Path) -> Result<String, KeyError> {
    let shown = || path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(KeyError::Read {
                path: shown(),
                reason: e.to_string(),
            });
        }
    }
    let write_err = |e: std::io::Error| KeyError::Write {
        path: shown(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let temp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let key = random_secret();
    let written = write_private(&temp, &key).and_then(|()| std::fs::hard_link(&temp, path));
    let _ = std::fs::remove_file(&temp);
    match written {
        Ok(()) => {
            tracing::warn!(
                path = %shown(),
                "generated a new token encryption key; back this file up (without it stored GitHub tokens cannot be decrypted)"
            );
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read_to_string(path)
            .map_err(|e| KeyError::Read {
                path: shown(),
                reason: e.to_string(),
            }),
        Err(e) => Err(write_err(e)),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// 64 hex characters from the OS random generator.
pub fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_as_hex_or_base64_only() {
        let hex_key = "00".repeat(32);
        assert_eq!(parse_key(&hex_key).expect("hex"), [0u8; 32]);
        let b64 = STANDARD.encode([7u8; 32]);
        assert_eq!(parse_key(&b64).expect("base64"), [7u8; 32]);
        assert!(parse_key("short").is_err());
        assert!(parse_key(&STANDARD.encode([1u8; 16])).is_err());
        assert!(parse_key(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn a_bad_configured_key_is_a_config_error_naming_the_setting() {
        let config = crate::config::Config {
            token_encryption_key: Some(crate::config::Secret::new("not-a-key")),
            ..crate::config::Config::default()
        };
        let err = config.validate().expect_err("rejected");
        assert!(err.to_string().contains("TOKEN_ENCRYPTION_KEY"), "{err}");
    }

    #[test]
    fn round_trip_with_fresh_nonces() {
        let cipher = TokenCipher::new(&[3u8; 32]);
        let a = cipher.encrypt("gho_secret");
        let b = cipher.encrypt("gho_secret");
        assert_ne!(a, b, "a fresh nonce per encryption");
        assert_eq!(cipher.decrypt(&a).expect("decrypts"), "gho_secret");
        let other = TokenCipher::new(&[4u8; 32]);
        assert!(other.decrypt(&a).is_err());
        let mut tampered = a.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(cipher.decrypt(&tampered).is_err());
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("gitpulse-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("sub/token.key");
        let first = read_or_create_key_file(&path).expect("created");
        let again = read_or_create_key_file(&path).expect("read");
        assert_eq!(first.trim(), again.trim());
        assert!(parse_key(&again).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
