//! Commit ingestion benchmark, driven by `bench/ingest.sh` against a release server:
//! 1000-commit batches of new commits and resends of the same batches, p50/p95 over
//! `RUNS` runs; then the cost of authenticating with an API key after its first use,
//! measured in process against the same database.
//!
//! Usage: ingest_bench <server url> <database url> [runs]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .ok_or("usage: ingest_bench <server url> <database url> [runs]")?;
    let database = args.next().ok_or("missing database url")?;
    let runs: usize = args.next().map_or(Ok(30), |r| r.parse())?;
    let http = reqwest::Client::new();

    let user = format!("bench{}", uuid::Uuid::new_v4().simple());
    let token = call(
        &http,
        &base,
        "/auth/register",
        None,
        json!({"username": user, "password": "benchmark-password"}),
    )
    .await?;
    let jwt = token["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_string();
    let project = call(
        &http,
        &base,
        "/api/v1/projects",
        Some(&jwt),
        json!({"name": "bench", "slug": "bench"}),
    )
    .await?;
    let pid = project["id"].as_i64().ok_or("no project id")?;
    let repo = call(
        &http,
        &base,
        &format!("/api/v1/projects/{pid}/repos"),
        Some(&jwt),
        json!({"name": "bench"}),
    )
    .await?;
    let rid = repo["id"].as_i64().ok_or("no repo id")?;
    let key = call(
        &http,
        &base,
        "/api/v1/api-keys/",
        Some(&jwt),
        json!({"name": "bench"}),
    )
    .await?;
    let key = key["full_key"].as_str().ok_or("no key")?.to_string();
    let push = format!("/api/v1/sync/projects/{pid}/repos/{rid}/commits");

    // Warm up connections, caches and the key (its first use runs argon2).
    call(&http, &base, &push, Some(&key), batch(usize::MAX / 2)).await?;

    let (mut fresh, mut resend) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let body = batch(run);
        let started = Instant::now();
        let result = call(&http, &base, &push, Some(&key), body.clone()).await?;
        fresh.push(started.elapsed());
        assert_eq!(result["inserted"], 1000, "fresh batch inserts everything");
        let started = Instant::now();
        let result = call(&http, &base, &push, Some(&key), body).await?;
        resend.push(started.elapsed());
        assert_eq!(result["skipped"], 1000, "resend skips everything");
    }
    report("1000-commit batch, new commits", &mut fresh);
    report("1000-commit batch, resend (all skipped)", &mut resend);

    // API key authentication after first use, in process (no HTTP).
    let config = gitpulse::config::Config {
        database_url: gitpulse::config::Secret::new(database),
        ..gitpulse::config::Config::default()
    };
    let state = gitpulse::start(config).await?;
    state.api_keys.authenticate(&state.db, &key, None).await?;
    let mut auth = Vec::new();
    for _ in 0..5000 {
        let started = Instant::now();
        state.api_keys.authenticate(&state.db, &key, None).await?;
        auth.push(started.elapsed());
    }
    report(
        "API key authentication (cached, with revocation check)",
        &mut auth,
    );
    Ok(())
}

/// 1000 valid commits whose shas are unique to `run`.
fn batch(run: usize) -> Value {
    let commits: Vec<Value> = (0..1000)
        .map(|i| {
            json!({
                "sha": format!("{:016x}{:024x}", run, i),
                "author_name": "Bench Author", "author_email": "bench@example.com",
                "committer_name": "Bench Author", "committer_email": "bench@example.com",
                "commit_date": "2026-01-02T12:00:00Z",
                "message_title": format!("Benchmark commit {i} of run {run}"),
                "message_body": "A body of moderate length describing the change in detail.",
                "additions": i % 50, "deletions": i % 7, "files_changed": 1 + i % 5,
                "is_merge": false, "parent_count": 1,
            })
        })
        .collect();
    json!({"commits": commits, "client_version": "ingest_bench"})
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Result<Value, Error> {
    let mut request = http.post(format!("{base}{path}")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let value: Value = response.json().await?;
    if !status.is_success() {
        return Err(format!("{path}: {status} {value}").into());
    }
    Ok(value)
}

fn report(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label}: n={} p50={:.3} ms p95={:.3} ms min={:.3} ms max={:.3} ms",
        samples.len(),
        ms(at(0.5)),
        ms(at(0.95)),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
}
