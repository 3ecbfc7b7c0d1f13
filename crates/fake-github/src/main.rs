//! Standalone fake GitHub for demos and benchmarks.
//!
//! ```text
//! cargo run --release -p fake-github -- [--addr 127.0.0.1:9100] [--repos N] [--rate-limit N] [--live SECS]
//! ```
//!
//! Seeds `octocat/Hello-World`, `octocat/Spoon-Knife` and `monalisa/octo-app` with events,
//! plus `demo/repo-0..N-1` (default N = 3) with 50 events each, prints the base URL and serves
//! until Ctrl-C. With `--live SECS` a new event (and a star) lands on a repository every SECS.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use fake_github::{FakeEvent, FakeGitHub};

const USAGE: &str =
    "usage: fake-github [--addr HOST:PORT] [--repos N] [--rate-limit N] [--live SECS]";
const EVENT_TYPES: [&str; 6] = [
    "PushEvent",
    "WatchEvent",
    "IssuesEvent",
    "PullRequestEvent",
    "ForkEvent",
    "IssueCommentEvent",
];
const ACTORS: [&str; 4] = ["octocat", "monalisa", "hubot", "defunkt"];

struct Options {
    addr: SocketAddr,
    repos: usize,
    rate_limit: Option<i64>,
    live: Option<u64>,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 9100)),
        repos: 3,
        rate_limit: None,
        live: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |e: &dyn std::fmt::Display| format!("bad value for {flag}: {value}: {e}");
        match flag.as_str() {
            "--addr" => opts.addr = value.parse().map_err(|e| bad(&e))?,
            "--repos" => opts.repos = value.parse().map_err(|e| bad(&e))?,
            "--rate-limit" => opts.rate_limit = Some(value.parse().map_err(|e| bad(&e))?),
            "--live" => opts.live = Some(value.parse().map_err(|e| bad(&e))?).filter(|s| *s > 0),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(opts)
}

/// `count` events of varied types and actors, one every 10 minutes up to now.
fn varied_events(gh: &FakeGitHub, count: usize, salt: usize) -> Vec<FakeEvent> {
    let now = Utc::now();
    (0..count)
        .map(|i| {
            let back = i64::try_from(count - i).unwrap_or(i64::MAX / 600);
            FakeEvent {
                id: gh.next_event_id(),
                event_type: EVENT_TYPES[(i + salt) % EVENT_TYPES.len()].to_string(),
                created_at: now - chrono::Duration::minutes(10 * back),
                actor_login: ACTORS[(i * 7 + salt) % ACTORS.len()].to_string(),
            }
        })
        .collect()
}

/// A seeded repository: owner, name, stars, forks, watchers.
type Seeded = (String, String, i64, i64, i64);

fn seed(gh: &FakeGitHub, repos: usize) -> Vec<Seeded> {
    gh.add_user("octocat", Some("The Octocat"));
    gh.add_user("monalisa", Some("Mona Lisa Octocat"));
    gh.add_user("hubot", None);
    gh.add_user("defunkt", Some("Chris Wanstrath"));
    let mut all = Vec::new();
    let fixed = [
        ("octocat", "Hello-World", 2900, 2600, 160),
        ("octocat", "Spoon-Knife", 12800, 150_000, 320),
        ("monalisa", "octo-app", 42, 7, 5),
    ];
    for (i, (owner, name, stars, forks, watchers)) in fixed.into_iter().enumerate() {
        gh.add_repo(owner, name);
        gh.set_repo_counts(owner, name, stars, forks, watchers);
        gh.push_events(owner, name, varied_events(gh, 40, i));
        all.push((owner.to_string(), name.to_string(), stars, forks, watchers));
    }
    for i in 0..repos {
        let name = format!("repo-{i}");
        gh.add_repo("demo", &name);
        let n = i64::try_from(i).unwrap_or(0);
        let (stars, forks, watchers) = (10 + n * 3, n, 1 + n % 7);
        gh.set_repo_counts("demo", &name, stars, forks, watchers);
        gh.push_events("demo", &name, varied_events(gh, 50, i));
        all.push(("demo".to_string(), name, stars, forks, watchers));
    }
    all
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let gh = match FakeGitHub::start_on(opts.addr).await {
        Ok(gh) => gh,
        Err(err) => {
            eprintln!("cannot listen on {}: {err}", opts.addr);
            return ExitCode::FAILURE;
        }
    };
    let mut repos = seed(&gh, opts.repos);
    if let Some(limit) = opts.rate_limit {
        gh.set_rate_limit(limit, limit, Utc::now().timestamp() + 3600);
    }
    println!("fake GitHub listening on {}", gh.url());
    println!("  GITHUB_API_URL={0} GITHUB_WEB_URL={0}", gh.url());
    println!(
        "  {} repositories, e.g. {}/repos/octocat/Hello-World/events",
        repos.len(),
        gh.url()
    );

    if let Some(secs) = opts.live {
        let live = gh.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(secs));
            tick.tick().await;
            for n in 0usize.. {
                tick.tick().await;
                let i = n % repos.len();
                let (owner, name, stars, forks, watchers) = &mut repos[i];
                *stars += 1;
                let mut events = varied_events(&live, 1, n);
                if let Some(e) = events.first_mut() {
                    e.event_type = "WatchEvent".to_string();
                    e.created_at = Utc::now();
                }
                live.push_events(owner, name, events);
                live.set_repo_counts(owner, name, *stars, *forks, *watchers);
            }
        });
    }

    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {err}");
        return ExitCode::FAILURE;
    }
    println!("bye");
    ExitCode::SUCCESS
}
