//! Encryption of stored OAuth tokens: AES-256-GCM, a fresh random 96-bit nonce per
//! encryption, stored as `nonce || ciphertext+tag`.
//!
//! The key (64 hex characters or base64 of 32 bytes) is never stored in the database, so a
//! database dump alone cannot reveal tokens; only its fingerprint is, a one-way hash that tells
//! whether a key is the one that encrypted the stored tokens. Where the key comes from, and
//! the checks at start, are in `token_key/`.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 12;

/// Separates the fingerprint from any other hash of the key.
const FINGERPRINT_DOMAIN: &[u8] = b"gitpulse token encryption key fingerprint v1\0";

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

/// Encrypts and decrypts stored tokens. `Debug` never shows the key.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: Aes256Gcm,
    fingerprint: String,
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
        let digest = Sha256::new()
            .chain_update(FINGERPRINT_DOMAIN)
            .chain_update(key)
            .finalize();
        Self {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key)),
            fingerprint: hex::encode(digest),
        }
    }

    /// SHA-256 of a domain string and the key, in hex: stored in the database to recognise
    /// the key, and shown (abbreviated) in errors. It reveals nothing about the key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
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

/// A random 256-bit key from the OS random generator.
pub fn random_key() -> [u8; 32] {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// 64 hex characters from the OS random generator.
pub fn random_secret() -> String {
    hex::encode(random_key())
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
    fn the_fingerprint_tells_keys_apart_without_showing_them() {
        let key = [3u8; 32];
        let a = TokenCipher::new(&key);
        assert_eq!(a.fingerprint(), TokenCipher::new(&key).fingerprint());
        assert_ne!(a.fingerprint(), TokenCipher::new(&[4u8; 32]).fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
        assert!(!a.fingerprint().contains(&hex::encode(key)));
        assert_eq!(format!("{a:?}"), "TokenCipher([redacted])");
    }
}
