//! Repository backups (seed 002), the whole feature: what a registration's names may be,
//! where its mirror and archives live on disk, how GitHub's webhook signature is checked
//! and what a push payload tells us (here); registering with a first mirror clone
//! (`register`, `mirror`); the worker that fetches, zips and prunes (`worker`, scheduled
//! by `jobs::backups`); writing archives (`archive`). The routes are in `http::backups`,
//! the SQL in `store::backups`.

pub mod archive;
mod mirror;
mod register;
pub mod worker;

/// Defined with the backup rows it is stored in; read from payloads here.
pub use crate::store::backups::PushSummary;
pub use register::{NewBackup, register};

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::config::Config;
use crate::git::UrlPolicy;

/// Longest `company_id` / `repository_name`.
pub const MAX_NAME_LEN: usize = 100;
/// Longest `X-GitHub-Delivery` accepted (GitHub sends a 36-character GUID).
pub const MAX_DELIVERY_LEN: usize = 100;

/// Why a name that becomes part of a path is refused, or `None` when it is fine:
/// 1 to 100 of `[A-Za-z0-9._-]`, and never `.` or `..`.
pub fn path_name_problem(value: &str) -> Option<&'static str> {
    let charset_ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if value.is_empty() || value.len() > MAX_NAME_LEN || !charset_ok {
        Some("must be 1 to 100 characters of letters, digits, '.', '_' or '-'")
    } else if value == "." || value == ".." {
        Some("must not be '.' or '..'")
    } else {
        None
    }
}

/// A GitHub delivery id is safe in a file name: 1 to 100 of `[A-Za-z0-9-]`.
pub fn valid_delivery_id(value: &str) -> bool {
    (1..=MAX_DELIVERY_LEN).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The leading number of a repository name (`100058` of `100058-editor`), else the
/// registration's id.
pub fn function_number(repository_name: &str, registration_id: i64) -> String {
    let digits: String = repository_name
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if digits.is_empty() {
        registration_id.to_string()
    } else {
        digits
    }
}

/// The URL policy of `BACKUP_ALLOWED_HOSTS` and `BACKUP_ALLOW_LOCAL`.
pub fn url_policy(config: &Config) -> UrlPolicy {
    UrlPolicy::from_config(config)
}

/// The storage directory (relative to `BACKUP_DIR`) of a new registration:
/// `@users/{user_id}/{company_id}`, so two users' registrations of the same names never
/// share a path. Registrations made before names were per user keep `{company_id}`
/// (`@` cannot start a company id, so the two never meet).
pub fn storage_dir(user_id: i64, company_id: &str) -> String {
    format!("@users/{user_id}/{company_id}")
}

/// Where a registration's files live under `BACKUP_DIR`:
/// `{storage_dir}/{repository_name}.git` (the mirror) and
/// `{storage_dir}/{repository_name} {delivery_id}.zip` (the archives).
/// The names are validated by [`path_name_problem`] and the storage directory is made of
/// them and a user id ([`storage_dir`]), so nothing can climb out.
#[derive(Debug, Clone)]
pub struct Layout {
    pub company_dir: PathBuf,
    pub repository_name: String,
}

impl Layout {
    /// The layout of a registration stored in `storage_dir` (its column of that name).
    pub fn at(backup_dir: &Path, storage_dir: &str, repository_name: &str) -> Self {
        Self {
            company_dir: backup_dir.join(storage_dir),
            repository_name: repository_name.to_string(),
        }
    }

    pub fn mirror_dir(&self) -> PathBuf {
        self.company_dir
            .join(format!("{}.git", self.repository_name))
    }

    /// A scratch directory next to the mirror for a clone in progress.
    pub fn partial_mirror_dir(&self) -> PathBuf {
        self.company_dir.join(format!(
            ".{}.git.partial-{}",
            self.repository_name,
            uuid::Uuid::new_v4().simple()
        ))
    }

    pub fn archive(&self, zip_file_name: &str) -> PathBuf {
        self.company_dir.join(zip_file_name)
    }
}

/// `{repository_name} {delivery_id}.zip`, the seed's archive name.
pub fn zip_file_name(repository_name: &str, delivery_id: &str) -> String {
    format!("{repository_name} {delivery_id}.zip")
}

/// Why a webhook signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("Missing X-Hub-Signature-256 header")]
    Missing,
    #[error("Invalid X-Hub-Signature-256 signature")]
    Invalid,
}

/// `sha256=<hex HMAC-SHA256 of body>`, as GitHub sends in `X-Hub-Signature-256`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks `X-Hub-Signature-256` over the raw body, comparing in constant time.
pub fn verify_signature(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty());
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Invalid)?;
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Invalid)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Invalid)
}

/// PostgreSQL text cannot hold NUL; GitHub's payloads are stored without them.
fn without_nul(s: &str) -> String {
    s.replace('\0', "")
}

impl PushSummary {
    pub fn from_payload(payload: &Value) -> Self {
        let pusher = payload["pusher"]["name"]
            .as_str()
            .or_else(|| payload["sender"]["login"].as_str())
            .map(without_nul);
        let commits = payload["commits"].as_array().map_or(&[][..], Vec::as_slice);
        let files = |key: &str| {
            let mut seen = std::collections::HashSet::new();
            commits
                .iter()
                .filter_map(|c| c[key].as_array())
                .flatten()
                .filter_map(Value::as_str)
                .filter(|f| seen.insert(*f))
                .map(without_nul)
                .collect::<Vec<_>>()
        };
        Self {
            pusher,
            added: files("added"),
            modified: files("modified"),
            removed: files("removed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn github_documented_signature_vector() {
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            sign(b"It's a Secret to Everybody", b"Hello, World!"),
            expected
        );
        assert_eq!(
            verify_signature(
                b"It's a Secret to Everybody",
                b"Hello, World!",
                Some(expected)
            ),
            Ok(())
        );
    }

    #[test]
    fn bad_signatures_are_refused() {
        let secret = b"It's a Secret to Everybody";
        let good = sign(secret, b"Hello, World!");
        assert_eq!(
            verify_signature(secret, b"Hello, World!", None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(secret, b"Hello, World?", Some(&good)),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify_signature(b"other", b"Hello, World!", Some(&good)),
            Err(SignatureError::Invalid)
        );
        let sha1_style = good.replace("sha256=", "sha1=");
        assert_eq!(
            verify_signature(secret, b"Hello, World!", Some(&sha1_style)),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify_signature(secret, b"Hello, World!", Some("sha256=zz")),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn names_that_would_escape_are_refused() {
        for bad in ["", ".", "..", "a/b", "a\\b", "a b", "ä", &"x".repeat(101)] {
            assert!(path_name_problem(bad).is_some(), "{bad:?}");
        }
        for good in [
            "100058-editor",
            "a",
            "...",
            ".hidden",
            "A_b.c-d",
            &"x".repeat(100),
        ] {
            assert_eq!(path_name_problem(good), None, "{good:?}");
        }
        assert!(valid_delivery_id("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
        assert!(!valid_delivery_id("../x"));
        assert!(!valid_delivery_id(""));
    }

    #[test]
    fn function_numbers() {
        assert_eq!(function_number("100058-editor", 7), "100058");
        assert_eq!(function_number("editor", 7), "7");
        assert_eq!(function_number("42", 7), "42");
    }

    #[test]
    fn push_summary_unions_the_commits() {
        let payload = json!({
            "pusher": {"name": "octo", "email": "o@example.com"},
            "commits": [
                {"added": ["a.txt"], "modified": ["README.md"], "removed": []},
                {"added": ["b.txt", "a.txt"], "modified": ["README.md"], "removed": ["old.txt"]},
            ]
        });
        let summary = PushSummary::from_payload(&payload);
        assert_eq!(summary.pusher.as_deref(), Some("octo"));
        assert_eq!(summary.added, ["a.txt", "b.txt"]);
        assert_eq!(summary.modified, ["README.md"]);
        assert_eq!(summary.removed, ["old.txt"]);
        assert_eq!(
            PushSummary::from_payload(&json!({})),
            PushSummary::default()
        );
    }
}
