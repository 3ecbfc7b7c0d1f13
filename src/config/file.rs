//! The TOML settings file: every error names the key it is about.

use std::path::Path;

use super::env::one_line;
use super::{Config, ConfigError};

impl Config {
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        Self::from_toml(&text)
            .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))
    }

    /// Parses a settings file; an error names the offending key (`listen_addr: ...`), or the
    /// line of a syntax error.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map(|span| line_of(text, span.start));
            ConfigError(match line {
                Some(line) => format!("line {line}: {}", one_line(e.message())),
                None => one_line(e.message()),
            })
        })?;
        table.clone().try_into().map_err(|e: toml::de::Error| {
            // The whole document's error does not say which key it is about: find the first
            // key that fails on its own.
            let failing = table.into_iter().find_map(|(key, value)| {
                let single = toml::Table::from_iter([(key.clone(), value)]);
                single.try_into::<Self>().err().map(|e| (key, e))
            });
            match failing {
                Some((key, e)) => ConfigError(format!("{key}: {}", key_message(&key, e.message()))),
                None => ConfigError(one_line(e.message())),
            }
        })
    }
}

/// Keys whose values are never repeated in an error message.
const SECRET_KEYS: [&str; 5] = [
    "database_url",
    "jwt_secret",
    "github_tokens",
    "github_client_secret",
    "token_encryption_key",
];

/// serde's message about one key's value, without the list of every key after an unknown
/// one, and without the value of a secret.
fn key_message(key: &str, message: &str) -> String {
    let message = one_line(message);
    if message.starts_with("unknown field") {
        return "unknown setting (config.example.toml lists every key)".into();
    }
    if SECRET_KEYS.contains(&key) {
        return match message.split_once(", expected ") {
            Some((_, expected)) => format!("invalid type, expected {expected}"),
            None => "invalid value".into(),
        };
    }
    message
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn type_errors_are_prefixed_by_the_key() {
        for (toml, expected) in [
            (
                "listen_addr = \"nope\"",
                "listen_addr: invalid socket address syntax",
            ),
            (
                "rate_limit_per_hour = 5\nlisten_addr = 5",
                "listen_addr: invalid type: integer `5`, expected socket address",
            ),
            (
                "backup_keep = \"many\"",
                "backup_keep: invalid type: string \"many\", expected u32",
            ),
            (
                "listen_adr = \"x\"",
                "listen_adr: unknown setting (config.example.toml lists every key)",
            ),
        ] {
            let err = Config::from_toml(toml).expect_err(toml);
            assert_eq!(err.to_string(), expected);
        }
        let err = Config::from_toml("a = 1\nlisten_addr = ").expect_err("syntax");
        assert!(err.to_string().starts_with("line 2: "), "{err}");

        let mut c = Config::default();
        let err = c
            .apply_env(env_of(&[("LISTEN_ADDR", "nope")]))
            .expect_err("bad address");
        assert_eq!(
            err.to_string(),
            "LISTEN_ADDR: invalid socket address syntax (got `nope`)"
        );
    }

    #[test]
    fn a_secret_with_the_wrong_type_is_not_repeated() {
        let err = Config::from_toml("github_tokens = \"ghp_secret\"").expect_err("not a list");
        assert!(err.to_string().starts_with("github_tokens: "), "{err}");
        assert!(!err.to_string().contains("ghp_secret"), "{err}");
    }
}
