//! The GitHub client against the fake GitHub: tokens, pacing, concurrency, retries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_github::{FakeGitHub, Fault};
use gitpulse::config::{Config, Secret};
use gitpulse::github::{GitHubClient, GitHubError};
use gitpulse::metrics::Metrics;

fn client_for(gh: &FakeGitHub, adjust: impl FnOnce(&mut Config)) -> (GitHubClient, Arc<Metrics>) {
    let mut config = Config {
        github_api_url: gh.url(),
        ..Config::default()
    };
    adjust(&mut config);
    let metrics = Arc::new(Metrics::default());
    (
        GitHubClient::new(&config, metrics.clone()).expect("client"),
        metrics,
    )
}

#[tokio::test]
async fn tokens_are_rotated_when_one_is_spent() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "app");
    let (client, _) = client_for(&gh, |c| {
        c.github_tokens = vec![Secret::new("tok-a"), Secret::new("tok-b")]
    });
    // Whichever token goes first is told its quota is spent for an hour: the other takes over.
    let reset = chrono::Utc::now().timestamp() + 3600;
    gh.fail_next(
        "/repos/acme/app",
        Fault::RateLimitedPrimary { reset_epoch: reset },
    );
    let response = client
        .get("/repos/acme/app", None)
        .await
        .expect("served by the other token");
    assert_eq!(response.status, 200);
    let auth: Vec<String> = gh
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_string))
        .collect();
    assert_eq!(auth.len(), 2);
    assert_ne!(auth[0], auth[1], "the second attempt used the other token");
    // The spent token stays out of use: later requests use the fresh one.
    client.get("/repos/acme/app", None).await.expect("ok");
    let last = gh
        .requests()
        .last()
        .and_then(|r| r.header("authorization").map(str::to_string));
    assert_eq!(last.as_deref(), Some(auth[1].as_str()));
}

#[tokio::test]
async fn a_spent_quota_beyond_a_minute_is_reported_not_slept() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "app");
    let (client, _) = client_for(&gh, |c| c.github_tokens = vec![Secret::new("only")]);
    let reset = chrono::Utc::now().timestamp() + 3600;
    gh.fail_next(
        "/repos/acme/app",
        Fault::RateLimitedPrimary { reset_epoch: reset },
    );
    let started = Instant::now();
    match client.get("/repos/acme/app", None).await {
        Err(GitHubError::RateLimited { until }) => assert!(until.timestamp() >= reset),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "app");
    let (client, metrics) = client_for(&gh, |_| {});
    gh.fail_next("/repos/acme/app", Fault::Status(502));
    assert!(
        client.get("/repos/acme/app", None).await.is_ok(),
        "one 502 is retried"
    );
    for _ in 0..3 {
        gh.fail_next("/repos/acme/app", Fault::Status(500));
    }
    match client.get("/repos/acme/app", None).await {
        Err(GitHubError::Unavailable(message)) => assert!(message.contains("500"), "{message}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert_eq!(
        gh.request_count("/repos/acme/app"),
        2 + 3,
        "two retries after the first failure"
    );
    let text = metrics.render();
    assert!(
        text.contains("gitpulse_github_requests_total{outcome=\"5xx\"} 4"),
        "{text}"
    );
    assert!(
        text.contains("gitpulse_github_requests_total{outcome=\"200\"} 1"),
        "{text}"
    );
    assert!(matches!(
        client.get("/repos/acme/missing", None).await,
        Err(GitHubError::NotFound)
    ));
}

#[tokio::test]
async fn unreachable_github_is_unavailable_not_a_hang() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let config = Config {
        github_api_url: format!("http://127.0.0.1:{port}"),
        ..Config::default()
    };
    let client = GitHubClient::new(&config, Arc::new(Metrics::default())).expect("client");
    let started = Instant::now();
    assert!(matches!(
        client.get("/repos/a/b", None).await,
        Err(GitHubError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn requests_are_paced_per_token() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "app");
    // 120 per minute = one every 0.5 s after a burst of 10.
    let (client, _) = client_for(&gh, |c| c.github_max_requests_per_minute = 120);
    let started = Instant::now();
    for _ in 0..14 {
        client.get("/repos/acme/app", None).await.expect("ok");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1800),
        "4 paced requests take about 2 s: {elapsed:?}"
    );
}

#[tokio::test]
async fn requests_in_flight_are_bounded() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "app");
    let (client, _) = client_for(&gh, |c| c.github_max_concurrency = 2);
    for _ in 0..6 {
        gh.fail_next("/repos/acme/app", Fault::Delay(Duration::from_millis(300)));
    }
    let client = Arc::new(client);
    let started = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get("/repos/acme/app", None).await.map(|r| r.status) })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.expect("joined").expect("ok"), 200);
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(850),
        "6 slow requests, 2 at a time: {elapsed:?}"
    );
}

#[tokio::test]
async fn anonymous_requests_carry_no_authorization_and_304s_are_free() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "app");
    let (client, _) = client_for(&gh, |c| c.github_tokens = vec![Secret::new("tok")]);
    let first = client.get("/repos/acme/app", None).await.expect("ok");
    let etag = first.etag().expect("etag");
    let second = client
        .get("/repos/acme/app", Some(&etag))
        .await
        .expect("ok");
    assert!(second.not_modified());
    let remaining: Vec<String> = gh
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().to_string())
        .collect();
    assert_eq!(remaining, ["Bearer tok", "Bearer tok"]);

    let gh2 = FakeGitHub::start().await;
    gh2.add_repo("acme", "app");
    let (anonymous, _) = client_for(&gh2, |_| {});
    anonymous.get("/repos/acme/app", None).await.expect("ok");
    assert!(gh2.requests()[0].header("authorization").is_none());
}

#[tokio::test]
async fn a_rate_limit_answer_lowers_concurrency_to_one() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "app");
    let (client, _) = client_for(&gh, |c| c.github_max_concurrency = 4);
    gh.fail_next("/repos/acme/app", Fault::TooMany429 { retry_after: 1 });
    client
        .get("/repos/acme/app", None)
        .await
        .expect("waited out");
    for _ in 0..4 {
        gh.fail_next("/repos/acme/app", Fault::Delay(Duration::from_millis(250)));
    }
    let client = Arc::new(client);
    let started = Instant::now();
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get("/repos/acme/app", None).await.map(|r| r.status) })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.expect("joined").expect("ok"), 200);
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(950),
        "4 slow requests one at a time: {elapsed:?}"
    );
}
