//! Star history back to a repository's creation (GitHub's `stargazers/history`), loaded in
//! the background, refreshed with an ETag, merged with the daily snapshots.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use fake_github::{FakeGitHub, Fault};
use gitpulse::daily_stats::run_daily_scan;
use gitpulse::star_history::run_due;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::accounts::{days_ago, put_account, seed_account, server, today};
use crate::support::{TestApp, json_of};

const HISTORY: &str = "/repos/acme/rocket/stargazers/history";

/// `acme/rocket`, created `age_days` ago, with a known uneven daily star pattern (none in
/// its first 10 days); GitHub's count is the sum. Returns the gains by day.
fn seed_rocket(gh: &FakeGitHub, age_days: u64) -> BTreeMap<NaiveDate, i64> {
    gh.add_repo("acme", "rocket");
    gh.set_repo_created_at(
        "acme",
        "rocket",
        Utc::now() - chrono::Duration::days(age_days as i64),
    );
    let gains: BTreeMap<NaiveDate, i64> = (0..age_days - 10)
        .map(|n| (days_ago(n), ((n * 7919) % 5) as i64))
        .filter(|(_, gain)| *gain > 0)
        .collect();
    gh.set_star_history("acme", "rocket", gains.clone().into_iter().collect());
    gh.set_repo_counts("acme", "rocket", gains.values().sum(), 5, 7);
    gains
}

/// Stars on `day`: everything gained up to and including it.
fn stars_on(gains: &BTreeMap<NaiveDate, i64>, day: NaiveDate) -> i64 {
    gains.range(..=day).map(|(_, g)| g).sum()
}

async fn track(app: &TestApp, token: &str, owner: &str, name: &str) {
    let (status, body) = json_of(
        app.post_json(
            "/repositories",
            &json!({"owner": owner, "name": name}),
            Some(token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn history(app: &TestApp, token: &str, path: &str, from: NaiveDate) -> Vec<Value> {
    let (status, body) = json_of(
        app.get(
            &format!("{path}/history?from={from}&to={}", today()),
            Some(token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["history"].as_array().cloned().expect("history")
}

async fn star_history_of(app: &TestApp, token: &str, full_name: &str) -> Value {
    let (_, body) = json_of(app.get("/repositories", Some(token)).await).await;
    body["repositories"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["full_name"] == full_name))
        .map(|r| r["star_history"].clone())
        .expect("listed")
}

/// The next day comes: every loaded history is due again.
async fn a_day_passes(app: &TestApp) {
    sqlx::query("update repositories set star_history_next_at = now() - interval '1 second'")
        .execute(&app.state.db)
        .await
        .expect("move the clock");
}

fn history_requests(gh: &FakeGitHub) -> Vec<u16> {
    gh.requests()
        .into_iter()
        .filter(|r| r.path == HISTORY)
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn the_history_goes_back_to_the_creation_with_exact_daily_stars() {
    let gh = FakeGitHub::start().await;
    let gains = seed_rocket(&gh, 3 * 365);
    let created = days_ago(3 * 365);
    let app = server(&gh, false).await;
    let token = app.register("alice").await;
    track(&app, &token, "acme", "rocket").await;
    assert_eq!(
        star_history_of(&app, &token, "acme/rocket").await,
        json!({"state": "pending", "since": null})
    );

    let summary = run_due(&app.state).await.expect("backfill");
    assert_eq!((summary.loaded, summary.failed), (1, 0), "{summary:?}");
    // 157 weeks, 30 per page.
    assert_eq!(history_requests(&gh), [200; 6]);

    let days = history(&app, &token, "/repositories/acme/rocket", days_ago(4 * 365)).await;
    assert_eq!(
        days.len(),
        3 * 365 + 1,
        "every day from the creation to today"
    );
    assert_eq!(days[0]["date"], created.to_string());
    for (day, row) in (0..).map(|n| created + Days::new(n)).zip(&days) {
        assert_eq!(
            row,
            &json!({"date": day.to_string(), "stargazers": stars_on(&gains, day),
                    "forks": null, "watchers": null, "source": "backfill"}),
        );
    }
    // A few days by hand: 0 before the first star, the exact count on known days.
    assert_eq!(days[0]["stargazers"], 0);
    assert_eq!(days[9]["stargazers"], 0);
    let total: i64 = gains.values().sum();
    assert_eq!(days.last().expect("today")["stargazers"], total);
    let yesterday = &days[days.len() - 2];
    assert_eq!(
        yesterday["stargazers"],
        total - gains.get(&today()).unwrap_or(&0)
    );
    assert_eq!(
        star_history_of(&app, &token, "acme/rocket").await,
        json!({"state": "complete", "since": created.to_string()})
    );
}

#[tokio::test]
async fn a_refresh_the_next_day_is_one_request_answered_304() {
    let gh = FakeGitHub::start().await;
    let mut gains = seed_rocket(&gh, 3 * 365);
    let app = server(&gh, false).await;
    let token = app.register("alice").await;
    track(&app, &token, "acme", "rocket").await;
    run_due(&app.state).await.expect("backfill");

    // Not due again the same day.
    gh.clear_requests();
    assert_eq!(run_due(&app.state).await.expect("round").loaded, 0);
    assert!(gh.requests().is_empty());

    a_day_passes(&app).await;
    let summary = run_due(&app.state).await.expect("refresh");
    assert_eq!(summary.not_modified, 1, "{summary:?}");
    let requests = gh.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, HISTORY);
    assert!(requests[0].header("if-none-match").is_some());
    assert_eq!(requests[0].status, 304);

    // New stars today: page 1 changed and reaches the stored days, so no further page.
    gh.add_star_gain("acme", "rocket", today(), 4);
    *gains.entry(today()).or_insert(0) += 4;
    let total: i64 = gains.values().sum();
    gh.set_repo_counts("acme", "rocket", total, 5, 7);
    gh.clear_requests();
    a_day_passes(&app).await;
    assert_eq!(run_due(&app.state).await.expect("refresh").loaded, 1);
    assert_eq!(history_requests(&gh), [200]);
    assert_eq!(
        gh.request_count("/repos/acme/rocket"),
        2,
        "page 1 and the count"
    );
    let days = history(&app, &token, "/repositories/acme/rocket", days_ago(3)).await;
    assert_eq!(days[3]["stargazers"], total);
    assert_eq!(days[2]["stargazers"], stars_on(&gains, days_ago(1)));

    // Someone who starred two years ago unstars: the next change of page 1 walks every page
    // and the older days lose that star from its day on.
    let old = *gains
        .range(..days_ago(700))
        .next_back()
        .expect("old star")
        .0;
    *gains.get_mut(&old).expect("old") -= 1;
    gh.set_star_history("acme", "rocket", gains.clone().into_iter().collect());
    gh.add_star_gain("acme", "rocket", today(), 1);
    *gains.entry(today()).or_insert(0) += 1;
    gh.set_repo_counts("acme", "rocket", gains.values().sum(), 5, 7);
    gh.clear_requests();
    a_day_passes(&app).await;
    run_due(&app.state).await.expect("refresh");
    assert_eq!(history_requests(&gh), [200; 6]);
    let days = history(&app, &token, "/repositories/acme/rocket", days_ago(3 * 365)).await;
    for row in &days {
        let day: NaiveDate = row["date"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .expect("date");
        assert_eq!(row["stargazers"], stars_on(&gains, day), "{day}");
    }
}

#[tokio::test]
async fn a_refresh_walks_further_pages_only_when_the_stored_days_are_older() {
    let gh = FakeGitHub::start().await;
    let mut gains = seed_rocket(&gh, 3 * 365);
    let app = server(&gh, false).await;
    let token = app.register("alice").await;
    track(&app, &token, "acme", "rocket").await;
    run_due(&app.state).await.expect("backfill");
    // 300 days of daily snapshots since (which the refresh leaves alone).
    sqlx::query(
        "update repository_daily_stats
            set source = 'snapshot', stargazers = 1000000, forks = 1, watchers = 2
          where date > current_date - 300",
    )
    .execute(&app.state.db)
    .await
    .expect("snapshots");

    gh.add_star_gain("acme", "rocket", today(), 2);
    *gains.entry(today()).or_insert(0) += 2;
    gh.set_repo_counts("acme", "rocket", gains.values().sum(), 5, 7);
    gh.clear_requests();
    a_day_passes(&app).await;
    run_due(&app.state).await.expect("refresh");
    // Page 1 holds 30 weeks (about 210 days), page 2 reaches the stored days.
    assert_eq!(history_requests(&gh), [200, 200]);
    let days = history(&app, &token, "/repositories/acme/rocket", days_ago(301)).await;
    assert_eq!(days[0]["source"], "backfill");
    assert_eq!(days[0]["stargazers"], stars_on(&gains, days_ago(301)));
    assert!(
        days[2..]
            .iter()
            .all(|d| d["source"] == "snapshot" && d["stargazers"] == 1_000_000)
    );
}

#[tokio::test]
async fn a_snapshot_day_keeps_its_values_and_source() {
    let gh = FakeGitHub::start().await;
    let gains = seed_rocket(&gh, 100);
    let total: i64 = gains.values().sum();
    let app = server(&gh, false).await;
    let token = app.register("alice").await;
    track(&app, &token, "acme", "rocket").await;
    // Yesterday's scan counted 5 stargazers who have unstarred since.
    gh.set_repo_counts("acme", "rocket", total + 5, 3, 4);
    run_daily_scan(&app.state, days_ago(1)).await.expect("scan");
    gh.set_repo_counts("acme", "rocket", total, 5, 7);

    run_due(&app.state).await.expect("backfill");
    let days = history(&app, &token, "/repositories/acme/rocket", days_ago(2)).await;
    assert_eq!(
        days,
        [
            json!({"date": days_ago(2).to_string(), "stargazers": stars_on(&gains, days_ago(2)),
                   "forks": null, "watchers": null, "source": "backfill"}),
            json!({"date": days_ago(1).to_string(), "stargazers": total + 5,
                   "forks": 3, "watchers": 4, "source": "snapshot"}),
            json!({"date": today().to_string(), "stargazers": total,
                   "forks": null, "watchers": null, "source": "backfill"}),
        ]
    );

    // Today's scan replaces today's backfilled row.
    run_daily_scan(&app.state, today()).await.expect("scan");
    let days = history(&app, &token, "/repositories/acme/rocket", today()).await;
    assert_eq!(
        days,
        [json!({"date": today().to_string(), "stargazers": total,
                "forks": 5, "watchers": 7, "source": "snapshot"})]
    );
    // And a later backfill does not overwrite either snapshot.
    sqlx::query(
        "update repositories set star_history_state = 'pending', star_history_next_at = now()",
    )
    .execute(&app.state.db)
    .await
    .expect("reload");
    assert_eq!(run_due(&app.state).await.expect("backfill").loaded, 1);
    let days = history(&app, &token, "/repositories/acme/rocket", days_ago(1)).await;
    assert_eq!(days[0]["stargazers"], total + 5);
    assert_eq!(days[1]["forks"], 5);
    assert_eq!(days[1]["source"], "snapshot");
}

#[tokio::test]
async fn a_tracked_accounts_stats_include_backfilled_days() {
    let gh = FakeGitHub::start().await;
    let id = seed_account(&gh, "octo", "repo", 2);
    gh.set_repo_created_at("octo", "repo-000", Utc::now() - chrono::Duration::days(5));
    gh.set_star_history("octo", "repo-000", vec![(days_ago(4), 2), (days_ago(1), 1)]);
    gh.set_repo_counts("octo", "repo-000", 3, 1, 1);
    let app = server(&gh, true).await;
    let token = app.register("alice").await;
    put_account(&app, &token, "octo").await;

    let summary = run_due(&app.state).await.expect("backfill");
    assert_eq!(summary.loaded, 2, "{summary:?}");
    let (status, body) = json_of(
        app.get(
            &format!("/v1/users/{id}/stats?date_from={}", days_ago(5)),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rows: Vec<(Value, Value, Value, Value)> = body["stats"]
        .as_array()
        .expect("stats")
        .iter()
        .filter(|r| r["repo_id"] == body["stats"][0]["repo_id"])
        .map(|r| {
            (
                r["stargazers"].clone(),
                r["forks"].clone(),
                r["watchers"].clone(),
                r["source"].clone(),
            )
        })
        .collect();
    let backfill = |stars: i64| (json!(stars), Value::Null, Value::Null, json!("backfill"));
    assert_eq!(
        rows,
        [
            backfill(0),
            backfill(2),
            backfill(2),
            backfill(2),
            backfill(3),
            (json!(3), json!(1), json!(1), json!("snapshot")),
        ]
    );
}

#[tokio::test]
async fn a_missing_history_endpoint_leaves_snapshots_working_and_marks_unavailable() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "old");
    gh.add_repo("acme", "private");
    gh.set_repo_counts("acme", "old", 9, 2, 3);
    let app = server(&gh, false).await;
    let token = app.register("alice").await;
    track(&app, &token, "acme", "old").await;
    track(&app, &token, "acme", "private").await;
    // Older GitHub Enterprise Server: no such endpoint; or refused.
    gh.fail_next("/repos/acme/old/stargazers/history", Fault::Status(404));
    gh.fail_next("/repos/acme/private/stargazers/history", Fault::Status(403));

    let summary = run_due(&app.state).await.expect("backfill");
    assert_eq!(summary.unavailable, 2, "{summary:?}");
    for name in ["acme/old", "acme/private"] {
        assert_eq!(
            star_history_of(&app, &token, name).await,
            json!({"state": "unavailable", "since": null})
        );
    }
    // Asked again at most daily.
    gh.clear_requests();
    run_due(&app.state).await.expect("round");
    assert!(gh.requests().is_empty());
    let next: f64 = sqlx::query_scalar(
        "select extract(epoch from min(star_history_next_at) - now())::float8 from repositories",
    )
    .fetch_one(&app.state.db)
    .await
    .expect("next");
    assert!(next > 86_000.0, "next attempt in {next} s");

    run_daily_scan(&app.state, today()).await.expect("scan");
    let days = history(&app, &token, "/repositories/acme/old", today()).await;
    assert_eq!(
        days,
        [
            json!({"date": today().to_string(), "stargazers": 9, "forks": 2, "watchers": 3,
                "source": "snapshot"})
        ]
    );

    // A day later GitHub has it (the server was upgraded).
    a_day_passes(&app).await;
    assert_eq!(run_due(&app.state).await.expect("round").loaded, 2);
    assert_eq!(
        star_history_of(&app, &token, "acme/old").await["state"],
        "complete"
    );
}

#[tokio::test]
async fn transient_errors_back_off_without_a_retry_storm() {
    let gh = FakeGitHub::start().await;
    seed_rocket(&gh, 40);
    let app = server(&gh, false).await;
    let token = app.register("alice").await;
    track(&app, &token, "acme", "rocket").await;
    gh.fail_next(HISTORY, Fault::Status(422));

    let summary = run_due(&app.state).await.expect("round");
    assert_eq!(summary.failed, 1, "{summary:?}");
    let (state, error, failures, wait): (String, Option<String>, i32, f64) = sqlx::query_as(
        "select star_history_state, star_history_error, star_history_failures,
                extract(epoch from star_history_next_at - now())::float8 from repositories",
    )
    .fetch_one(&app.state.db)
    .await
    .expect("state");
    assert_eq!((state.as_str(), failures), ("pending", 1));
    assert!(error.is_some_and(|e| e.contains("422")));
    assert!((250.0..=300.0).contains(&wait), "retried in {wait} s");
    gh.clear_requests();
    run_due(&app.state).await.expect("round");
    assert!(gh.requests().is_empty(), "not before the back-off");

    a_day_passes(&app).await;
    assert_eq!(run_due(&app.state).await.expect("round").loaded, 1);
    assert_eq!(
        star_history_of(&app, &token, "acme/rocket").await["state"],
        "complete"
    );
}

#[tokio::test]
async fn a_history_beyond_100_pages_is_marked_truncated() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "ancient");
    gh.set_repo_created_at(
        "acme",
        "ancient",
        Utc::now() - chrono::Duration::days(60 * 366),
    );
    let first = days_ago(3010 * 7);
    gh.set_star_history("acme", "ancient", vec![(first, 7), (days_ago(10), 3)]);
    gh.set_repo_counts("acme", "ancient", 10, 0, 0);
    // A token: 100 pages are more than the anonymous hourly quota.
    let app = server(&gh, true).await;
    let token = app.register("alice").await;
    track(&app, &token, "acme", "ancient").await;

    run_due(&app.state).await.expect("backfill");
    assert_eq!(
        gh.request_count("/repos/acme/ancient/stargazers/history"),
        100
    );
    let listed = star_history_of(&app, &token, "acme/ancient").await;
    assert_eq!(listed["state"], "truncated");
    let since: NaiveDate = listed["since"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("since");
    assert!(since > first && since < days_ago(2990 * 7), "{since}");
    let days = history(&app, &token, "/repositories/acme/ancient", since).await;
    // The first star is beyond the 100 pages: the oldest loaded days already count it.
    assert_eq!(days[0]["stargazers"], 7);
    assert_eq!(days.last().expect("today")["stargazers"], 10);
}

#[tokio::test]
async fn the_background_job_loads_a_newly_tracked_repository() {
    let gh = FakeGitHub::start().await;
    let gains = seed_rocket(&gh, 60);
    let app = TestApp::with_github(&gh, |c| {
        c.stats_interval_secs = Some(1);
        c.github_max_requests_per_minute = 100_000;
    })
    .await;
    let token = app.register("alice").await;
    track(&app, &token, "acme", "rocket").await;

    let deadline = Instant::now() + Duration::from_secs(10);
    while star_history_of(&app, &token, "acme/rocket").await["state"] != "complete" {
        assert!(Instant::now() < deadline, "not loaded in the background");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let days = history(&app, &token, "/repositories/acme/rocket", days_ago(60)).await;
    assert_eq!(days.len(), 61);
    assert_eq!(days[30]["stargazers"], stars_on(&gains, days_ago(30)));
}

#[tokio::test]
async fn star_history_enabled_false_loads_nothing() {
    let gh = FakeGitHub::start().await;
    seed_rocket(&gh, 40);
    let app = TestApp::with_github(&gh, |c| {
        c.scheduler_enabled = false;
        c.star_history_enabled = false;
    })
    .await;
    let token = app.register("alice").await;
    track(&app, &token, "acme", "rocket").await;
    gh.clear_requests();
    assert_eq!(
        run_due(&app.state).await.expect("round"),
        Default::default()
    );
    assert!(gh.requests().is_empty());
}
