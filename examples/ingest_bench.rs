//! Commit ingestion benchmark, driven by `bench/ingest.sh` against a release server:
//! 1000-commit batches of new commits, resends of the same batches (a retried request) and
//! resends of the batch before (not the repository's last: every sha is looked up), p50/p95 over
//! `RUNS` runs; in the same runs, the floor: the same 1000 rows written by PostgreSQL
//! itself with one `\copy` from `psql` into a fresh repository; then the cost of
//! authenticating with an API key after its first use, measured in process.
//!
//! Usage: ingest_bench <server url> <database url> [runs]

use std::process::Command;
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

    let db = sqlx::PgPool::connect(&database).await?;
    let rows_file = std::env::temp_dir().join(format!("ingest_bench_{}.tsv", std::process::id()));
    let (mut fresh, mut resend, mut older) = (Vec::new(), Vec::new(), Vec::new());
    let (mut copy_wall, mut copy_psql, mut select_wall) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // The body is serialised before the clock starts: the figures are the server's.
        let body = serde_json::to_vec(&batch(run))?;
        let started = Instant::now();
        let result = push_bytes(&http, &base, &push, &key, body.clone()).await?;
        fresh.push(started.elapsed());
        assert_eq!(result.inserted, 1000, "fresh batch inserts everything");
        let started = Instant::now();
        let result = push_bytes(&http, &base, &push, &key, body).await?;
        resend.push(started.elapsed());
        assert_eq!(result.skipped, 1000, "resend skips everything");
        if run > 0 {
            let body = serde_json::to_vec(&batch(run - 1))?;
            let started = Instant::now();
            let result = push_bytes(&http, &base, &push, &key, body).await?;
            older.push(started.elapsed());
            assert_eq!(
                result.skipped, 1000,
                "an earlier batch again skips everything"
            );
        }

        // The floor, interleaved so that it sees the same machine load.
        let floor_repo: i64 = sqlx::query_scalar(
            "insert into project_repos (project_id, name, sync_method)
             values ($1, $2, 'push_client') returning id",
        )
        .bind(pid)
        .bind(format!("floor-{run}"))
        .fetch_one(&db)
        .await?;
        std::fs::write(&rows_file, copy_rows(floor_repo, run))?;
        let (wall, timed) = psql_copy(&database, &rows_file)?;
        copy_wall.push(wall);
        copy_psql.push(timed);
        select_wall.push(psql_wall(&database, &["-c", "select 1"])?);
        let copied: i64 =
            sqlx::query_scalar("select count(*) from repo_commits where repo_id = $1")
                .bind(floor_repo)
                .fetch_one(&db)
                .await?;
        assert_eq!(copied, 1000, "the floor's copy stores the whole batch");
    }
    let _ = std::fs::remove_file(&rows_file);
    // Each run's new batch against the floor measured right after it: paired, so that the
    // machine's drift from minute to minute cancels out.
    let mut paired: Vec<f64> = fresh
        .iter()
        .zip(&copy_psql)
        .map(|(new, floor)| ms(*new) / ms(*floor))
        .collect();
    paired.sort_by(f64::total_cmp);
    let fresh_p50 = report("1000-commit batch, new commits", &mut fresh);
    let resend_p50 = report("1000-commit batch, resend (all skipped)", &mut resend);
    if !older.is_empty() {
        report(
            "1000-commit batch, the batch before again (all skipped, each sha looked up)",
            &mut older,
        );
    }
    let wall_p50 = report(
        "floor: psql \\copy of the same 1000 rows, process wall time",
        &mut copy_wall,
    );
    let select_p50 = report(
        "floor: psql -c 'select 1', process wall time",
        &mut select_wall,
    );
    let timed_p50 = report(
        "floor: the \\copy as timed by psql (\\timing)",
        &mut copy_psql,
    );
    let floor = wall_p50.saturating_sub(select_p50);
    println!(
        "floor (copy wall p50 - select 1 wall p50): {:.3} ms; new batch / floor = {:.2}; \
         resend / floor = {:.2} (against psql's own timing: {:.2} / {:.2})",
        ms(floor),
        ms(fresh_p50) / ms(floor),
        ms(resend_p50) / ms(floor),
        ms(fresh_p50) / ms(timed_p50),
        ms(resend_p50) / ms(timed_p50),
    );
    println!(
        "new batch / floor, paired per run (psql's timing): median {:.2}, quartiles {:.2}-{:.2}",
        paired[paired.len() / 2],
        paired[paired.len() / 4],
        paired[paired.len() * 3 / 4],
    );

    // API key authentication after first use, in process (no HTTP).
    let config = gitpulse::config::Config {
        database_url: gitpulse::config::Secret::new(database),
        data_dir: Some(std::env::temp_dir().join(format!("ingest_bench_{}", std::process::id()))),
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

const AUTHOR: &str = "Bench Author";
const EMAIL: &str = "bench@example.com";
const BODY: &str = "A body of moderate length describing the change in detail.";

fn sha(run: usize, i: usize) -> String {
    format!("{run:016x}{i:024x}")
}

fn title(run: usize, i: usize) -> String {
    format!("Benchmark commit {i} of run {run}")
}

/// 1000 valid commits whose shas are unique to `run`.
fn batch(run: usize) -> Value {
    let commits: Vec<Value> = (0..1000)
        .map(|i| {
            json!({
                "sha": sha(run, i),
                "author_name": AUTHOR, "author_email": EMAIL,
                "committer_name": AUTHOR, "committer_email": EMAIL,
                "commit_date": "2026-01-02T12:00:00Z",
                "message_title": title(run, i),
                "message_body": BODY,
                "additions": i % 50, "deletions": i % 7, "files_changed": 1 + i % 5,
                "is_merge": false, "parent_count": 1,
            })
        })
        .collect();
    json!({"commits": commits, "client_version": "ingest_bench"})
}

const COPY_COLUMNS: &str = "repo_id, sha, author_name, author_email, committer_name, \
     committer_email, commit_date, message_title, message_body, additions, deletions, \
     files_changed, is_merge, parent_count";

/// The rows `batch(run)` stores, in `COPY`'s text format, for repository `repo_id`.
fn copy_rows(repo_id: i64, run: usize) -> String {
    (0..1000)
        .map(|i| {
            format!(
                "{repo_id}\t{}\t{AUTHOR}\t{EMAIL}\t{AUTHOR}\t{EMAIL}\t2026-01-02 12:00:00+00\t{}\t{BODY}\t{}\t{}\t{}\tf\t1\n",
                sha(run, i),
                title(run, i),
                i % 50,
                i % 7,
                1 + i % 5
            )
        })
        .collect()
}

/// One `psql` process running `\copy` of `file` (autocommit: one durable transaction).
/// Returns the process's wall time and the copy's own time as psql's `\timing` reports it.
fn psql_copy(database: &str, file: &std::path::Path) -> Result<(Duration, Duration), Error> {
    let copy = format!(
        "\\copy repo_commits ({COPY_COLUMNS}) from '{}'",
        file.display()
    );
    let started = Instant::now();
    let output = Command::new("psql")
        .args([
            database,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "\\timing on",
            "-c",
            &copy,
        ])
        .output()?;
    let wall = started.elapsed();
    if !output.status.success() {
        return Err(format!("psql: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let timed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Time: "))
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(|| format!("no timing in psql's output: {stdout}"))?;
    Ok((wall, Duration::from_secs_f64(timed / 1000.0)))
}

fn psql_wall(database: &str, args: &[&str]) -> Result<Duration, Error> {
    let started = Instant::now();
    let output = Command::new("psql")
        .arg(database)
        .arg("-X")
        .arg("-q")
        .args(args)
        .output()?;
    if !output.status.success() {
        return Err(format!("psql: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(started.elapsed())
}

#[derive(serde::Deserialize)]
struct Counts {
    inserted: u64,
    skipped: u64,
}

/// Pushes a serialised batch and reads the counts of the answer.
async fn push_bytes(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    key: &str,
    body: Vec<u8>,
) -> Result<Counts, Error> {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    if !status.is_success() {
        return Err(format!("{path}: {status} {}", String::from_utf8_lossy(&bytes)).into());
    }
    Ok(serde_json::from_slice(&bytes)?)
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints the distribution and returns the p50.
fn report(label: &str, samples: &mut [Duration]) -> Duration {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label}: n={} p50={:.3} ms p95={:.3} ms min={:.3} ms max={:.3} ms",
        samples.len(),
        ms(at(0.5)),
        ms(at(0.95)),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
    at(0.5)
}
