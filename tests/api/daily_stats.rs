//! The daily stats scan against the fake GitHub: one row per repository per day,
//! idempotent reruns, GraphQL batching, REST with ETags, new repositories of tracked
//! accounts, rate limits, and one claim across replicas.

use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use gitpulse::daily_stats::{run_claimed, run_daily_scan};
use reqwest::StatusCode;
use serde_json::json;

use crate::accounts::{days_ago, put_account, rows_on, seed_account, server, today};
use crate::support::{TestApp, json_of};

async fn counts_of(app: &TestApp, name: &str) -> Vec<(String, i64, i64, i64)> {
    sqlx::query_as(
        "select to_char(s.date, 'YYYY-MM-DD'), s.stargazers, s.forks, s.watchers
           from repository_daily_stats s join repositories r on r.id = s.repository_id
          where r.name = $1 order by s.date",
    )
    .bind(name)
    .fetch_all(&app.state.db)
    .await
    .expect("rows")
}

#[tokio::test]
async fn a_row_per_day_and_reruns_the_same_day_update_it() {
    let gh = FakeGitHub::start().await;
    seed_account(&gh, "octo", "repo", 3);
    gh.set_repo_counts("octo", "repo-000", 5, 1, 2);
    let app = server(&gh, true).await;
    let token = app.register("alice").await;
    put_account(&app, &token, "octo").await;

    // Days before the account was tracked, and today again.
    for day in [days_ago(2), days_ago(1)] {
        let summary = run_daily_scan(&app.state, day).await.expect("scan");
        assert_eq!((summary.repositories, summary.recorded), (3, 3));
    }
    assert_eq!(rows_on(&app, days_ago(2)).await, 3);
    assert_eq!(rows_on(&app, today()).await, 3);

    gh.set_repo_counts("octo", "repo-000", 7, 1, 3);
    let summary = run_daily_scan(&app.state, today()).await.expect("rerun");
    assert_eq!(summary.recorded, 3);
    assert_eq!(rows_on(&app, today()).await, 3, "same row count");
    let total: i64 = sqlx::query_scalar("select count(*) from repository_daily_stats")
        .fetch_one(&app.state.db)
        .await
        .expect("count");
    assert_eq!(total, 9);
    let rows = counts_of(&app, "repo-000").await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2], (today().to_string(), 7, 1, 3), "updated values");
}

#[tokio::test]
async fn ten_thousand_repositories_take_at_most_100_graphql_requests() {
    let gh = FakeGitHub::start().await;
    let seeding = Instant::now();
    for i in 0..10_000 {
        gh.add_repo("bulk", &format!("r{i:05}"));
    }
    gh.set_repo_counts("bulk", "r09999", 99, 98, 97);
    let seeded_in = seeding.elapsed();
    let app = server(&gh, true).await;
    let token = app.register("alice").await;
    let user_id: i64 = sqlx::query_scalar("select id from users")
        .fetch_one(&app.state.db)
        .await
        .expect("user");
    sqlx::query(
        "with added as (
             insert into repositories (owner, name)
             select 'bulk', 'r' || lpad(i::text, 5, '0') from generate_series(0, 9999) as i
             returning id)
         insert into tracked_repositories (user_id, repository_id) select $1, id from added",
    )
    .bind(user_id)
    .execute(&app.state.db)
    .await
    .expect("track 10,000 repositories");

    let started = Instant::now();
    let summary = run_daily_scan(&app.state, today()).await.expect("scan");
    let took = started.elapsed();
    eprintln!("10,000 repositories: seeded in {seeded_in:?}, scanned in {took:?}");
    assert_eq!(summary.repositories, 10_000);
    assert_eq!(summary.recorded, 10_000);
    assert_eq!(gh.request_count("/graphql"), 100);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(rows_on(&app, today()).await, 10_000);
    assert_eq!(
        counts_of(&app, "r09999").await,
        [(today().to_string(), 99, 98, 97)]
    );
    // The history route serves directly tracked repositories.
    let (status, body) = json_of(
        app.get("/repositories/bulk/r09999/history", Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["history"][0]["watchers"], 97);
}

#[tokio::test]
async fn repositories_that_no_longer_resolve_do_not_lose_the_others() {
    let gh = FakeGitHub::start().await;
    seed_account(&gh, "octo", "repo", 3);
    let app = server(&gh, true).await;
    let token = app.register("alice").await;
    put_account(&app, &token, "octo").await;
    gh.remove_repo("octo", "repo-001");

    let summary = run_daily_scan(&app.state, days_ago(1)).await.expect("scan");
    assert_eq!((summary.recorded, summary.missing), (2, 1));
    assert_eq!(rows_on(&app, days_ago(1)).await, 2);
}

#[tokio::test]
async fn a_graphql_rate_limit_ends_the_run_until_later() {
    let gh = FakeGitHub::start().await;
    seed_account(&gh, "octo", "repo", 2);
    let app = server(&gh, true).await;
    let token = app.register("alice").await;
    put_account(&app, &token, "octo").await;

    gh.graphql_rate_limit_next();
    let summary = run_claimed(&app.state, "test-period", days_ago(1))
        .await
        .expect("run")
        .expect("claimed");
    assert!(summary.rate_limited_until.is_some(), "{summary:?}");
    assert_eq!(rows_on(&app, days_ago(1)).await, 0);
    // The unfinished run is not claimed again before the limit resets.
    let again = run_claimed(&app.state, "test-period", days_ago(1))
        .await
        .expect("run");
    assert_eq!(again, None);

    // Once the lease has passed, the run is claimed again and completes.
    sqlx::query("update scheduled_runs set lease_until = now() - interval '1 second'")
        .execute(&app.state.db)
        .await
        .expect("expire");
    let summary = run_claimed(&app.state, "test-period", days_ago(1))
        .await
        .expect("run")
        .expect("claimed again");
    assert_eq!(summary.recorded, 2);
    assert_eq!(
        run_claimed(&app.state, "test-period", days_ago(1))
            .await
            .expect("run"),
        None,
        "finished runs are not repeated"
    );
}

#[tokio::test]
async fn without_a_token_the_scan_uses_rest_with_etags() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "widget");
    gh.set_repo_counts("acme", "widget", 30, 4, 6);
    let app = server(&gh, false).await;
    let token = app.register("alice").await;
    let (status, _) = json_of(
        app.post_json(
            "/repositories",
            &json!({"owner": "acme", "name": "widget"}),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    gh.clear_requests();

    let first = run_daily_scan(&app.state, days_ago(1)).await.expect("scan");
    assert_eq!((first.recorded, first.not_modified), (1, 0));
    let second = run_daily_scan(&app.state, today()).await.expect("scan");
    assert_eq!((second.recorded, second.not_modified), (1, 1));

    let requests: Vec<_> = gh
        .requests()
        .into_iter()
        .filter(|r| r.path == "/repos/acme/widget")
        .collect();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].header("if-none-match").is_none());
    assert!(requests[1].header("if-none-match").is_some());
    assert_eq!(requests[1].status, 304);
    assert_eq!(gh.request_count("/graphql"), 0);
    assert_eq!(
        counts_of(&app, "widget").await,
        [
            (days_ago(1).to_string(), 30, 4, 6),
            (today().to_string(), 30, 4, 6)
        ],
        "a 304 re-records the previous counts"
    );

    gh.set_repo_counts("acme", "widget", 31, 4, 6);
    run_daily_scan(&app.state, today()).await.expect("scan");
    assert_eq!(
        counts_of(&app, "widget").await[1],
        (today().to_string(), 31, 4, 6)
    );
}

#[tokio::test]
async fn new_repositories_of_a_tracked_account_are_picked_up() {
    let gh = FakeGitHub::start().await;
    let id = seed_account(&gh, "octo", "repo", 2);
    let app = server(&gh, true).await;
    let token = app.register("alice").await;
    put_account(&app, &token, "octo").await;

    // Unchanged list: its page answers 304.
    gh.clear_requests();
    run_daily_scan(&app.state, today()).await.expect("scan");
    let list = gh
        .requests()
        .into_iter()
        .find(|r| r.path == "/users/octo/repos")
        .expect("list refreshed");
    assert!(list.header("if-none-match").is_some());
    assert_eq!(list.status, 304);

    gh.add_repo("octo", "repo-new");
    let summary = run_daily_scan(&app.state, today()).await.expect("scan");
    assert_eq!(summary.repositories, 3);
    let (_, body) = json_of(
        app.get(&format!("/v1/users/{id}/stats"), Some(&token))
            .await,
    )
    .await;
    assert_eq!(body["stats"].as_array().map(Vec::len), Some(3));
    let (status, body) = put_account(&app, &token, "octo").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["repositories"], 3);
}

#[tokio::test]
async fn two_replicas_run_a_period_once() {
    let gh = FakeGitHub::start().await;
    seed_account(&gh, "octo", "repo", 5);
    let app = server(&gh, true).await;
    let replica = app.replica().await;
    let token = app.register("alice").await;
    put_account(&app, &token, "octo").await;
    gh.clear_requests();

    let (a, b) = tokio::join!(
        run_claimed(&app.state, "2030-01-01", today()),
        run_claimed(&replica.state, "2030-01-01", today()),
    );
    let ran: Vec<_> = [a.expect("run"), b.expect("run")]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(ran.len(), 1, "exactly one replica ran it");
    assert_eq!(gh.request_count("/graphql"), 1);
    assert_eq!(gh.request_count("/users/octo/repos"), 1);
}

#[tokio::test]
async fn the_scheduler_scans_every_interval_on_one_replica_at_a_time() {
    let gh = FakeGitHub::start().await;
    seed_account(&gh, "octo", "repo", 2);
    let app = TestApp::with_github(&gh, |c| {
        c.stats_interval_secs = Some(1);
        c.github_max_requests_per_minute = 100_000;
        c.github_tokens = vec![gitpulse::config::Secret::new("ghp_test_token")];
    })
    .await;
    let replica = app.replica().await;
    let token = app.register("alice").await;
    put_account(&app, &token, "octo").await;
    gh.clear_requests();
    let count = |sql: &'static str| {
        let db = app.state.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&db)
                .await
                .expect("count runs")
        }
    };
    let before = count("select count(*) from scheduled_runs").await;

    let deadline = Instant::now() + Duration::from_secs(10);
    while count("select count(*) from scheduled_runs where finished_at is not null").await
        < before + 3
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.state.shutdown.cancel();
    replica.state.shutdown.cancel();
    // Let a run in flight end (a run takes milliseconds).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let runs = count("select count(*) from scheduled_runs").await - before;
    let graphql = gh.request_count("/graphql") as i64;
    assert!(runs >= 3, "the scheduler ran the scan ({runs} runs)");
    // One request per run, give or take one run at either end of the window (claimed
    // before counting began, or interrupted by the shutdown): a period run by both
    // replicas would double it.
    assert!(
        (runs - 1..=runs + 1).contains(&graphql),
        "{graphql} GraphQL requests for {runs} runs"
    );
    assert_eq!(rows_on(&app, today()).await, 2);
}
