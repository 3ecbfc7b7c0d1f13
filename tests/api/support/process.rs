//! The `gitpulse` binary run as a process: a clean environment, a chosen working directory,
//! and `serve` started, waited for and stopped with SIGTERM.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::drop_database;

/// `gitpulse args` with only `PATH` and `env` in its environment.
pub fn gitpulse(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gitpulse"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// Runs `gitpulse args` in `dir` to the end.
pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    gitpulse(args, env)
        .current_dir(dir)
        .output()
        .expect("gitpulse runs")
}

/// Exit code 2 and one line on stderr containing `needle`, no panic.
pub fn assert_setup_error(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A port nothing listens on (as far as anyone can tell).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// What became of one `gitpulse serve`.
pub enum Served {
    /// It listened, and stopped with this output on SIGTERM.
    Stopped(Output),
    /// It exited before it listened.
    Failed(Output),
}

impl Served {
    /// The output of a server that listened and stopped cleanly.
    pub fn stopped(self) -> Output {
        match self {
            Served::Stopped(output) => {
                assert!(output.status.success(), "{}", describe(&output));
                output
            }
            Served::Failed(output) => panic!("the server did not start: {}", describe(&output)),
        }
    }

    /// The output of a server that exited without listening.
    pub fn failed(self) -> Output {
        match self {
            Served::Failed(output) => output,
            Served::Stopped(output) => panic!("the server started: {}", describe(&output)),
        }
    }
}

fn describe(output: &Output) -> String {
    format!(
        "{:?}, stderr: {}, stdout: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    )
}

/// Runs `gitpulse serve` in `dir` on a free port until it listens (then stops it with
/// SIGTERM) or exits.
pub fn serve_in(dir: &Path, env: &[(&str, &str)]) -> Served {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut env = env.to_vec();
    env.push(("LISTEN_ADDR", &addr));
    let mut child = gitpulse(&["serve"], &env)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return Served::Failed(child.wait_with_output().expect("output"));
        }
        if answers(&addr) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start listening"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().expect("wait").is_none() {
        assert!(
            Instant::now() < deadline,
            "did not stop within 15 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Served::Stopped(child.wait_with_output().expect("output"))
}

/// The server at `addr` answers HTTP (it is bound before its last start-up checks, so a
/// connection alone does not mean it started).
fn answers(addr: &str) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut response = Vec::new();
    let _ = stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
    let _ = stream.read_to_end(&mut response);
    response.starts_with(b"HTTP/1.")
}

/// A temporary directory, removed when the test ends.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("gitpulse-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    /// `name` inside, created (empty).
    pub fn subdir(&self, name: &str) -> PathBuf {
        let dir = self.0.join(name);
        std::fs::create_dir_all(&dir).expect("subdir");
        dir
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The names in `dir` (empty if it does not exist).
pub fn entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Drops the test's database when the test ends, passed or failed.
pub struct DroppedAtEnd(pub String);

impl Drop for DroppedAtEnd {
    fn drop(&mut self) {
        drop_database(&self.0);
    }
}
