//! The `gitpulse` binary: setup errors exit with code 2 and one clear line;
//! `migrate` works; `serve` stops cleanly on SIGTERM.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{database_url, drop_database, fresh_database_name};

fn gitpulse(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gitpulse"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // A fixed key: no key file is written, and nothing else into the data directory.
        .env("TOKEN_ENCRYPTION_KEY", "7".repeat(64))
        .env(
            "DATA_DIR",
            std::env::temp_dir().join(format!("gitpulse-cli-unused-{}", uuid::Uuid::new_v4())),
        );
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    gitpulse(args, env).output().expect("gitpulse runs")
}

fn assert_setup_error(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = gitpulse(
        &["serve"],
        &[("DATABASE_URL", &url), ("LISTEN_ADDR", &addr)],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn");
    let started = Instant::now();
    let ready = loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(&addr) {
            let _ = stream.write_all(b"GET /readyz HTTP/1.0\r\n\r\n");
            break true;
        }
        if started.elapsed() > Duration::from_secs(30) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(ready, "server did not start listening");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "did not stop within 15 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().expect("output");
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(exit.success(), "exit {exit:?}: {log}");
    assert!(
        log.contains("shutting down") && log.contains("stopped"),
        "{log}"
    );
}

/// Drops the test's database when the test ends, passed or failed.
struct DroppedAtEnd(String);

impl Drop for DroppedAtEnd {
    fn drop(&mut self) {
        drop_database(&self.0);
    }
}
