//! The `gitpulse` binary: setup errors exit with code 2 and one clear line;
//! `migrate` works; `serve` stops cleanly on SIGTERM.

use std::io::Write;
use std::process::{Command, Output};

use crate::support::process::{self, DroppedAtEnd, TempDir, assert_setup_error, serve_in};
use crate::support::{database_url, fresh_database_name};

/// A fixed key: no key file is written, and nothing else into the data directory.
fn fixed_key_env<'a>(data_dir: &'a str, env: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![("TOKEN_ENCRYPTION_KEY", KEY), ("DATA_DIR", data_dir)];
    all.extend_from_slice(env);
    all
}

const KEY: &str = "7777777777777777777777777777777777777777777777777777777777777777";

fn gitpulse(args: &[&str], env: &[(&str, &str)]) -> Command {
    let unused = std::env::temp_dir().join(format!("gitpulse-cli-unused-{}", uuid::Uuid::new_v4()));
    let unused = unused.to_str().expect("utf-8").to_string();
    process::gitpulse(args, &fixed_key_env(&unused, env))
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    gitpulse(args, env).output().expect("gitpulse runs")
}

#[test]
fn bad_settings_exit_with_code_2_naming_the_setting() {
    let output = run(&["migrate"], &[("EVENTS_POLL_INTERVAL_SECS", "often")]);
    assert_setup_error(&output, "EVENTS_POLL_INTERVAL_SECS");

    let output = run(&["serve"], &[("DATABASE_URL", "mysql://localhost/x")]);
    assert_setup_error(&output, "DATABASE_URL");

    let dir = std::env::temp_dir().join(format!("gitpulse-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("config.toml");
    let mut f = std::fs::File::create(&file).expect("file");
    writeln!(
        f,
        "listen_addr = \"127.0.0.1:9999\"\npoll_everything = true"
    )
    .expect("write");
    let output = run(&["--config", file.to_str().expect("utf-8")], &[]);
    assert_setup_error(&output, "poll_everything");

    std::fs::write(&file, "backup_keep = 3\nlisten_addr = 5\n").expect("write");
    let output = run(&["--config", file.to_str().expect("utf-8")], &[]);
    assert_setup_error(&output, "listen_addr: invalid type: integer `5`");
    let output = run(&["migrate"], &[("LISTEN_ADDR", "nope")]);
    assert_setup_error(&output, "LISTEN_ADDR: invalid socket address syntax");

    let output = run(&["--config", "/nonexistent/gitpulse.toml"], &[]);
    assert_setup_error(&output, "/nonexistent/gitpulse.toml");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unreachable_database_exits_with_code_2_without_the_password() {
    let output = run(
        &["serve"],
        &[(
            "DATABASE_URL",
            "postgres://user:hunter2@127.0.0.1:1/gitpulse",
        )],
    );
    assert_setup_error(&output, "cannot reach the database");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("hunter2"));
}

#[test]
fn migrate_creates_and_migrates_a_missing_database() {
    let name = fresh_database_name();
    let _cleanup = DroppedAtEnd(name.clone());
    let url = database_url(&name);
    let output = run(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Running it again is a no-op.
    let output = run(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(output.status.success());
    let check = run(
        &["migrate"],
        &[("DATABASE_URL", &url), ("LOG_FORMAT", "json")],
    );
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        stdout
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "{stdout}"
    );
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let name = fresh_database_name();
    let _cleanup = DroppedAtEnd(name.clone());
    let url = database_url(&name);
    let dir = TempDir::new();
    let data_dir = dir.0.join("data");
    let data_dir = data_dir.to_str().expect("utf-8");
    let output = serve_in(&dir.0, &fixed_key_env(data_dir, &[("DATABASE_URL", &url)])).stopped();
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(
        log.contains("shutting down") && log.contains("stopped"),
        "{log}"
    );
}
