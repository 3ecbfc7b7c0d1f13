//! The event poller against the fake GitHub: conditional requests, paging, dedup,
//! trimming, rate limits, failures and replicas.

use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use fake_github::{FakeGitHub, Fault};
use gitpulse::jobs::poller::poll_due;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, json_of};

/// A server (scheduler off: the test drives the polls) whose user tracks `repos`.
async fn tracking(
    gh: &FakeGitHub,
    repos: &[&str],
    adjust: impl FnOnce(&mut gitpulse::config::Config),
) -> (TestApp, String) {
    let app = TestApp::with_github(gh, |c| {
        c.scheduler_enabled = false;
        adjust(c);
    })
    .await;
    let token = app.register("poller").await;
    for name in repos {
        gh.add_repo("acme", name);
        let body = json!({"owner": "acme", "name": name});
        let (status, answer) =
            json_of(app.post_json("/repositories", &body, Some(&token)).await).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    (app, token)
}

async fn make_all_due(app: &TestApp) {
    sqlx::query("update repositories set next_poll_at = now()")
        .execute(&app.state.db)
        .await
        .expect("due");
}

async fn stored(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("select count(*) from events e join repositories r on r.id = e.repository_id where r.name = $1")
        .bind(name)
        .fetch_one(&app.state.db)
        .await
        .expect("count")
}

fn events_requests(gh: &FakeGitHub, name: &str) -> Vec<fake_github::RecordedRequest> {
    let path = format!("/repos/acme/{name}/events");
    gh.requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

#[tokio::test]
async fn unchanged_timeline_is_a_304_that_stores_nothing() {
    let gh = FakeGitHub::start().await;
    let (app, token) = tracking(&gh, &["widget"], |_| {}).await;
    gh.generate_events(
        "acme",
        "widget",
        5,
        "PushEvent",
        Utc::now() - chrono::Duration::hours(1),
        60,
    );

    let first = poll_due(&app.state).await.expect("poll");
    assert_eq!((first.polled, first.new_events), (1, 5));
    assert_eq!(stored(&app, "widget").await, 5);
    let (_, list) = json_of(app.get("/repositories", Some(&token)).await).await;
    let synced_first = list["repositories"][0]["last_synchronized"]
        .as_str()
        .expect("synced")
        .to_string();

    // Not due yet: nothing happens.
    assert_eq!(poll_due(&app.state).await.expect("poll").polled, 0);

    make_all_due(&app).await;
    let second = poll_due(&app.state).await.expect("poll");
    assert_eq!(
        (second.polled, second.not_modified, second.new_events),
        (1, 1, 0)
    );
    let requests = events_requests(&gh, "widget");
    assert_eq!(requests.len(), 2);
    assert!(requests[0].header("if-none-match").is_none());
    assert!(
        requests[1].header("if-none-match").is_some(),
        "conditional request with the stored ETag"
    );
    assert_eq!(requests[1].status, 304);
    assert_eq!(stored(&app, "widget").await, 5);
    let (_, list) = json_of(app.get("/repositories", Some(&token)).await).await;
    assert_ne!(
        list["repositories"][0]["last_synchronized"].as_str(),
        Some(synced_first.as_str()),
        "a 304 updates last_synchronized"
    );

    let metrics = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .expect("metrics");
    assert!(
        metrics.contains("gitpulse_github_requests_total{outcome=\"304\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn new_events_are_added_without_duplicates() {
    let gh = FakeGitHub::start().await;
    let (app, _) = tracking(&gh, &["widget"], |_| {}).await;
    let start = Utc::now() - chrono::Duration::hours(3);
    gh.generate_events("acme", "widget", 150, "PushEvent", start, 10);
    poll_due(&app.state).await.expect("poll");
    assert_eq!(stored(&app, "widget").await, 150);

    gh.generate_events(
        "acme",
        "widget",
        30,
        "IssuesEvent",
        start + chrono::Duration::hours(1),
        10,
    );
    make_all_due(&app).await;
    let summary = poll_due(&app.state).await.expect("poll");
    assert_eq!(summary.new_events, 30);
    assert_eq!(stored(&app, "widget").await, 180);
    // The second poll stopped at the first known event: one page.
    assert_eq!(events_requests(&gh, "widget").len(), 2 + 1);
}

#[tokio::test]
async fn at_most_300_fetched_per_poll_and_never_more_than_500_stored() {
    let gh = FakeGitHub::start().await;
    let (app, _) = tracking(&gh, &["busy"], |_| {}).await;
    let start = Utc::now() - chrono::Duration::days(2);
    gh.generate_events("acme", "busy", 800, "PushEvent", start, 60);

    poll_due(&app.state).await.expect("poll");
    let pages = events_requests(&gh, "busy");
    assert_eq!(
        pages.len(),
        3,
        "three pages of 100: GitHub's 300-event window"
    );
    assert!(pages.iter().all(|r| r.status == 200));
    assert_eq!(stored(&app, "busy").await, 300);

    for round in 0..3 {
        gh.generate_events(
            "acme",
            "busy",
            150,
            "WatchEvent",
            start + chrono::Duration::hours(20 + round),
            1,
        );
        make_all_due(&app).await;
        poll_due(&app.state).await.expect("poll");
    }
    assert_eq!(
        stored(&app, "busy").await,
        500,
        "trimmed to EVENTS_KEEP_PER_REPO"
    );
    let newest: i64 = sqlx::query_scalar("select max(id) from events")
        .fetch_one(&app.state.db)
        .await
        .expect("max");
    let upstream_newest: i64 = gh.generate_events("acme", "busy", 1, "PushEvent", Utc::now(), 0)[0]
        .parse()
        .expect("id");
    assert_eq!(
        newest,
        upstream_newest - 1,
        "the newest events are the ones kept"
    );
}

#[tokio::test]
async fn rate_limit_answers_are_waited_out() {
    let gh = FakeGitHub::start().await;
    let (app, _) = tracking(&gh, &["one", "two"], |_| {}).await;
    gh.generate_events(
        "acme",
        "one",
        3,
        "PushEvent",
        Utc::now() - chrono::Duration::hours(1),
        5,
    );
    gh.generate_events(
        "acme",
        "two",
        3,
        "PushEvent",
        Utc::now() - chrono::Duration::hours(1),
        5,
    );
    gh.fail_next(
        "/repos/acme/one/events",
        Fault::RateLimited403 {
            retry_after: Some(1),
        },
    );
    gh.fail_next(
        "/repos/acme/two/events",
        Fault::TooMany429 { retry_after: 1 },
    );

    let started = Instant::now();
    let summary = poll_due(&app.state).await.expect("poll");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited for Retry-After"
    );
    assert_eq!(
        (summary.polled, summary.failed, summary.new_events),
        (2, 0, 6)
    );
    assert_eq!(stored(&app, "one").await, 3);
    assert_eq!(stored(&app, "two").await, 3);
}

#[tokio::test]
async fn one_failing_repository_does_not_stop_the_others() {
    let gh = FakeGitHub::start().await;
    let (app, token) = tracking(&gh, &["good", "flaky", "gone"], |_| {}).await;
    for name in ["good", "flaky", "gone"] {
        gh.generate_events(
            "acme",
            name,
            2,
            "PushEvent",
            Utc::now() - chrono::Duration::hours(1),
            5,
        );
    }
    for _ in 0..5 {
        gh.fail_next("/repos/acme/flaky/events", Fault::Status(500));
    }
    gh.remove_repo("acme", "gone");

    let summary = poll_due(&app.state).await.expect("poll");
    assert_eq!((summary.polled, summary.failed), (3, 2));
    assert_eq!(stored(&app, "good").await, 2);

    let (_, list) = json_of(app.get("/repositories", Some(&token)).await).await;
    let by_name = |name: &str| {
        list["repositories"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["name"] == name).cloned())
            .expect("listed")
    };
    assert!(by_name("good")["last_error"].is_null());
    assert!(
        by_name("flaky")["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("500")),
        "{list}"
    );
    assert_eq!(by_name("gone")["unavailable"], true);
    assert!(
        by_name("gone")["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("not found"))
    );

    // Failed repositories are retried later (back-off), and recover.
    make_all_due(&app).await;
    let summary = poll_due(&app.state).await.expect("poll");
    assert!(summary.polled >= 2);
    assert_eq!(stored(&app, "flaky").await, 2);
}

#[tokio::test]
async fn two_servers_on_one_database_poll_each_repository_once() {
    let gh = FakeGitHub::start().await;
    gh.set_poll_interval(3600);
    let names: Vec<String> = (0..24).map(|i| format!("repo-{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (app, _) = tracking(&gh, &refs, |c| c.events_poll_interval_secs = 3600).await;
    for name in &names {
        gh.generate_events(
            "acme",
            name,
            2,
            "PushEvent",
            Utc::now() - chrono::Duration::hours(1),
            5,
        );
    }
    // Slow answers keep the polls overlapping.
    for name in &names {
        gh.fail_next(
            &format!("/repos/acme/{name}/events"),
            Fault::Delay(Duration::from_millis(50)),
        );
    }
    let replica = app.replica().await;
    let (a, b) = tokio::join!(poll_due(&app.state), poll_due(&replica.state));
    let (a, b) = (a.expect("poll"), b.expect("poll"));
    assert_eq!(a.polled + b.polled, 24, "{a:?} {b:?}");
    for name in &names {
        assert_eq!(events_requests(&gh, name).len(), 1, "{name} polled once");
        assert_eq!(stored(&app, name).await, 2);
    }
}

#[tokio::test]
async fn the_background_poller_fills_statistics_on_its_own() {
    let gh = FakeGitHub::start().await;
    gh.set_poll_interval(1);
    gh.add_repo("acme", "live");
    gh.generate_events(
        "acme",
        "live",
        4,
        "PushEvent",
        Utc::now() - chrono::Duration::minutes(30),
        30,
    );
    let app = TestApp::with_github(&gh, |c| c.events_poll_interval_secs = 1).await;
    let token = app.register("live").await;
    let body = json!({"owner": "acme", "name": "live"});
    assert_eq!(
        app.post_json("/repositories", &body, Some(&token))
            .await
            .status(),
        StatusCode::OK
    );

    let deadline = Instant::now() + Duration::from_secs(15);
    let stats = loop {
        let (status, stats) = json_of(
            app.get("/repository/stats?owner=acme&name=live", Some(&token))
                .await,
        )
        .await;
        if status == StatusCode::OK {
            break stats;
        }
        assert!(
            Instant::now() < deadline,
            "no statistics after 15 s: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        stats["statistics"]["PushEvent"],
        json!({"count": 4, "avg_seconds_between": 30.0})
    );

    // New events upstream appear after the next poll (1 s interval).
    gh.generate_events("acme", "live", 1, "ForkEvent", Utc::now(), 0);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, stats) = json_of(
            app.get("/repository/stats?owner=acme&name=live", Some(&token))
                .await,
        )
        .await;
        if stats["statistics"].get("ForkEvent").is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "new event not picked up: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_hanging_repository_never_holds_back_the_others() {
    let gh = FakeGitHub::start().await;
    for name in ["slow", "fast1", "fast2"] {
        gh.add_repo("acme", name);
        gh.generate_events("acme", name, 2, "PushEvent", Utc::now(), 10);
    }
    gh.set_poll_interval(1);
    // Every events request of `slow` hangs for a minute.
    for _ in 0..20 {
        gh.fail_next(
            "/repos/acme/slow/events",
            Fault::Delay(Duration::from_secs(60)),
        );
    }
    let app = TestApp::with_github(&gh, |c| {
        c.events_poll_interval_secs = 1;
        c.events_poll_timeout_secs = 3;
    })
    .await;
    let token = app.register("hang").await;
    for name in ["slow", "fast1", "fast2"] {
        let body = json!({"owner": "acme", "name": name});
        let response = app.post_json("/repositories", &body, Some(&token)).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    tokio::time::sleep(Duration::from_secs(8)).await;
    // The fast repositories kept their 1 s interval while `slow` hung.
    for name in ["fast1", "fast2"] {
        let polls = events_requests(&gh, name).len();
        assert!(polls >= 4, "{name} was polled only {polls} times in 8 s");
    }
    // `slow` missed its deadline: reported, and retried later rather than waited for.
    let (_, repos) = json_of(app.get("/repositories", Some(&token)).await).await;
    let slow = repos["repositories"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "slow"))
        .cloned()
        .unwrap_or_default();
    let error = slow["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("within 3 s"), "{repos}");
    app.stop().await;
}

/// Seconds until the repository's next poll.
async fn due_in(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar(
        "select extract(epoch from next_poll_at - now())::bigint from repositories where name = $1",
    )
    .bind(name)
    .fetch_one(&app.state.db)
    .await
    .expect("next poll")
}

async fn listed(app: &TestApp, token: &str) -> serde_json::Value {
    let (status, body) = json_of(app.get("/repositories", Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["repositories"][0].clone()
}

/// More new events between two polls than GitHub's 300-event window shows: the poll records
/// the gap (its range and an estimate of the events in it), statistics say they are not
/// complete, and the repository is polled more often until it quiets down.
#[tokio::test]
async fn a_window_overrun_is_recorded_as_a_gap_and_speeds_up_polling() {
    let gh = FakeGitHub::start().await;
    let (app, token) = tracking(&gh, &["busy"], |c| c.events_poll_interval_secs = 600).await;
    let start = (Utc::now() - chrono::Duration::days(2))
        .with_nanosecond(0)
        .expect("whole seconds");
    gh.generate_events("acme", "busy", 10, "PushEvent", start, 60);
    poll_due(&app.state).await.expect("poll");
    assert_eq!(stored(&app, "busy").await, 10);
    let quiet = listed(&app, &token).await;
    assert_eq!(quiet["event_gaps"], 0, "{quiet}");
    assert!(quiet["last_gap"].is_null());
    assert_eq!(quiet["poll_interval_secs"], 600);

    // 400 events, one a minute, an hour after the last known one: the poll reads the
    // newest 300 and never meets a known event.
    let burst = start + chrono::Duration::hours(1);
    gh.generate_events("acme", "busy", 400, "WatchEvent", burst, 60);
    make_all_due(&app).await;
    poll_due(&app.state).await.expect("poll");
    assert_eq!(stored(&app, "busy").await, 310);
    let busy = listed(&app, &token).await;
    assert_eq!(busy["event_gaps"], 1, "{busy}");
    let gap = &busy["last_gap"];
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    assert_eq!(
        gap["from"],
        at(start + chrono::Duration::minutes(9)),
        "{gap}"
    );
    assert_eq!(
        gap["to"],
        at(burst + chrono::Duration::minutes(100)),
        "{gap}"
    );
    // 100 burst events and the hour before them (no events) fell in; at the burst's rate
    // of one a minute the estimate is the gap's length in minutes.
    assert_eq!(gap["estimated_missing"], 151, "{gap}");
    assert_eq!(
        busy["poll_interval_secs"], 300,
        "halved toward X-Poll-Interval"
    );
    assert!((295..=300).contains(&due_in(&app, "busy").await));

    let (status, stats) = json_of(
        app.get("/repository/stats?owner=acme&name=busy", Some(&token))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["complete"], false, "{stats}");
    let metrics = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .expect("metrics");
    assert!(
        metrics.contains("gitpulse_event_gaps_total{} 1"),
        "{metrics}"
    );

    // Still busy: another overrun halves the interval again.
    gh.generate_events("acme", "busy", 400, "WatchEvent", Utc::now(), 0);
    make_all_due(&app).await;
    poll_due(&app.state).await.expect("poll");
    assert_eq!(listed(&app, &token).await["poll_interval_secs"], 150);
    assert_eq!(listed(&app, &token).await["event_gaps"], 2);

    // Quiet again (a 304, then a few new events): the interval doubles back to normal.
    make_all_due(&app).await;
    poll_due(&app.state).await.expect("poll");
    assert_eq!(listed(&app, &token).await["poll_interval_secs"], 300);
    gh.generate_events("acme", "busy", 5, "PushEvent", Utc::now(), 0);
    make_all_due(&app).await;
    poll_due(&app.state).await.expect("poll");
    let calm = listed(&app, &token).await;
    assert_eq!(calm["poll_interval_secs"], 600, "{calm}");
    assert_eq!(calm["event_gaps"], 2, "no new gap");
    assert!((595..=600).contains(&due_in(&app, "busy").await));
}
