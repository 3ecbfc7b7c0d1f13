//! The key file: read, created once (mode 0600, in a 0700 directory), and replaced during a
//! rotation through `<file>.new`.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::crypto::{TokenCipher, parse_key, random_secret};

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the token encryption key file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write the token encryption key file {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("invalid token encryption key in {path}: {reason}")]
    Invalid { path: String, reason: String },
}

/// Where a rotation puts the new key until the database uses it: `<file>.new`.
pub fn pending_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(".new");
    PathBuf::from(name)
}

/// The key in `path`, or `None` if there is no such file.
pub fn read(path: &Path) -> Result<Option<TokenCipher>, KeyFileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(KeyFileError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// Reads a key that must exist (`--new-key-file`).
pub fn read_existing(path: &Path) -> Result<TokenCipher, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| KeyFileError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse(path, &text)
}

fn parse(path: &Path, text: &str) -> Result<TokenCipher, KeyFileError> {
    let key = parse_key(text).map_err(|reason| KeyFileError::Invalid {
        path: path.display().to_string(),
        reason,
    })?;
    Ok(TokenCipher::new(&key))
}

/// Writes a new random key to `path` unless it exists, and returns the key the file holds.
/// Concurrent starters agree: the key is written to a private temporary file and hard-linked
/// into place, which fails if another process won, in which case that process's key is read.
pub fn create(path: &Path) -> Result<TokenCipher, KeyFileError> {
    let write_err = write_error(path);
    create_private_dir(path)?;
    let text = random_secret();
    let temp = temp_path(path);
    let written = write_private(&temp, &text).and_then(|()| std::fs::hard_link(&temp, path));
    let _ = std::fs::remove_file(&temp);
    match written {
        Ok(()) => {
            sync_dir(path).map_err(&write_err)?;
            tracing::warn!(
                path = %path.display(),
                "generated a new token encryption key; back this file up (without it stored GitHub tokens cannot be decrypted)"
            );
            parse(path, &text)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_existing(path),
        Err(e) => Err(write_err(e)),
    }
}

/// Writes `text` (a key) to `<path>.new` atomically: a private temporary file renamed over it.
pub fn write_pending(path: &Path, text: &str) -> Result<PathBuf, KeyFileError> {
    let pending = pending_path(path);
    let write_err = write_error(&pending);
    create_private_dir(path)?;
    let temp = temp_path(path);
    let written = write_private(&temp, text)
        .and_then(|()| std::fs::rename(&temp, &pending))
        .and_then(|()| sync_dir(&pending));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map_err(write_err)?;
    Ok(pending)
}

/// Removes `<path>.new` (a rotation that did not commit).
pub fn remove_pending(path: &Path) {
    let _ = std::fs::remove_file(pending_path(path));
}

/// Moves `<path>.new` over `path`: the last step of a rotation.
pub fn finish_pending(path: &Path) -> Result<(), KeyFileError> {
    std::fs::rename(pending_path(path), path)
        .and_then(|()| sync_dir(path))
        .map_err(write_error(path))
}

fn write_error(path: &Path) -> impl Fn(std::io::Error) -> KeyFileError + '_ {
    move |e| KeyFileError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    PathBuf::from(name)
}

/// Creates the key file's directory (and its parents) readable by this user only.
fn create_private_dir(path: &Path) -> Result<(), KeyFileError> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(write_error(dir))
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
    file.write_all(text.trim().as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Makes a rename or link in `path`'s directory durable.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("gitpulse-key-{}", uuid::Uuid::new_v4()))
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

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = temp_dir();
        let path = dir.join("sub/token.key");
        assert!(read(&path).expect("no file yet").is_none());
        let first = create(&path).expect("created");
        let again = create(&path).expect("read");
        assert_eq!(first.fingerprint(), again.fingerprint());
        let read_back = read(&path).expect("read").expect("exists");
        assert_eq!(first.fingerprint(), read_back.fingerprint());
        #[cfg(unix)]
        {
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir.join("sub")), 0o700);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_pending_key_replaces_the_file_when_finished() {
        let dir = temp_dir();
        let path = dir.join("token.key");
        let old = create(&path).expect("created");
        let new_text = random_secret();
        let pending = write_pending(&path, &new_text).expect("pending");
        assert_eq!(pending, dir.join("token.key.new"));
        #[cfg(unix)]
        assert_eq!(mode(&pending), 0o600);
        let still = read(&path).expect("read").expect("exists");
        assert_eq!(still.fingerprint(), old.fingerprint());
        finish_pending(&path).expect("renamed");
        let now = read(&path).expect("read").expect("exists");
        let expected = TokenCipher::new(&parse_key(&new_text).expect("key"));
        assert_eq!(now.fingerprint(), expected.fingerprint());
        assert!(!pending.exists());
        let leftovers = std::fs::read_dir(&dir).expect("dir").count();
        assert_eq!(leftovers, 1, "no temporary files are left");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_bad_key_file_is_named() {
        let dir = temp_dir();
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("token.key");
        std::fs::write(&path, "not a key").expect("write");
        let err = read(&path).expect_err("invalid");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
