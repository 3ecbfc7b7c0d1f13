//! Standalone fake GitHub for demos and benchmarks.
//!
//! ```text
//! cargo run --release -p fake-github -- [--addr 127.0.0.1:9100] [--repos N] [--rate-limit N]
//!                                       [--live SECS] [--sign-in-as LOGIN]
//! ```
//!
//! Serves the demo world (see `demo.rs`): the organization `acme` with members and
//! repositories, users with repositories, events, commits, pull requests, issues, issue
//! events and a year of star history, plus `demo/repo-0..N-1` (default N = 3) with 50 events
//! each. Its OAuth app approves every authorization at once as `--sign-in-as` (default
//! octocat; an empty value shows a stand-in page instead), so "Sign in with GitHub"
//! completes without a browser. Prints the base URL and serves until Ctrl-C. `--rate-limit N`
//! sets the authenticated hourly budget (default 5000). With `--live SECS` a new event (and
//! a star) lands on a repository every SECS.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use fake_github::{DEMO_LOGIN, FakeGitHub};

const USAGE: &str = "usage: fake-github [--addr HOST:PORT] [--repos N] [--rate-limit N] [--live SECS] [--sign-in-as LOGIN]

  --addr HOST:PORT    where to listen (default 127.0.0.1:9100)
  --repos N           extra repositories demo/repo-0..N-1 with 50 events each (default 3)
  --rate-limit N      requests per hour for authenticated calls (default 5000)
  --live SECS         every SECS, a new event and a star on one of the repositories
  --sign-in-as LOGIN  the OAuth authorize step approves at once as LOGIN and redirects back
                      with a code (default octocat; empty: a stand-in page, no redirect)";

struct Options {
    addr: SocketAddr,
    repos: usize,
    rate_limit: Option<i64>,
    live: Option<u64>,
    sign_in_as: String,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 9100)),
        repos: 3,
        rate_limit: None,
        live: None,
        sign_in_as: DEMO_LOGIN.to_string(),
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
            "--sign-in-as" => opts.sign_in_as = value.trim().to_string(),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(opts)
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(msg) if msg == USAGE => {
            println!("{msg}");
            return ExitCode::SUCCESS;
        }
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
    let mut repos = gh.seed_demo_world(opts.repos);
    if let Some(limit) = opts.rate_limit {
        gh.set_rate_limit(limit, limit, Utc::now().timestamp() + 3600);
    }
    if !opts.sign_in_as.is_empty() {
        gh.set_authorize_as(&opts.sign_in_as);
    }
    let url = gh.url();
    println!("fake GitHub listening on {url}");
    println!("  GITHUB_API_URL={url} GITHUB_WEB_URL={url}");
    println!(
        "  {} repositories, e.g. {url}/repos/acme/widgets/events; organization acme",
        repos.len()
    );
    if opts.sign_in_as.is_empty() {
        println!("  OAuth: the authorize page is a stand-in (--sign-in-as is empty)");
    } else {
        println!(
            "  OAuth: any client id and secret; authorizing signs in as {}",
            opts.sign_in_as
        );
    }

    if let Some(secs) = opts.live {
        let live = gh.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(secs));
            tick.tick().await;
            for n in 0usize.. {
                tick.tick().await;
                let i = n % repos.len();
                let repo = &mut repos[i];
                repo.stars += 1;
                let mut events = live.demo_events(1, n);
                if let Some(e) = events.first_mut() {
                    e.event_type = "WatchEvent".to_string();
                    e.created_at = Utc::now();
                }
                live.push_events(&repo.owner, &repo.name, events);
                live.set_repo_counts(
                    &repo.owner,
                    &repo.name,
                    repo.stars,
                    repo.forks,
                    repo.watchers,
                );
                live.add_star_gain(&repo.owner, &repo.name, Utc::now().date_naive(), 1);
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
