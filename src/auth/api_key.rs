//! API keys: `gp_<8 base62>_<32 base62>`. The first part (`gp_XXXXXXXX`) is the public
//! prefix used to find the key; only an argon2id hash of the whole key is stored.
//!
//! argon2 costs tens of milliseconds, so a key that verified is remembered for a few
//! minutes under the SHA-256 of the full key. A cached key still costs one primary-key
//! read per request (`revoked_at`), so a revocation made on any replica takes effect on
//! the very next request; expiry is checked in memory against the cached `expires_at`.
//! Usage (count, last time, last IP) is gathered in memory and written in one statement
//! every few seconds, so authenticating never waits for a write.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::error::{AppError, AppResult};
use crate::store::api_keys::{self, Usage};

/// The literal start of every key.
pub const KEY_PREFIX: &str = "gp_";
const PREFIX_RANDOM_LEN: usize = 8;
const SECRET_LEN: usize = 32;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// How long a verified key is trusted without running argon2 again.
const CACHE_TTL: Duration = Duration::from_secs(300);
/// Upper bound on cached keys; beyond it stale entries are dropped, then everything.
const CACHE_MAX: usize = 10_000;

/// What an API key may do. A JWT session may do everything. Which route needs which
/// scope is the table in `auth::policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Push commits (`POST /api/v1/sync/...`) and read their sync status.
    SyncCommits,
    /// Read projects, repositories and their sync status.
    ReadRepos,
    /// Read tracked repositories and accounts, their event statistics and daily history.
    ReadTracking,
    /// Track and untrack repositories and GitHub accounts.
    WriteTracking,
    /// Read the synced GitHub data (`/data/...`, `/search`) and the integration's status.
    ReadData,
    /// Resync or remove the GitHub integration.
    AdminIntegration,
    /// Read backup reports and download archives.
    ReadBackups,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::SyncCommits,
        Scope::ReadRepos,
        Scope::ReadTracking,
        Scope::WriteTracking,
        Scope::ReadData,
        Scope::AdminIntegration,
        Scope::ReadBackups,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SyncCommits => "sync:commits",
            Scope::ReadRepos => "read:repos",
            Scope::ReadTracking => "read:tracking",
            Scope::WriteTracking => "write:tracking",
            Scope::ReadData => "read:data",
            Scope::AdminIntegration => "admin:integration",
            Scope::ReadBackups => "read:backups",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    pub fn all() -> Self {
        Scope::ALL.into_iter().collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Scope names in a stable order.
    pub fn names(self) -> Vec<String> {
        Scope::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(|s| s.as_str().to_string())
            .collect()
    }

    /// Scopes from stored names; unknown names (from a future version) are ignored.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Self {
        names
            .iter()
            .filter_map(|n| Scope::parse(n.as_ref()))
            .collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

/// A freshly generated key: show `full_key` once, store `prefix` and its hash.
pub struct GeneratedKey {
    pub prefix: String,
    pub full_key: String,
}

pub fn generate() -> GeneratedKey {
    let mut rng = rand::rngs::OsRng;
    let mut part = |len: usize| -> String {
        (0..len)
            .map(|_| char::from(BASE62[rng.gen_range(0..BASE62.len())]))
            .collect()
    };
    let prefix = format!("{KEY_PREFIX}{}", part(PREFIX_RANDOM_LEN));
    let full_key = format!("{prefix}_{}", part(SECRET_LEN));
    GeneratedKey { prefix, full_key }
}

/// Whether a bearer token is meant as an API key (rather than a JWT).
pub fn looks_like_api_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

/// The public prefix of a well-formed key.
pub fn prefix_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(KEY_PREFIX)?;
    let (random, secret) = rest.split_once('_')?;
    let base62 = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    (random.len() == PREFIX_RANDOM_LEN
        && secret.len() == SECRET_LEN
        && base62(random)
        && base62(secret))
    .then(|| &token[..KEY_PREFIX.len() + PREFIX_RANDOM_LEN])
}

/// The caller an API key stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedKey {
    pub key_id: i64,
    pub user_id: i64,
    pub scopes: Scopes,
}

#[derive(Clone)]
struct CachedKey {
    key: VerifiedKey,
    prefix: String,
    expires_at: Option<DateTime<Utc>>,
    verified_at: Instant,
}

/// The verified-key cache and the pending usage counts of one process.
#[derive(Default)]
pub struct ApiKeyAuth {
    cache: Mutex<HashMap<[u8; 32], CachedKey>>,
    usage: Mutex<HashMap<i64, Usage>>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps stay consistent even if a holder panicked: every update is one insert/remove.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn invalid() -> AppError {
    AppError::Unauthorized("Invalid, expired or revoked API key".into())
}

impl ApiKeyAuth {
    /// Verifies `token` (an API key) and records its use from `ip`.
    pub async fn authenticate(
        &self,
        db: &PgPool,
        token: &str,
        ip: Option<String>,
    ) -> AppResult<VerifiedKey> {
        let prefix = prefix_of(token).ok_or_else(invalid)?;
        let hash = digest(token);
        let key = match self.cached(&hash) {
            Some(cached) => {
                if cached.expires_at.is_some_and(|at| at <= Utc::now()) {
                    self.forget(cached.key.key_id);
                    return Err(invalid());
                }
                if !api_keys::is_active(db, cached.key.key_id).await? {
                    self.forget(cached.key.key_id);
                    return Err(invalid());
                }
                cached.key
            }
            None => self.verify_slow(db, token, prefix, hash).await?,
        };
        self.record_use(key.key_id, ip);
        Ok(key)
    }

    fn cached(&self, hash: &[u8; 32]) -> Option<CachedKey> {
        let cache = lock(&self.cache);
        cache
            .get(hash)
            .filter(|c| c.verified_at.elapsed() < CACHE_TTL)
            .cloned()
    }

    /// The prefix of `token` if it verified recently in this process (for rate limiting).
    pub fn cached_prefix(&self, token: &str) -> Option<String> {
        if !looks_like_api_key(token) {
            return None;
        }
        self.cached(&digest(token)).map(|c| c.prefix)
    }

    async fn verify_slow(
        &self,
        db: &PgPool,
        token: &str,
        prefix: &str,
        hash: [u8; 32],
    ) -> AppResult<VerifiedKey> {
        let row = api_keys::find_by_prefix(db, prefix).await?;
        let stored = row.as_ref().map(|r| r.key_hash.clone());
        let matches = crate::auth::password::verify(token.to_string(), stored).await?;
        let row = match row {
            Some(row) if matches => row,
            _ => return Err(invalid()),
        };
        let now = Utc::now();
        if row.revoked_at.is_some() || row.expires_at.is_some_and(|at| at <= now) {
            return Err(invalid());
        }
        let key = VerifiedKey {
            key_id: row.id,
            user_id: row.user_id,
            scopes: Scopes::from_names(&row.scopes),
        };
        let mut cache = lock(&self.cache);
        if cache.len() >= CACHE_MAX {
            cache.retain(|_, c| c.verified_at.elapsed() < CACHE_TTL);
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(
            hash,
            CachedKey {
                key,
                prefix: row.prefix,
                expires_at: row.expires_at,
                verified_at: Instant::now(),
            },
        );
        Ok(key)
    }

    /// Drops a key from this process's cache (other replicas re-check `revoked_at`).
    pub fn forget(&self, key_id: i64) {
        lock(&self.cache).retain(|_, c| c.key.key_id != key_id);
    }

    /// Drops every cached key of `user_id` (a deleted account).
    pub fn forget_user(&self, user_id: i64) {
        lock(&self.cache).retain(|_, c| c.key.user_id != user_id);
    }

    fn record_use(&self, key_id: i64, ip: Option<String>) {
        let mut usage = lock(&self.usage);
        let entry = usage.entry(key_id).or_insert_with(|| Usage {
            count: 0,
            last_used_at: Utc::now(),
            last_used_ip: None,
        });
        entry.count += 1;
        entry.last_used_at = Utc::now();
        if ip.is_some() {
            entry.last_used_ip = ip;
        }
    }

    /// Writes the usage gathered since the last flush (one statement).
    pub async fn flush_usage(&self, db: &PgPool) -> Result<(), sqlx::Error> {
        let pending: Vec<(i64, Usage)> = lock(&self.usage).drain().collect();
        if pending.is_empty() {
            return Ok(());
        }
        if let Err(e) = api_keys::add_usage(db, &pending).await {
            // Put the counts back so the next flush writes them.
            let mut usage = lock(&self.usage);
            for (id, u) in pending {
                let entry = usage.entry(id).or_insert_with(|| Usage {
                    count: 0,
                    ..u.clone()
                });
                entry.count += u.count;
            }
            return Err(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let key = generate();
        assert_eq!(key.full_key.len(), 3 + 8 + 1 + 32);
        assert!(key.full_key.starts_with(&key.prefix));
        assert_eq!(prefix_of(&key.full_key), Some(key.prefix.as_str()));
        assert_ne!(generate().full_key, key.full_key);
        assert_eq!(prefix_of("gp_short_secret"), None);
        assert_eq!(prefix_of(&key.full_key.replace("gp_", "xx_")), None);
        let with_symbol = format!("{}!", &key.full_key[..key.full_key.len() - 1]);
        assert_eq!(prefix_of(&with_symbol), None);
    }

    #[test]
    fn scopes_round_trip() {
        let all = Scopes::all();
        assert_eq!(
            all.names(),
            [
                "sync:commits",
                "read:repos",
                "read:tracking",
                "write:tracking",
                "read:data",
                "admin:integration",
                "read:backups"
            ]
        );
        let read = Scopes::from_names(&["read:repos", "future:thing"]);
        assert!(read.contains(Scope::ReadRepos));
        assert!(!read.contains(Scope::SyncCommits));
        assert!(Scopes::default().is_empty());
    }
}
