//! Charts and badges as SVG, and share links that show them without a token (issue 16),
//! over years of star history loaded from the fake GitHub.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Utc};
use fake_github::FakeGitHub;
use gitpulse::daily_stats::run_daily_scan;
use gitpulse::jobs::poller::poll_due;
use gitpulse::star_history::run_due;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::accounts::{days_ago, server, today};
use crate::support::{TestApp, json_of, with_token};

const YEARS_3: u64 = 3 * 365;

/// `owner/name`, created `age_days` ago, gaining stars on most days after its first ten
/// (a pattern in `seed`); returns its stars today.
fn seed_history(gh: &FakeGitHub, owner: &str, name: &str, age_days: u64, seed: u64) -> i64 {
    gh.add_repo(owner, name);
    gh.set_repo_created_at(
        owner,
        name,
        Utc::now() - chrono::Duration::days(age_days as i64),
    );
    let gains: Vec<(NaiveDate, i64)> = (0..age_days - 10)
        .map(|n| (days_ago(n), ((n * seed) % 7) as i64))
        .filter(|(_, gain)| *gain > 0)
        .collect();
    let total = gains.iter().map(|(_, g)| g).sum();
    gh.set_star_history(owner, name, gains);
    gh.set_repo_counts(owner, name, total, 5, 7);
    total
}

async fn track(app: &TestApp, token: &str, owner: &str, name: &str) {
    let body = json!({"owner": owner, "name": name});
    let (status, answer) = json_of(app.post_json("/repositories", &body, Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// A server where alice tracks `acme/rocket` with three years of loaded star history.
async fn rocket(gh: &FakeGitHub) -> (TestApp, String, i64) {
    let stars = seed_history(gh, "acme", "rocket", YEARS_3, 7919);
    let app = server(gh, false).await;
    let alice = app.register("alice").await;
    track(&app, &alice, "acme", "rocket").await;
    let summary = run_due(&app.state).await.expect("backfill");
    assert_eq!(summary.loaded, 1, "{summary:?}");
    (app, alice, stars)
}

struct Svg {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Svg {
    fn doc(&self) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(&self.body)
            .unwrap_or_else(|e| panic!("not XML ({e}): {}", self.body))
    }

    /// The point count of each drawn line (legend samples have 2 points).
    fn lines(&self) -> Vec<Vec<(f64, f64)>> {
        self.doc()
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .map(|n| {
                n.attribute("points")
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter_map(|p| p.split_once(','))
                    .map(|(x, y)| (x.parse().expect("x"), y.parse().expect("y")))
                    .collect::<Vec<(f64, f64)>>()
            })
            .filter(|points| points.len() > 2)
            .collect()
    }

    fn texts(&self) -> Vec<String> {
        self.doc()
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or_default().trim().to_string())
            .collect()
    }

    fn child_text(&self, tag: &str) -> String {
        self.doc()
            .root_element()
            .children()
            .find(|n| n.has_tag_name(tag))
            .and_then(|n| n.text())
            .unwrap_or_else(|| panic!("no <{tag}>"))
            .to_string()
    }

    fn header(&self, name: reqwest::header::HeaderName) -> String {
        self.headers
            .get(&name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .expect("ascii")
            .to_string()
    }
}

async fn get_svg(app: &TestApp, path: &str, token: Option<&str>) -> Svg {
    let response = app.get(path, token).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.expect("body");
    if status == StatusCode::OK {
        assert_eq!(headers[CONTENT_TYPE], "image/svg+xml", "{path}");
    }
    Svg {
        status,
        headers,
        body,
    }
}

/// Writes the SVG to `docs/images/{name}` when `GITPULSE_WRITE_EXAMPLES` is set (how the
/// README's example images are made).
fn keep_example(name: &str, svg: &Svg) {
    if std::env::var_os("GITPULSE_WRITE_EXAMPLES").is_some() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/images");
        std::fs::create_dir_all(&path).expect("docs/images");
        std::fs::write(path.join(name), &svg.body).expect("write example");
    }
}

#[tokio::test]
async fn three_years_of_star_history_are_one_line_across_the_whole_range() {
    let gh = FakeGitHub::start().await;
    let (app, alice, stars) = rocket(&gh).await;

    let svg = get_svg(&app, "/charts/stars.svg?repos=acme/rocket", Some(&alice)).await;
    assert_eq!(svg.status, StatusCode::OK, "{}", svg.body);
    assert_eq!(svg.header(CACHE_CONTROL), "private, max-age=300");
    assert!(svg.header(ETAG).starts_with('"'));
    let lines = svg.lines();
    assert_eq!(lines.len(), 1, "one repository, one unbroken line");
    assert_eq!(lines[0].len() as u64, YEARS_3 + 1, "a point per day");
    // The line runs from the left of the plot to its right edge, rising.
    let (first, last) = (lines[0][0], lines[0][lines[0].len() - 1]);
    assert!(last.0 - first.0 > 600.0, "{first:?} → {last:?}");
    assert!(last.1 < first.1, "more stars are higher up");
    // Dated axis: the first label is the creation day, the last today.
    let texts = svg.texts();
    let created = days_ago(YEARS_3);
    assert!(texts.contains(&created.to_string()), "{texts:?}");
    assert!(texts.contains(&today().to_string()), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with(&created.year().to_string()))
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with(&today().year().to_string()))
    );
    assert!(
        texts.contains(&"acme/rocket".to_string()),
        "legend: {texts:?}"
    );
    // Accessible: a title and a description with the numbers.
    assert_eq!(svg.child_text("title"), "Stars of acme/rocket");
    let desc = svg.child_text("desc");
    assert!(desc.contains(&format!("0 on {created}")), "{desc}");
    assert!(
        desc.contains(&format!("{} on {}", thousands(stars), today())),
        "{desc}"
    );
    assert_eq!(svg.doc().root_element().attribute("role"), Some("img"));
    // Fonts come from the viewer: text names a family, no font files are needed.
    assert!(svg.body.contains("font-family=\"sans-serif\""));

    // Forks are unknown on backfilled days: no line is invented.
    let forks = get_svg(
        &app,
        "/charts/stars.svg?repos=acme/rocket&metric=forks",
        Some(&alice),
    )
    .await;
    assert_eq!(forks.status, StatusCode::OK);
    assert!(forks.lines().is_empty());
    assert!(forks.texts().contains(&"No data yet".to_string()));
    // After a daily scan, today has a snapshot: one known day, drawn as a dot.
    run_daily_scan(&app.state, today()).await.expect("scan");
    let forks = get_svg(
        &app,
        "/charts/stars.svg?repos=acme/rocket&metric=forks",
        Some(&alice),
    )
    .await;
    assert!(forks.lines().is_empty());
    assert_eq!(
        forks
            .doc()
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .count(),
        1
    );
    assert!(
        forks
            .child_text("desc")
            .contains(&format!("5 on {}", today()))
    );
}

fn thousands(n: i64) -> String {
    gitpulse::charts::look::thousands(n)
}

#[tokio::test]
async fn log_scale_dark_theme_and_two_repositories() {
    let gh = FakeGitHub::start().await;
    seed_history(&gh, "acme", "comet", 400, 31);
    let (app, alice, _) = rocket(&gh).await;
    track(&app, &alice, "acme", "comet").await;
    run_due(&app.state).await.expect("backfill comet");

    let log = get_svg(
        &app,
        "/charts/stars.svg?repos=acme/rocket&scale=log",
        Some(&alice),
    )
    .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let texts = log.texts();
    for label in ["0", "1", "10", "100", "1,000"] {
        assert!(texts.contains(&label.to_string()), "{label}: {texts:?}");
    }
    assert!(texts.iter().any(|t| t.ends_with("(log scale)")));
    // Zero stars (the first days) sit on the bottom edge; the line is still whole.
    assert_eq!(log.lines()[0].len() as u64, YEARS_3 + 1);
    assert!(log.child_text("desc").contains("logarithmic"));
    keep_example("stars-log-example.svg", &log);

    let path = "/charts/stars.svg?repos=acme/rocket,acme/comet&theme=dark";
    let dark = get_svg(&app, path, Some(&alice)).await;
    assert_eq!(dark.status, StatusCode::OK, "{}", dark.body);
    let background = dark
        .doc()
        .descendants()
        .find(|n| n.has_tag_name("rect"))
        .and_then(|n| n.attribute("fill").map(str::to_lowercase));
    assert_eq!(background.as_deref(), Some("#0d1117"));
    let text_fills: Vec<String> = dark
        .doc()
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.attribute("fill").map(str::to_lowercase))
        .collect();
    assert!(text_fills.iter().all(|f| f != "#000000"), "{text_fills:?}");
    let texts = dark.texts();
    assert!(texts.contains(&"acme/rocket".to_string()), "{texts:?}");
    assert!(texts.contains(&"acme/comet".to_string()), "{texts:?}");
    let lines = dark.lines();
    assert_eq!(lines.len(), 2);
    // comet is younger: its line starts further right and ends at the same day.
    let (rocket_line, comet_line) = (&lines[0], &lines[1]);
    assert!(comet_line[0].0 > rocket_line[0].0 + 300.0);
    assert!(
        (comet_line[comet_line.len() - 1].0 - rocket_line[rocket_line.len() - 1].0).abs() < 1.0
    );
    keep_example("stars-example-dark.svg", &dark);
    let light = get_svg(
        &app,
        "/charts/stars.svg?repos=acme/rocket,acme/comet",
        Some(&alice),
    )
    .await;
    keep_example("stars-example.svg", &light);

    // The smallest and the largest sizes draw too.
    for (size, scale) in [
        ("width=200&height=100", "log"),
        ("width=2000&height=1200", "linear"),
    ] {
        let path = format!("/charts/stars.svg?repos=acme/rocket,acme/comet&{size}&scale={scale}");
        let svg = get_svg(&app, &path, Some(&alice)).await;
        assert_eq!(svg.status, StatusCode::OK, "{path}: {}", svg.body);
        assert_eq!(svg.lines().len(), 2, "{path}");
    }
    let svg = get_svg(
        &app,
        "/charts/events.svg?repo=acme/rocket&days=365&width=200&height=100",
        Some(&alice),
    )
    .await;
    assert_eq!(svg.status, StatusCode::OK, "{}", svg.body);
}

#[tokio::test]
async fn only_repositories_the_caller_tracks_are_drawn() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "ghost");
    let (app, alice, _) = rocket(&gh).await;
    let bob = app.register("bob").await;

    for path in [
        "/charts/stars.svg?repos=acme/rocket",
        "/charts/events.svg?repo=acme/rocket",
        "/badges/stars.svg?repo=acme/rocket",
    ] {
        let (status, body) = json_of(app.get(path, Some(&bob)).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(
            body["message"],
            "Repository acme/rocket not found in your list"
        );
        let (status, _) = json_of(app.get(path, None).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // One repository alice does not track spoils the whole chart.
    let svg = get_svg(
        &app,
        "/charts/stars.svg?repos=acme/rocket,acme/ghost",
        Some(&alice),
    )
    .await;
    assert_eq!(svg.status, StatusCode::NOT_FOUND, "{}", svg.body);

    // API keys need read:tracking.
    let key = |scopes: &'static str| {
        let app = &app;
        let alice = alice.clone();
        async move {
            let body = json!({"name": scopes, "scopes": scopes});
            let (status, created) = json_of(
                app.post_json("/api/v1/api-keys/", &body, Some(&alice))
                    .await,
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
            created["full_key"].as_str().expect("key").to_string()
        }
    };
    let reader = key("read:tracking").await;
    let svg = get_svg(&app, "/charts/stars.svg?repos=acme/rocket", Some(&reader)).await;
    assert_eq!(svg.status, StatusCode::OK);
    let pusher = key("sync:commits").await;
    let svg = get_svg(&app, "/badges/stars.svg?repo=acme/rocket", Some(&pusher)).await;
    assert_eq!(svg.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_parameters_are_400s_naming_the_parameter() {
    let gh = FakeGitHub::start().await;
    let (app, alice, _) = rocket(&gh).await;
    let eleven: Vec<String> = (0..11).map(|i| format!("acme/r{i}")).collect();
    let too_many = format!("/charts/stars.svg?repos={}", eleven.join(","));
    for (path, name) in [
        ("/charts/stars.svg", "repos"),
        ("/charts/stars.svg?repos=rocket", "repos"),
        (too_many.as_str(), "repos"),
        ("/charts/stars.svg?repos=acme/rocket&metric=likes", "metric"),
        ("/charts/stars.svg?repos=acme/rocket&scale=sqrt", "scale"),
        ("/charts/stars.svg?repos=acme/rocket&theme=neon", "theme"),
        (
            "/charts/stars.svg?repos=acme/rocket&from=2024-13-01",
            "from",
        ),
        ("/charts/stars.svg?repos=acme/rocket&to=tomorrow", "to"),
        (
            "/charts/stars.svg?repos=acme/rocket&from=2024-02-02&to=2024-02-01",
            "from",
        ),
        ("/charts/stars.svg?repos=acme/rocket&width=100", "width"),
        ("/charts/stars.svg?repos=acme/rocket&height=5000", "height"),
        ("/charts/events.svg", "repo"),
        ("/charts/events.svg?repo=acme/rocket&days=0", "days"),
        ("/charts/events.svg?repo=acme/rocket&days=366", "days"),
        ("/charts/events.svg?repo=acme/rocket&width=abc", "width"),
        ("/badges/stars.svg?repo=acme", "repo"),
    ] {
        let (status, body) = json_of(app.get(path, Some(&alice)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        let message = body["message"].as_str().expect("message");
        assert!(message.contains(name), "{path}: {message}");
    }
}

#[tokio::test]
async fn an_empty_range_is_a_no_data_yet_chart() {
    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "fresh");
    let (app, alice, _) = rocket(&gh).await;
    let svg = get_svg(
        &app,
        "/charts/stars.svg?repos=acme/rocket&from=2010-01-01&to=2010-03-01",
        Some(&alice),
    )
    .await;
    assert_eq!(svg.status, StatusCode::OK, "{}", svg.body);
    assert!(svg.lines().is_empty());
    assert!(svg.texts().contains(&"No data yet".to_string()));
    assert!(svg.texts().contains(&"2010-01-01".to_string()));
    assert!(svg.child_text("desc").contains("acme/rocket: no data yet"));
    keep_example("stars-no-data-example.svg", &svg);

    // A repository tracked a moment ago: no history yet, no events, no count.
    track(&app, &alice, "acme", "fresh").await;
    let svg = get_svg(&app, "/charts/stars.svg?repos=acme/fresh", Some(&alice)).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert!(svg.texts().contains(&"No data yet".to_string()));
    let svg = get_svg(&app, "/charts/events.svg?repo=acme/fresh", Some(&alice)).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert!(svg.texts().contains(&"No events stored yet".to_string()));
    let badge = get_svg(&app, "/badges/stars.svg?repo=acme/fresh", Some(&alice)).await;
    assert!(badge.texts().contains(&"none yet".to_string()));
}

#[tokio::test]
async fn etags_answer_304_until_the_data_changes() {
    let gh = FakeGitHub::start().await;
    let (app, alice, stars) = rocket(&gh).await;
    let path = "/charts/stars.svg?repos=acme/rocket";
    let first = get_svg(&app, path, Some(&alice)).await;
    let etag = first.header(ETAG);

    let again = with_token(app.request(Method::GET, path), Some(&alice))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[ETAG], etag.as_str());
    assert_eq!(again.headers()[CACHE_CONTROL], "private, max-age=300");
    assert!(again.text().await.expect("body").is_empty());

    // Another look is another image.
    let dark = get_svg(&app, &format!("{path}&theme=dark"), Some(&alice)).await;
    assert_ne!(dark.header(ETAG), etag);
    // New stars today: the chart changes, and so does its ETag.
    gh.set_repo_counts("acme", "rocket", stars + 5, 5, 7);
    run_daily_scan(&app.state, today()).await.expect("scan");
    let changed = with_token(app.request(Method::GET, path), Some(&alice))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()[ETAG], etag.as_str());
}

async fn create_link(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    json_of(app.post_json("/charts/links", &body, Some(token)).await).await
}

#[tokio::test]
async fn share_links_render_without_a_token_until_revoked() {
    let gh = FakeGitHub::start().await;
    let (app, alice, stars) = rocket(&gh).await;
    let bob = app.register("bob").await;

    let body = json!({"chart": "stars", "params": {"repos": "acme/rocket", "theme": "dark"}});
    let (status, link) = create_link(&app, &alice, body).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    assert_eq!(link["chart"], "stars");
    assert_eq!(
        link["params"],
        json!({"repos": "acme/rocket", "theme": "dark"})
    );
    let url = link["url"].as_str().expect("url").to_string();
    let shared_prefix = format!("{}/charts/shared/", app.url);
    assert!(url.starts_with(&shared_prefix), "{url}");
    let token = url[shared_prefix.len()..].to_string();
    assert!(token.len() > 64, "unguessable: {token}");

    // Anyone with the URL sees the chart; caches may keep it.
    let shared_path = format!("/charts/shared/{token}");
    let svg = get_svg(&app, &shared_path, None).await;
    assert_eq!(svg.status, StatusCode::OK, "{}", svg.body);
    assert_eq!(svg.header(CACHE_CONTROL), "public, max-age=300");
    assert_eq!(svg.lines().len(), 1);
    let revalidated = app
        .request(Method::GET, &shared_path)
        .header(IF_NONE_MATCH, svg.header(ETAG))
        .send()
        .await
        .expect("sent");
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

    // A badge link too; listed with their URLs.
    let body = json!({"chart": "badge", "params": {"repo": "acme/rocket"}});
    let (status, badge) = create_link(&app, &alice, body).await;
    assert_eq!(status, StatusCode::CREATED, "{badge}");
    let badge_url = badge["url"].as_str().expect("url");
    let badge_path = &badge_url[app.url.len()..];
    let svg = get_svg(&app, badge_path, None).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert!(
        svg.texts()
            .contains(&gitpulse::charts::look::compact(stars))
    );
    let (status, list) = json_of(app.get("/charts/links", Some(&alice)).await).await;
    assert_eq!(status, StatusCode::OK);
    let urls: Vec<&str> = list["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|l| l["url"].as_str())
        .collect();
    assert_eq!(urls, [url.as_str(), badge_url]);
    let (_, bobs) = json_of(app.get("/charts/links", Some(&bob)).await).await;
    assert_eq!(bobs, json!({"links": []}));

    // Altered, unknown or malformed tokens are all the same 404.
    let mut altered = token.clone();
    let last = altered.pop().expect("char");
    altered.push(if last == '0' { '1' } else { '0' });
    let other_id = format!(
        "{}{}",
        link["id"].as_i64().expect("id") + 1000,
        &token[token.find('_').expect("_")..]
    );
    for bad in [
        altered.as_str(),
        other_id.as_str(),
        "nothing",
        "1_",
        "_x",
        "-1_00",
    ] {
        let (status, body) = json_of(app.get(&format!("/charts/shared/{bad}"), None).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}: {body}");
        assert_eq!(body["message"], "Share link not found");
    }

    // Only the owner revokes; then the URL is gone.
    let id = link["id"].as_i64().expect("id");
    let delete = |token: &str| {
        with_token(
            app.request(Method::DELETE, &format!("/charts/links/{id}")),
            Some(token),
        )
        .send()
    };
    assert_eq!(
        delete(&bob).await.expect("sent").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_svg(&app, &shared_path, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        delete(&alice).await.expect("sent").status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get_svg(&app, &shared_path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&alice).await.expect("sent").status(),
        StatusCode::NOT_FOUND
    );

    // Untracking the repository stops the badge link too.
    let untrack = with_token(
        app.request(Method::DELETE, "/repositories/acme/rocket"),
        Some(&alice),
    )
    .send()
    .await
    .expect("sent");
    assert_eq!(untrack.status(), StatusCode::OK);
    assert_eq!(
        get_svg(&app, badge_path, None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn share_links_are_checked_like_the_charts_and_need_a_login() {
    let gh = FakeGitHub::start().await;
    let (app, alice, _) = rocket(&gh).await;
    for (body, status, name) in [
        (
            json!({"params": {"repo": "acme/rocket"}}),
            StatusCode::BAD_REQUEST,
            "chart",
        ),
        (
            json!({"chart": "pie", "params": {}}),
            StatusCode::BAD_REQUEST,
            "chart",
        ),
        (json!({"chart": "badge"}), StatusCode::BAD_REQUEST, "params"),
        (
            json!({"chart": "stars", "params": {}}),
            StatusCode::BAD_REQUEST,
            "repos",
        ),
        (
            json!({"chart": "stars", "params": {"repos": "acme/rocket", "colour": "red"}}),
            StatusCode::BAD_REQUEST,
            "colour",
        ),
        (
            json!({"chart": "events", "params": {"repo": "acme/rocket", "days": "999"}}),
            StatusCode::BAD_REQUEST,
            "days",
        ),
        (
            json!({"chart": "badge", "params": {"repo": "acme/ghost"}}),
            StatusCode::NOT_FOUND,
            "acme/ghost",
        ),
    ] {
        let (got, answer) = create_link(&app, &alice, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        let message = answer["message"].as_str().expect("message");
        assert!(message.contains(name), "{body}: {message}");
    }
    let (_, list) = json_of(app.get("/charts/links", Some(&alice)).await).await;
    assert_eq!(list, json!({"links": []}), "nothing was stored");

    let body = json!({"name": "all", "scopes": "read:tracking,write:tracking"});
    let (_, key) = json_of(
        app.post_json("/api/v1/api-keys/", &body, Some(&alice))
            .await,
    )
    .await;
    let key = key["full_key"].as_str().expect("key");
    let body = json!({"chart": "badge", "params": {"repo": "acme/rocket"}});
    let (status, _) = create_link(&app, key, body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = json_of(app.get("/charts/links", Some(key)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A deleted account's links go with it.
    let body = json!({"chart": "badge", "params": {"repo": "acme/rocket"}});
    let (status, link) = create_link(&app, &alice, body).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let path = &link["url"].as_str().expect("url")[app.url.len()..];
    assert_eq!(get_svg(&app, path, None).await.status, StatusCode::OK);
    let body = json!({"password": "correct horse battery"});
    let deleted = app
        .send_json(Method::DELETE, "/auth/me", &body, Some(&alice))
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(
        get_svg(&app, path, None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn events_are_stacked_by_type_per_day_and_the_badge_is_compact() {
    let gh = FakeGitHub::start().await;
    let (app, alice, stars) = rocket(&gh).await;
    let now = Utc::now();
    gh.generate_events(
        "acme",
        "rocket",
        12,
        "PushEvent",
        now - chrono::Duration::days(5),
        36_000,
    );
    gh.generate_events(
        "acme",
        "rocket",
        4,
        "IssuesEvent",
        now - chrono::Duration::days(2),
        600,
    );
    gh.generate_events(
        "acme",
        "rocket",
        3,
        "WatchEvent",
        now - chrono::Duration::days(40),
        60,
    );
    sqlx::query("update repositories set next_poll_at = now()")
        .execute(&app.state.db)
        .await
        .expect("due");
    poll_due(&app.state).await.expect("poll");

    let svg = get_svg(
        &app,
        "/charts/events.svg?repo=acme/rocket&days=14",
        Some(&alice),
    )
    .await;
    assert_eq!(svg.status, StatusCode::OK, "{}", svg.body);
    let texts = svg.texts();
    assert!(texts.contains(&"PushEvent".to_string()), "{texts:?}");
    assert!(texts.contains(&"IssuesEvent".to_string()), "{texts:?}");
    assert!(
        !texts.contains(&"WatchEvent".to_string()),
        "older than 14 days"
    );
    let desc = svg.child_text("desc");
    assert!(
        desc.contains("16 events: PushEvent 12, IssuesEvent 4"),
        "{desc}"
    );
    keep_example("events-example.svg", &svg);
    assert!(texts.contains(&days_ago(13).to_string()), "{texts:?}");
    assert!(texts.contains(&today().to_string()), "{texts:?}");
    // One bar per (day, type) with events, plus the two legend swatches.
    let mut per_day: BTreeMap<(String, NaiveDate), ()> = BTreeMap::new();
    for (kind, count, start, step) in [("Push", 12, 5, 36_000), ("Issues", 4, 2, 600)] {
        for i in 0..count {
            let at = now - chrono::Duration::days(start) + chrono::Duration::seconds(i * step);
            per_day.insert((kind.to_string(), at.date_naive()), ());
        }
    }
    let rects = svg
        .doc()
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .count();
    // The background, the legend's box (fill and border), the swatches and the bars.
    assert_eq!(rects, 1 + 2 + 2 + per_day.len(), "{}", svg.body);

    let badge = get_svg(&app, "/badges/stars.svg?repo=acme/rocket", Some(&alice)).await;
    assert_eq!(badge.status, StatusCode::OK);
    assert!(
        badge
            .texts()
            .contains(&gitpulse::charts::look::compact(stars))
    );
    assert_eq!(badge.doc().root_element().attribute("height"), Some("20"));
    keep_example("badge-example.svg", &badge);
}

/// The real binary, logging every request at `info`: the share link's path shows as its
/// route template, never with the token.
#[tokio::test]
async fn share_link_tokens_never_reach_the_log() {
    use crate::support::{database_url, drop_database, fresh_database_name, process};

    let gh = FakeGitHub::start().await;
    gh.add_repo("acme", "rocket");
    let database = fresh_database_name();
    let data_dir = std::env::temp_dir().join(format!("gitpulse-charts-{database}"));
    let addr = format!("127.0.0.1:{}", process::free_port());
    let (db_url, gh_url, dir) = (
        database_url(&database),
        gh.url(),
        data_dir.to_string_lossy().to_string(),
    );
    let child = process::gitpulse(
        &["serve"],
        &[
            ("DATABASE_URL", db_url.as_str()),
            ("LISTEN_ADDR", addr.as_str()),
            ("GITHUB_API_URL", gh_url.as_str()),
            ("GITHUB_WEB_URL", gh_url.as_str()),
            ("TOKEN_ENCRYPTION_KEY", &"7".repeat(64)),
            ("DATA_DIR", dir.as_str()),
            ("SCHEDULER_ENABLED", "false"),
            ("RUST_LOG", "info"),
            ("LOG_FORMAT", "json"),
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("spawn");
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(started.elapsed().as_secs() < 30, "the server did not start");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let post = |path: &str, body: Value, token: Option<String>| {
        let request = client.post(format!("{base}{path}")).json(&body);
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        async move {
            let response = request.send().await.expect("sent");
            (
                response.status(),
                response.json::<Value>().await.expect("json"),
            )
        }
    };
    let body = json!({"username": "alice", "password": "correct horse battery"});
    let (_, session) = post("/auth/register", body, None).await;
    let alice = session["access_token"].as_str().expect("token").to_string();
    let body = json!({"owner": "acme", "name": "rocket"});
    let (status, _) = post("/repositories", body, Some(alice.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let body = json!({"chart": "badge", "params": {"repo": "acme/rocket"}});
    let (status, link) = post("/charts/links", body, Some(alice)).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let url = link["url"].as_str().expect("url");
    let token = url.rsplit('/').next().expect("token").to_string();
    let shown = client.get(url).send().await.expect("sent");
    assert_eq!(shown.status(), StatusCode::OK);
    let altered = format!("{url}0");
    let refused = client.get(&altered).send().await.expect("sent");
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let output = child.wait_with_output().expect("output");
    drop_database(&database);
    let _ = std::fs::remove_dir_all(&data_dir);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(log.contains("/charts/shared/{token}"), "{log}");
    let secret = token.split_once('_').expect("id_secret").1;
    assert!(!log.contains(secret), "the token is in the log: {log}");
}
