//! Where gitpulse writes files: under one data directory (`DATA_DIR`), so that nothing
//! depends on the directory the server was started from. A path set explicitly
//! (`TOKEN_ENCRYPTION_KEY_FILE`, `PULL_MIRROR_DIR`, `BACKUP_DIR`) must be absolute.

use std::path::{Path, PathBuf};

use super::{Config, ConfigError, Secret};

/// The key file's name in the data directory.
pub const KEY_FILE_NAME: &str = "token-encryption.key";

/// Where the token encryption key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `TOKEN_ENCRYPTION_KEY` (checked with the other settings).
    Setting(Secret),
    /// `TOKEN_ENCRYPTION_KEY_FILE`, else `<DATA_DIR>/token-encryption.key`.
    File(PathBuf),
}

/// The files and directories gitpulse writes, resolved from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPaths {
    pub key: KeySource,
    /// Bare mirrors of `pull` repositories.
    pub mirrors: PathBuf,
    /// Backup mirrors and archives.
    pub backups: PathBuf,
}

/// `$XDG_DATA_HOME/gitpulse`, else `$HOME/.local/share/gitpulse`. A relative value of either
/// variable is ignored, as the XDG base directory specification says.
pub fn default_data_dir(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let absolute = |name: &str| {
        env(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    absolute("XDG_DATA_HOME")
        .map(|dir| dir.join("gitpulse"))
        .or_else(|| absolute("HOME").map(|home| home.join(".local/share/gitpulse")))
}

impl Config {
    /// Resolves every path gitpulse writes: an explicit setting, else its place in `DATA_DIR`.
    pub fn data_paths(&self) -> Result<DataPaths, ConfigError> {
        let under_data_dir =
            |explicit: &Option<PathBuf>, name: &str, key: &str| match (explicit, &self.data_dir) {
                (Some(path), _) => Ok(path.clone()),
                (None, Some(dir)) => Ok(dir.join(name)),
                (None, None) => Err(ConfigError(format!(
                    "DATA_DIR: not set, and neither XDG_DATA_HOME nor HOME is an absolute path \
                     to derive it from; set DATA_DIR (or {key})"
                ))),
            };
        let key = match &self.token_encryption_key {
            Some(secret) => KeySource::Setting(secret.clone()),
            None => KeySource::File(under_data_dir(
                &self.token_encryption_key_file,
                KEY_FILE_NAME,
                "TOKEN_ENCRYPTION_KEY_FILE",
            )?),
        };
        Ok(DataPaths {
            key,
            mirrors: under_data_dir(&self.pull_mirror_dir, "mirrors", "PULL_MIRROR_DIR")?,
            backups: under_data_dir(&self.backup_dir, "backups", "BACKUP_DIR")?,
        })
    }

    /// A relative path would depend on the working directory: every set path is absolute.
    pub(super) fn validate_paths(&self) -> Result<(), ConfigError> {
        for (key, path) in [
            ("DATA_DIR", &self.data_dir),
            ("TOKEN_ENCRYPTION_KEY_FILE", &self.token_encryption_key_file),
            ("PULL_MIRROR_DIR", &self.pull_mirror_dir),
            ("BACKUP_DIR", &self.backup_dir),
        ] {
            if let Some(path) = path.as_deref().filter(|p| !p.is_absolute()) {
                return Err(relative(key, path));
            }
        }
        Ok(())
    }
}

fn relative(key: &str, path: &Path) -> ConfigError {
    ConfigError(format!(
        "{key}: must be an absolute path, got `{}` (a relative path would depend on the \
         directory gitpulse is started from)",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn the_default_data_dir_follows_xdg_then_home() {
        let dir = default_data_dir(env_of(&[("XDG_DATA_HOME", "/x"), ("HOME", "/home/u")]));
        assert_eq!(dir, Some(PathBuf::from("/x/gitpulse")));
        let dir = default_data_dir(env_of(&[("XDG_DATA_HOME", "rel"), ("HOME", "/home/u")]));
        assert_eq!(dir, Some(PathBuf::from("/home/u/.local/share/gitpulse")));
        assert_eq!(default_data_dir(env_of(&[("HOME", "rel")])), None);
        assert_eq!(default_data_dir(env_of(&[])), None);
    }

    #[test]
    fn files_go_to_the_data_dir_unless_set() {
        let mut config = Config {
            data_dir: Some("/srv/gitpulse".into()),
            ..Config::default()
        };
        let paths = config.data_paths().expect("resolved");
        assert_eq!(
            paths.key,
            KeySource::File("/srv/gitpulse/token-encryption.key".into())
        );
        assert_eq!(paths.mirrors, Path::new("/srv/gitpulse/mirrors"));
        assert_eq!(paths.backups, Path::new("/srv/gitpulse/backups"));
        config.backup_dir = Some("/mnt/backups".into());
        config.pull_mirror_dir = Some("/var/cache/mirrors".into());
        config.token_encryption_key_file = Some("/etc/gitpulse/key".into());
        let paths = config.data_paths().expect("resolved");
        assert_eq!(paths.backups, Path::new("/mnt/backups"));
        assert_eq!(paths.mirrors, Path::new("/var/cache/mirrors"));
        assert_eq!(paths.key, KeySource::File("/etc/gitpulse/key".into()));
        config.data_dir = None;
        assert!(config.data_paths().is_ok(), "every path is set explicitly");
        config.token_encryption_key = Some(Secret::new("7".repeat(64)));
        let paths = config.data_paths().expect("resolved");
        assert_eq!(paths.key, KeySource::Setting(Secret::new("7".repeat(64))));
    }

    #[test]
    fn a_missing_data_dir_is_named() {
        let err = Config::default().data_paths().expect_err("no data dir");
        assert!(err.to_string().starts_with("DATA_DIR: "), "{err}");
    }

    #[test]
    fn relative_paths_are_refused_naming_the_key() {
        for (config, key) in [
            (
                Config {
                    data_dir: Some("data".into()),
                    ..Config::default()
                },
                "DATA_DIR",
            ),
            (
                Config {
                    token_encryption_key_file: Some("./data/token-encryption.key".into()),
                    ..Config::default()
                },
                "TOKEN_ENCRYPTION_KEY_FILE",
            ),
            (
                Config {
                    pull_mirror_dir: Some("mirrors".into()),
                    ..Config::default()
                },
                "PULL_MIRROR_DIR",
            ),
            (
                Config {
                    backup_dir: Some("./backups".into()),
                    ..Config::default()
                },
                "BACKUP_DIR",
            ),
        ] {
            let err = config.validate().expect_err(key);
            assert!(
                err.to_string()
                    .starts_with(&format!("{key}: must be an absolute path")),
                "{err}"
            );
        }
    }
}
