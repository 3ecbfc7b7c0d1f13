//! What a person does in the dashboard, in Chromium: register, track a repository and see
//! its statistics, history and star chart, see its sync health and the GitHub budget,
//! manage an API key, sign in with GitHub through the fake OAuth app and browse the synced
//! data; the same at 375 px and in dark mode.

use std::time::{Duration, Instant};

use fake_github::{DEMO_LOGIN, FakeGitHub};
use gitpulse::config::Secret;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Browser, View};
use crate::integration::wait_for_sync;
use crate::support::{TestApp, json_of};

/// gitpulse over the demo world, with "Sign in with GitHub" and a fast poller. The
/// dashboard's own origin (the test server's PUBLIC_URL) is the only `redirect_to` target.
async fn demo() -> (FakeGitHub, TestApp) {
    let gh = FakeGitHub::start().await;
    gh.seed_demo_world(0);
    gh.set_authorize_as(DEMO_LOGIN);
    let app = TestApp::with_github(&gh, |c| {
        c.github_client_id = Some("client-123".into());
        c.github_client_secret = Some(Secret::new("client-secret"));
        c.events_poll_interval_secs = 1;
        // Backups may clone a local repository (the fake serves no git).
        c.backup_allow_local = true;
    })
    .await;
    (gh, app)
}

/// Whether the server renders charts (`GET /charts/stars.svg`, issue 16 part 1).
async fn serves_charts(app: &TestApp) -> bool {
    let (_, doc) = json_of(app.get("/openapi.json", None).await).await;
    doc["paths"].get("/charts/stars.svg").is_some()
}

/// Polls `path` with `token` until `ready` accepts its JSON.
async fn until(app: &TestApp, token: &str, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = json_of(app.get(path, Some(token)).await).await;
        if status == StatusCode::OK && ready(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "{path} never got ready: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn register(browser: &Browser, username: &str) {
    browser.fill("input[name=username]", username).await;
    browser
        .fill("input[name=password]", "correct horse battery")
        .await;
    browser.click("#register").await;
    browser.text_containing("#who", username).await;
}

/// Tracks `owner/name` through the form and waits until its row is listed.
async fn track(browser: &Browser, full_name: &str) {
    browser.fill("input[name=repository]", full_name).await;
    browser.click("#add-repository").await;
    browser
        .find(&format!(
            "#repositories a[href='#/repositories/{full_name}']"
        ))
        .await;
}

#[tokio::test]
async fn a_new_user_tracks_a_repository_manages_a_key_signs_in_with_github_and_browses_data() {
    let Some(browser) = Browser::start(View::DESKTOP).await else {
        return;
    };
    let (_gh, app) = demo().await;
    browser.goto(&app.url).await;
    browser.find("#sign-in").await;
    browser.screenshot("sign-in").await;

    // Register, then track a repository of the fake GitHub.
    register(&browser, "alice").await;
    track(&browser, "acme/widgets").await;
    let token = browser.token().await;
    // The poller and the star history backfill run in the background; wait for both.
    until(
        &app,
        &token,
        "/repository/stats?owner=acme&name=widgets",
        |b| b["statistics"].is_object(),
    )
    .await;
    until(&app, &token, "/repositories/acme/widgets/history", |b| {
        b["history"].as_array().is_some_and(|h| h.len() > 20)
    })
    .await;
    browser.client.refresh().await.expect("reload");
    browser.text_containing("#repositories", "synced").await;
    browser.screenshot("repositories").await;

    // Its statistics, history table and star chart.
    browser
        .click("#repositories a[href='#/repositories/acme/widgets']")
        .await;
    browser.text_containing("#statistics", "PushEvent").await;
    let (_, stats) = json_of(
        app.get("/repository/stats?owner=acme&name=widgets", Some(&token))
            .await,
    )
    .await;
    let pushes = stats["statistics"]["PushEvent"]["count"]
        .as_i64()
        .expect("pushes");
    let shown = browser
        .script(
            "const row = [...document.querySelectorAll('#statistics tbody tr')]
               .find(r => r.cells[0].textContent === 'PushEvent');
             return row ? row.cells[1].textContent : null",
        )
        .await;
    assert_eq!(shown, json!(pushes.to_string()));
    let rows = browser
        .script("return document.querySelectorAll('#history tbody tr').length")
        .await;
    assert!(
        rows.as_i64().is_some_and(|n| n > 30),
        "history rows: {rows}"
    );
    if serves_charts(&app).await {
        browser.find("#star-chart img.chart-img").await;
        let width = browser
            .script("const i = document.querySelector('#star-chart img'); return i.complete ? i.naturalWidth : 0")
            .await;
        assert!(width.as_i64().is_some_and(|w| w > 0), "chart width {width}");
        let alt = browser
            .script("return document.querySelector('#star-chart img').alt")
            .await;
        assert!(
            alt.as_str().is_some_and(|a| a.contains("acme/widgets")),
            "{alt}"
        );
        // The events chart too (stacked by type, drawn by the server).
        browser.find("#events-chart img.chart-img").await;
        let width = browser
            .script("const i = document.querySelector('#events-chart img'); return i.complete ? i.naturalWidth : 0")
            .await;
        assert!(
            width.as_i64().is_some_and(|w| w > 0),
            "events chart width {width}"
        );
    } else {
        // Without the chart routes the panel says what the API said, and nothing else breaks.
        browser
            .text_containing("#star-chart .error", "No such route")
            .await;
    }
    browser.screenshot("repository").await;

    // Sync health: the tracked repository with its status as a word, and the budget of the
    // server's polling token (none configured: the one anonymous slot).
    browser.click("#nav a[href='#/health']").await;
    let row = browser
        .text_containing("#health-repositories tbody tr", "acme/widgets")
        .await;
    let shown = browser
        .script(
            "const b = document.querySelector('#health-repositories tbody tr .badge.status');
             return b ? [b.dataset.status, b.textContent.trim()] : null",
        )
        .await;
    let word = shown[0].as_str().expect("a status badge").to_string();
    // Just polled: never failing; stale only if the 1-second poller fell behind.
    assert!(["ok", "stale"].contains(&word.as_str()), "{shown}");
    assert!(
        shown[1].as_str().is_some_and(|t| t.ends_with(&word)) && row.contains(&word),
        "the word is shown: {shown} {row}"
    );
    browser.find("#health-status h2 .badge.status").await;
    let (status, budget) = json_of(app.get("/github/budget", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK, "{budget}");
    let tokens = budget["tokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 1, "{budget}");
    let fingerprint = tokens[0]["fingerprint"].as_str().expect("fingerprint");
    let limit = tokens[0]["limit"]
        .as_i64()
        .expect("the poller learnt the limit");
    let row = browser
        .text_containing("#github-budget tbody tr", fingerprint)
        .await;
    // Digits as the page groups them (`toLocaleString`), without the separators.
    let digits: String = row
        .chars()
        .filter(|c| !matches!(c, ',' | '.' | '\u{a0}' | '\u{202f}'))
        .collect();
    assert!(
        digits.contains(&format!(" / {limit}")),
        "remaining / limit: {row}"
    );
    let rows = browser
        .script("return document.querySelectorAll('#github-budget tbody tr').length")
        .await;
    assert_eq!(rows, json!(1));
    browser.screenshot("sync-health").await;

    // An API key: shown once with a copy button, works, then revoked.
    browser.click("#nav a[href='#/keys']").await;
    browser.fill("input[name=name]", "laptop").await;
    browser.click("#create-key").await;
    let key = browser.text_containing("#created-key code", "gp_").await;
    assert!(
        browser
            .find("#created-key [data-copy]")
            .await
            .is_displayed()
            .await
            .expect("shown")
    );
    let (status, who) = json_of(app.get("/api/v1/whoami", Some(&key)).await).await;
    assert_eq!(status, StatusCode::OK, "{who}");
    assert_eq!(who["api_key_name"], "laptop");
    browser.text_containing("#keys", "active").await;
    browser.screenshot("api-keys").await;
    let prefix = who["api_key_prefix"].as_str().expect("prefix");
    browser
        .click(&format!("#keys [data-revoke='{prefix}']"))
        .await;
    browser
        .client
        .accept_alert()
        .await
        .expect("confirm the revocation");
    browser.text_containing("#keys", "revoked").await;
    assert_eq!(
        app.get("/api/v1/whoami", Some(&key)).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Sign out, then "Sign in with GitHub": the fake approves at once and the callback
    // sends the browser back to the dashboard with the token in the fragment.
    browser.click("#sign-out").await;
    browser.click("#github-sign-in").await;
    browser.text_containing("#who", "GitHub: octocat").await;
    let url = browser.client.current_url().await.expect("url");
    assert_eq!(
        url.fragment(),
        Some("/repositories"),
        "the token left the URL"
    );
    let octocat = browser.token().await;
    assert_ne!(octocat, token);
    wait_for_sync(&app, &octocat).await;

    // The synced data: the integration's status, then the data browser.
    browser.click("#nav a[href='#/integration']").await;
    browser
        .text_containing("#integration-state", "connected")
        .await;
    browser
        .find("#collection")
        .await
        .select_by_value("github_commits")
        .await
        .expect("select");
    browser.click("#browse").await;
    let (_, all) = json_of(
        app.get("/data/github_commits?limit=1", Some(&octocat))
            .await,
    )
    .await;
    let total = all["pagination"]["total_items"].as_i64().expect("total");
    assert!(total > 0);
    browser
        .text_containing("#data-summary", &format!("{total} documents"))
        .await;
    // A filter narrows it exactly as the API does.
    let filter = r#"{"commit.author.name": "octocat"}"#;
    browser.fill("input[name=filter]", filter).await;
    browser.click("#browse").await;
    let filtered = app
        .request(reqwest::Method::GET, "/data/github_commits")
        .bearer_auth(&octocat)
        .query(&[("filter", filter), ("limit", "1")])
        .send()
        .await
        .expect("sent");
    let (_, filtered) = json_of(filtered).await;
    let matching = filtered["pagination"]["total_items"]
        .as_i64()
        .expect("total");
    assert!(matching > 0 && matching < total, "{matching} of {total}");
    browser
        .text_containing("#data-summary", &format!("{matching} documents"))
        .await;
    browser
        .script(
            "document.getElementById('data-form').closest('.card').scrollIntoView(); return null",
        )
        .await;
    browser.screenshot("github-data").await;
    browser.close().await;
}

#[tokio::test]
async fn at_375_pixels_nothing_overflows_and_errors_are_the_apis_messages() {
    let Some(browser) = Browser::start(View::PHONE).await else {
        return;
    };
    let (_gh, app) = demo().await;
    browser.goto(&app.url).await;
    browser.find("#sign-in").await;
    let width = browser.script("return window.innerWidth").await;
    assert_eq!(width, json!(375));
    assert_eq!(browser.horizontal_overflow().await, 0, "the sign-in page");

    // The keyboard moves the focus, and the focus is visible.
    let active = browser.client.active_element().await.expect("focus");
    active.send_keys("\u{e004}").await.expect("tab");
    let focused = browser
        .script(
            "const a = document.activeElement; return [a.name, getComputedStyle(a).outlineStyle]",
        )
        .await;
    assert_eq!(focused, json!(["password", "solid"]));

    // A refused login shows the API's own message.
    let body = json!({"username": "nobody", "password": "wrong password"});
    let (status, answer) = json_of(app.post_json("/auth/login", &body, None).await).await;
    assert!(status.is_client_error(), "{status} {answer}");
    browser.fill("input[name=username]", "nobody").await;
    browser.fill("input[name=password]", "wrong password").await;
    browser.click("#sign-in").await;
    let message = answer["message"].as_str().expect("message");
    browser
        .text_containing(".form-errors .error", message)
        .await;

    // A "Sign in with GitHub" that came back with an error shows GitHub's description.
    browser
        .goto(&format!(
            "{}/#error=access_denied&error_description=GitHub+said+no",
            app.url
        ))
        .await;
    browser.client.refresh().await.expect("reload");
    browser
        .text_containing(".form-errors .error", "GitHub said no")
        .await;
    let url = browser.client.current_url().await.expect("url");
    assert_eq!(
        url.fragment(),
        Some("/repositories"),
        "the error left the URL"
    );

    register(&browser, "phoebe").await;
    let token = browser.token().await;
    // A repository GitHub does not have: the API's message, as it says it.
    let missing = json!({"owner": "acme", "name": "no-such-repository"});
    let (status, answer) =
        json_of(app.post_json("/repositories", &missing, Some(&token)).await).await;
    assert!(status.is_client_error(), "{status} {answer}");
    track(&browser, "acme/widgets").await;
    browser
        .fill("input[name=repository]", "acme/no-such-repository")
        .await;
    browser.click("#add-repository").await;
    let message = answer["message"].as_str().expect("message");
    browser.text_containing("main .error", message).await;
    browser.screenshot("phone-repositories").await;

    // Every section fits the narrow window.
    let mut overflowing = Vec::new();
    for page in [
        "repositories",
        "repositories/acme/widgets",
        "accounts",
        "integration",
        "keys",
        "projects",
        "backups",
        "shares",
        "health",
    ] {
        browser.goto(&format!("{}/#/{page}", app.url)).await;
        browser.find("main h1").await;
        browser.settled().await;
        let overflow = browser.horizontal_overflow().await;
        if overflow != 0 {
            overflowing.push(format!("{page}: {overflow}px"));
        }
    }
    assert!(overflowing.is_empty(), "wider than 375 px: {overflowing:?}");
    browser.close().await;
}

#[tokio::test]
async fn dark_mode_follows_the_system_setting() {
    let Some(browser) = Browser::start(View::DESKTOP_DARK).await else {
        return;
    };
    let (_gh, app) = demo().await;
    browser.goto(&app.url).await;
    browser.find("#sign-in").await;
    let dark = browser
        .script("return matchMedia('(prefers-color-scheme: dark)').matches")
        .await;
    assert_eq!(dark, json!(true), "the browser prefers dark");
    let background = browser
        .script("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_eq!(background, json!("rgb(13, 17, 23)"));
    browser.screenshot("sign-in-dark").await;
    register(&browser, "dora").await;
    track(&browser, "acme/widgets").await;
    let token = browser.token().await;
    until(&app, &token, "/repositories/acme/widgets/history", |b| {
        b["history"].as_array().is_some_and(|h| h.len() > 20)
    })
    .await;
    until(
        &app,
        &token,
        "/repository/stats?owner=acme&name=widgets",
        |b| b["statistics"].is_object(),
    )
    .await;
    browser
        .goto(&format!("{}/#/repositories/acme/widgets", app.url))
        .await;
    browser.text_containing("#statistics", "PushEvent").await;
    browser.screenshot("repository-dark").await;

    // A tracked account and its daily statistics over the chosen range, with a chart.
    browser.click("#nav a[href='#/accounts']").await;
    browser.fill("input[name=login]", "octocat").await;
    browser.click("#add-account").await;
    let link = browser.find("#accounts a[href^='#/accounts/']").await;
    let href = link.attr("href").await.expect("href").expect("an href");
    let id = href.trim_start_matches("#/accounts/").to_string();
    let days = |b: &Value| {
        let mut dates: Vec<_> = b["stats"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s["date"].clone())
            .collect();
        dates.dedup();
        dates.len()
    };
    until(&app, &token, &format!("/v1/users/{id}/stats"), |b| {
        days(b) > 2
    })
    .await;
    link.click().await.expect("open the account");
    browser.text_containing("main h1", "octocat").await;
    browser.find("#account-stats svg.mini-chart").await;
    let rows = browser
        .script("return document.querySelectorAll('#account-stats tbody tr').length")
        .await;
    assert!(rows.as_i64().is_some_and(|n| n > 2), "daily rows: {rows}");
    browser.screenshot("account-dark").await;

    // A project with a repository, and its push status.
    browser.click("#nav a[href='#/projects']").await;
    browser.fill("input[name=name]", "Demo project").await;
    browser.click("#create-project").await;
    browser
        .text_containing("#projects h2", "Demo project")
        .await;
    browser.click("#projects details summary").await;
    browser.fill("#projects input[name=repo]", "notes").await;
    browser.click("#projects form button[type=submit]").await;
    browser.text_containing("#projects table", "pending").await;

    // A backup registration: the webhook link and its secret, shown once; then the
    // company's registrations and (no) reports.
    let source = local_repository();
    browser.click("#nav a[href='#/backups']").await;
    browser.fill("input[name=repository_name]", "notes").await;
    browser
        .fill("input[name=repository_url]", &source.display().to_string())
        .await;
    browser.fill("input[name=org_name]", "acme").await;
    browser.fill("input[name=company_id]", "acme").await;
    browser.click("#register-backup").await;
    let callout = browser
        .text_containing("#webhook", "/backup/acme/notes/")
        .await;
    let secret = callout.lines().rev().find(|l| l.len() == 64);
    assert!(
        secret.is_some_and(|s| s.chars().all(|c| c.is_ascii_hexdigit())),
        "{callout}"
    );
    browser
        .text_containing("#backup-reports", "No backup yet")
        .await;
    browser
        .text_containing("#backup-reports table", "notes")
        .await;
    let _ = std::fs::remove_dir_all(&source);

    // A share link: a public URL that renders the chart without a token, until revoked.
    if serves_charts(&app).await {
        browser.click("#nav a[href='#/shares']").await;
        browser.fill("input[name=repos]", "acme/widgets").await;
        browser.click("#create-share").await;
        let url = browser
            .text_containing("main .callout code", "/charts/shared/")
            .await;
        let url = url.lines().next().expect("the link").trim().to_string();
        let public = reqwest::get(&url).await.expect("fetched");
        assert_eq!(public.status(), StatusCode::OK);
        assert_eq!(public.headers()["content-type"], "image/svg+xml");
        browser
            .text_containing("#share-links", "acme/widgets")
            .await;
        browser.screenshot("share-links-dark").await;
        browser.click("#share-links button.danger").await;
        browser.client.accept_alert().await.expect("confirm");
        browser
            .text_containing("#share-links", "No share link yet")
            .await;
        assert_eq!(
            reqwest::get(&url).await.expect("fetched").status(),
            StatusCode::NOT_FOUND
        );
    }
    browser.close().await;
}

/// A git repository with one commit in a scratch directory, for a backup to clone.
fn local_repository() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gitpulse-browser-notes-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    std::fs::write(dir.join("notes.txt"), "note 1\n").expect("a file");
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "notes.txt"],
        &[
            "-c",
            "user.name=Alice",
            "-c",
            "user.email=alice@example.com",
            "commit",
            "-qm",
            "Note 1",
        ],
    ] {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(&dir)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }
    dir
}
