//! Projects, repositories and pushed commits: batches, dedup, validation, ownership.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::push::{
    create_key, create_project, create_repo, fake_commit, fake_commits, push_path, sha,
    status_path, stored_commits, user_with_repo,
};
use crate::support::{TestApp, json_of};

#[tokio::test]
async fn a_thousand_commits_then_a_resend_then_a_mixed_batch() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let (_, key) = create_key(&app, &jwt, json!({"scopes": "sync:commits"})).await;
    let push = push_path(project, repo);

    let (status, before) = json_of(app.get(&status_path(project, repo), Some(&key)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["status"], "pending");
    assert!(before["last_ingested_sha"].is_null());

    let body = json!({"commits": fake_commits(0..1000), "client_version": "test 1.0"});
    let (status, result) = json_of(app.post_json(&push, &body, Some(&key)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    assert_eq!(
        (result["total"].as_i64(), result["inserted"].as_i64()),
        (Some(1000), Some(1000))
    );
    assert_eq!(
        (result["skipped"].as_i64(), result["errors"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(result["last_ingested_sha"], sha(999));
    assert_eq!(
        result["details"][0],
        json!({"sha": sha(0), "inserted": true, "error": null})
    );
    assert_eq!(stored_commits(&app, repo).await, 1000);

    let (status, result) = json_of(app.post_json(&push, &body, Some(&key)).await).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (result["inserted"].as_i64(), result["skipped"].as_i64()),
        (Some(0), Some(1000))
    );
    assert_eq!(result["details"][5]["inserted"], false);

    let body = json!({"commits": fake_commits(900..1100)});
    let (_, result) = json_of(app.post_json(&push, &body, Some(&key)).await).await;
    assert_eq!(
        (result["inserted"].as_i64(), result["skipped"].as_i64()),
        (Some(100), Some(100))
    );
    assert_eq!(stored_commits(&app, repo).await, 1100);

    let (_, after) = json_of(app.get(&status_path(project, repo), Some(&key)).await).await;
    assert_eq!(after["status"], "healthy");
    assert_eq!(after["total_commits"], 1100);
    assert_eq!(after["last_ingested_sha"], sha(1099));
    assert_eq!(after["repo_id"], repo);
    assert!(after["last_sync_at"].as_str().is_some());
    assert!(after["error_message"].is_null());

    // Stored as given, with emails lowercased.
    let (email, title): (String, String) = sqlx::query_as(
        "select author_email, message_title from repo_commits where repo_id = $1 and sha = $2",
    )
    .bind(repo)
    .bind(sha(7))
    .fetch_one(&app.state.db)
    .await
    .expect("row");
    assert_eq!(
        (email.as_str(), title.as_str()),
        ("alice@example.com", "Commit number 7")
    );

    // Each push is audited.
    let (_, logs) = json_of(app.get("/api/v1/audit-logs", Some(&jwt)).await).await;
    let pushed = &logs["data"][0];
    assert_eq!(pushed["action"], "commits.pushed");
    assert_eq!(pushed["details"]["inserted"], 100);
    assert_eq!(logs["pagination"]["total"], 4, "key creation + 3 pushes");
}

#[tokio::test]
async fn invalid_batches_store_nothing_and_name_the_problem() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let push = push_path(project, repo);
    let cases = [
        (3, "sha", json!("not-a-sha")),
        (1, "commit_date", json!("yesterday")),
        (2, "message_title", json!("")),
        (4, "message_title", json!("x".repeat(501))),
        (0, "author_name", json!("n".repeat(256))),
        (5, "additions", json!(-1)),
        (6, "author_email", json!(null)),
        (7, "message_body", json!("nul \u{0000} byte")),
        (8, "is_merge", json!("yes")),
    ];
    for (index, field, value) in cases {
        let mut commits = fake_commits(0..10);
        commits[index][field] = value;
        let (status, body) = json_of(
            app.post_json(&push, &json!({"commits": commits}), Some(&jwt))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        let name = format!("commits[{index}].{field}");
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains(&name)),
            "{name}: {body}"
        );
        assert_eq!(body["errors"][0]["field"], name);
    }
    let mut commits = fake_commits(0..10);
    commits[9] = fake_commit(2);
    commits[9]["sha"] = json!(sha(2).to_uppercase());
    let (status, body) = json_of(
        app.post_json(&push, &json!({"commits": commits}), Some(&jwt))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("duplicate sha")),
        "{body}"
    );

    for body in [
        json!({"commits": []}),
        json!({"commits": fake_commits(0..1001)}),
        json!({}),
    ] {
        let (status, error) = json_of(app.post_json(&push, &body, Some(&jwt)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    }
    assert_eq!(stored_commits(&app, repo).await, 0, "nothing stored");
    let (_, state) = json_of(app.get(&status_path(project, repo), Some(&jwt)).await).await;
    assert_eq!(state["status"], "pending");
}

#[tokio::test]
async fn other_users_objects_are_404_and_pull_repos_refuse_pushes() {
    let app = TestApp::spawn_with(|c| c.backup_allow_local = true).await;
    let (alice, project, repo) = user_with_repo(&app, "alice").await;
    let bob = app.register("bob").await;
    let (_, bob_key) = create_key(&app, &bob, json!({})).await;
    let body = json!({"commits": fake_commits(0..2)});
    for token in [&bob, &bob_key] {
        assert_eq!(
            app.post_json(&push_path(project, repo), &body, Some(token))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get(&status_path(project, repo), Some(token))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
    let path = format!("/api/v1/projects/{project}/repos");
    assert_eq!(
        app.get(&path, Some(&bob)).await.status(),
        StatusCode::NOT_FOUND
    );
    let new_repo = json!({"name": "x", "sync_method": "push_client"});
    assert_eq!(
        app.post_json(&path, &new_repo, Some(&bob)).await.status(),
        StatusCode::NOT_FOUND
    );
    let patch = format!("/api/v1/repos/{repo}");
    let switch = json!({"sync_method": "pull", "remote_url": "/tmp/x"});
    assert_eq!(
        app.send_json(Method::PATCH, &patch, &switch, Some(&bob))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (_, bobs_projects) = json_of(app.get("/api/v1/projects", Some(&bob)).await).await;
    assert_eq!(bobs_projects, json!([]));

    // A repository in another of alice's projects is not reachable through this one.
    let other = create_project(&app, &alice, "other").await;
    assert_eq!(
        app.post_json(&push_path(other, repo), &body, Some(&alice))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Switching to pull: pushes are refused with 400 and the change is audited.
    let (status, updated) = json_of(
        app.send_json(Method::PATCH, &patch, &switch, Some(&alice))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["sync_method"], "pull");
    let (status, error) = json_of(
        app.post_json(&push_path(project, repo), &body, Some(&alice))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("push_client")),
        "{error}"
    );
    let (_, logs) = json_of(app.get("/api/v1/audit-logs", Some(&alice)).await).await;
    assert_eq!(logs["data"][0]["action"], "repo.sync_method_changed");
    assert_eq!(logs["data"][0]["details"]["to"], "pull");
}

#[tokio::test]
async fn projects_and_repositories() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let project = create_project(&app, &alice, "web-app").await;
    let (status, error) = json_of(
        app.post_json(
            "/api/v1/projects",
            &json!({"name": "Again", "slug": "web-app"}),
            Some(&alice),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("already taken"))
    );
    let (status, error) = json_of(
        app.post_json("/api/v1/projects", &json!({}), Some(&alice))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["message"], "Missing required fields: name, slug");
    let bad_slug = json!({"name": "x", "slug": "Not A Slug"});
    assert_eq!(
        app.post_json("/api/v1/projects", &bad_slug, Some(&alice))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    // Slugs are per user.
    let bob = app.register("bob").await;
    create_project(&app, &bob, "web-app").await;

    let (status, list) = json_of(app.get("/api/v1/projects", Some(&alice)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["slug"], "web-app");

    let path = format!("/api/v1/projects/{project}/repos");
    let (status, repo) = json_of(
        app.post_json(
            &path,
            &json!({"name": "api", "remote_url": "https://github.com/a/api"}),
            Some(&alice),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{repo}");
    assert_eq!(repo["sync_method"], "push_client", "the default");
    assert_eq!(repo["status"], "pending");
    let (status, repo) = json_of(app.post_json(&path, &json!({"name": "mirror", "remote_url": "https://github.com/a/b", "sync_method": "pull"}), Some(&alice)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{repo}");
    assert_eq!(repo["sync_method"], "pull", "the method given is honoured");
    for (body, needle) in [
        (json!({"name": "api"}), "already has"),
        (json!({"name": "p", "sync_method": "pull"}), "remote_url"),
        (
            json!({"name": "p", "sync_method": "pull", "remote_url": "https://evil.example/x"}),
            "not allowed",
        ),
        (
            json!({"name": "p", "sync_method": "pull", "remote_url": "--upload-pack=touch /tmp/x"}),
            "'-'",
        ),
        (
            json!({"name": "p", "sync_method": "pull", "remote_url": "ext::sh -c id"}),
            "remote_url",
        ),
        (
            json!({"name": "p", "sync_method": "pull", "remote_url": "/tmp/local"}),
            "local",
        ),
        (
            json!({"name": "p", "sync_method": "carrier-pigeon"}),
            "sync_method",
        ),
    ] {
        let (status, error) = json_of(app.post_json(&path, &body, Some(&alice)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains(needle)),
            "{body}: {error}"
        );
    }
    let (_, repos) = json_of(app.get(&path, Some(&alice)).await).await;
    assert_eq!(repos.as_array().map(Vec::len), Some(2));
    let id = repos[1]["id"].as_i64().expect("id");
    let (status, repo) = json_of(
        app.send_json(
            Method::PATCH,
            &format!("/api/v1/repos/{id}"),
            &json!({"sync_method": "push_client"}),
            Some(&alice),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(repo["sync_method"], "push_client");
    let missing = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/repos/{id}"),
            &json!({}),
            Some(&alice),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let id_push = create_repo(&app, &alice, project, json!({"name": "third"})).await;
    assert!(id_push > id);
}

#[tokio::test]
async fn sync_routes_have_their_own_per_ip_limit() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_enabled = true;
        c.sync_rate_limit_per_minute = 3;
    })
    .await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let status = status_path(project, repo);
    for _ in 0..3 {
        assert_eq!(app.get(&status, Some(&jwt)).await.status(), StatusCode::OK);
    }
    let response = app
        .post_json(
            &push_path(project, repo),
            &json!({"commits": fake_commits(0..1)}),
            Some(&jwt),
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("secs");
    assert!((1..=60).contains(&retry), "{retry}");
    let (_, body) = json_of(response).await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Too many requests"))
    );
    // Other routes are not affected by the sync limit.
    assert_eq!(
        app.get("/api/v1/projects", Some(&jwt)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn commit_dates_without_an_offset_are_utc_as_the_original_client_sends_them() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "dates").await;
    let dates = [
        "2026-01-02T12:00:00",
        "2026-01-02T12:00:00.123456",
        "2026-01-02 12:00:00",
        "2026-01-02T13:00:00+01:00",
    ];
    let commits: Vec<_> = dates
        .iter()
        .enumerate()
        .map(|(i, date)| {
            let mut commit = fake_commit(i);
            commit["commit_date"] = json!(date);
            commit
        })
        .collect();
    let (status, body) = json_of(
        app.post_json(
            &push_path(project, repo),
            &json!({"commits": commits}),
            Some(&jwt),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stored: Vec<String> = sqlx::query_scalar(
        "select to_char(commit_date at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')
           from repo_commits where repo_id = $1 order by sha",
    )
    .bind(repo)
    .fetch_all(&app.state.db)
    .await
    .expect("dates");
    assert_eq!(
        stored,
        [
            "2026-01-02 12:00:00.000000",
            "2026-01-02 12:00:00.123456",
            "2026-01-02 12:00:00.000000",
            "2026-01-02 12:00:00.000000"
        ]
    );
    // A date that is not one stays a 400 naming the field.
    let mut bad = fake_commit(9);
    bad["commit_date"] = json!("2026-02-30T12:00:00");
    let (status, body) = json_of(
        app.post_json(
            &push_path(project, repo),
            &json!({"commits": [bad]}),
            Some(&jwt),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "commits[0].commit_date");
}

/// Pushes `commits` and returns the answer, asserting 201.
async fn push_ok(
    app: &TestApp,
    push: &str,
    key: &str,
    commits: Vec<serde_json::Value>,
) -> serde_json::Value {
    let (status, result) = json_of(
        app.post_json(push, &json!({"commits": commits}), Some(key))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    result
}

#[tokio::test]
async fn a_batch_whose_later_half_is_stored_inserts_only_the_rest() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let push = push_path(project, repo);
    push_ok(&app, &push, &jwt, fake_commits(500..1000)).await;

    // The first commit is new, so the server tries the fast path first and meets the
    // stored half: the answer must be the same as for any other mixed batch.
    let result = push_ok(&app, &push, &jwt, fake_commits(0..1000)).await;
    assert_eq!(
        (result["inserted"].as_i64(), result["skipped"].as_i64()),
        (Some(500), Some(500))
    );
    let details = result["details"].as_array().expect("details");
    assert_eq!(details.len(), 1000);
    for (i, d) in details.iter().enumerate() {
        assert_eq!(
            d,
            &json!({"sha": sha(i), "inserted": i < 500, "error": null})
        );
    }
    assert_eq!(result["last_ingested_sha"], sha(999));
    assert_eq!(stored_commits(&app, repo).await, 1000);
    let (_, state) = json_of(app.get(&status_path(project, repo), Some(&jwt)).await).await;
    assert_eq!(
        (state["total_commits"].as_i64(), state["status"].as_str()),
        (Some(1000), Some("healthy"))
    );
}

#[tokio::test]
async fn a_resend_stores_nothing_but_is_audited_and_moves_last_ingested_sha() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let push = push_path(project, repo);
    push_ok(&app, &push, &jwt, fake_commits(0..10)).await;

    // An older batch again: the batch's last sha is remembered, as for any batch.
    let result = push_ok(&app, &push, &jwt, fake_commits(0..5)).await;
    assert_eq!(
        (
            result["total"].as_i64(),
            result["inserted"].as_i64(),
            result["skipped"].as_i64()
        ),
        (Some(5), Some(0), Some(5))
    );
    assert_eq!(result["last_ingested_sha"], sha(4));
    assert!(
        result["details"]
            .as_array()
            .expect("details")
            .iter()
            .all(|d| d["inserted"] == false)
    );
    let (_, state) = json_of(app.get(&status_path(project, repo), Some(&jwt)).await).await;
    assert_eq!(state["last_ingested_sha"], sha(4));
    assert_eq!(
        (state["total_commits"].as_i64(), state["status"].as_str()),
        (Some(10), Some("healthy"))
    );

    let (_, logs) = json_of(app.get("/api/v1/audit-logs", Some(&jwt)).await).await;
    let resent = &logs["data"][0];
    assert_eq!(resent["action"], "commits.pushed");
    assert_eq!(
        (
            &resent["details"]["inserted"],
            &resent["details"]["skipped"]
        ),
        (&json!(0), &json!(5))
    );

    // A sha twice in one batch is refused even when the rest is stored or new.
    let mut commits = fake_commits(0..12);
    commits[11] = fake_commit(0);
    let (status, _) = json_of(
        app.post_json(&push, &json!({"commits": commits}), Some(&jwt))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(stored_commits(&app, repo).await, 10, "nothing stored");
}

#[tokio::test]
async fn every_field_is_stored_exactly() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let mut merge = fake_commit(1);
    merge["author_name"] = json!("Zoë «Ünïcode» 名前");
    merge["commit_date"] = json!("1999-12-31T20:00:00.123456+05:30");
    merge["message_body"] = json!(null);
    merge["additions"] = json!(9_007_199_254_740_991_i64);
    merge["is_merge"] = json!(true);
    merge["parent_count"] = json!(2);
    push_ok(
        &app,
        &push_path(project, repo),
        &jwt,
        vec![merge, fake_commit(2)],
    )
    .await;

    type Row = (String, String, String, Option<String>, i64, i64, bool, i32);
    let rows: Vec<Row> = sqlx::query_as(
        "select author_name, author_email, to_char(commit_date at time zone 'utc',
                'YYYY-MM-DD HH24:MI:SS.US'), message_body, additions, files_changed,
                is_merge, parent_count
         from repo_commits where repo_id = $1 order by sha",
    )
    .bind(repo)
    .fetch_all(&app.state.db)
    .await
    .expect("rows");
    let text = |s: &str| s.to_string();
    assert_eq!(
        rows,
        [
            (
                text("Zoë «Ünïcode» 名前"),
                text("alice@example.com"),
                text("1999-12-31 14:30:00.123456"),
                None,
                9_007_199_254_740_991,
                1,
                true,
                2
            ),
            (
                text("Alice Developer"),
                text("alice@example.com"),
                text("2026-01-02 12:00:00.000000"),
                Some(text("Some detail")),
                10,
                1,
                false,
                1
            ),
        ]
    );
}

#[tokio::test]
async fn overlapping_batches_at_once_store_each_commit_once() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let push = push_path(project, repo);
    let mut inserted = 0;
    for round in 0..3 {
        let base = round * 2000;
        let (a, b) = tokio::join!(
            push_ok(&app, &push, &jwt, fake_commits(base..base + 1000)),
            push_ok(&app, &push, &jwt, fake_commits(base + 500..base + 1500)),
        );
        inserted += a["inserted"].as_i64().expect("count") + b["inserted"].as_i64().expect("count");
        let new_in_both = [&a, &b]
            .iter()
            .flat_map(|r| r["details"].as_array().expect("details").clone())
            .filter(|d| d["inserted"] == true)
            .count();
        assert_eq!(
            new_in_both, 1500,
            "each sha reported new by exactly one batch"
        );
    }
    assert_eq!(inserted, 4500);
    assert_eq!(stored_commits(&app, repo).await, 4500);
    let (_, state) = json_of(app.get(&status_path(project, repo), Some(&jwt)).await).await;
    assert_eq!(state["total_commits"], 4500);
}

/// Each way a batch can meet stored commits takes its own path (the last batch again: its
/// digest; first commit new: the bulk write, falling back on the unique key; otherwise one
/// lookup per commit) and every path answers per commit exactly.
#[tokio::test]
async fn every_kind_of_overlap_with_stored_commits_is_answered_per_commit() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let push = push_path(project, repo);
    let flags = |result: &serde_json::Value| -> Vec<bool> {
        result["details"]
            .as_array()
            .expect("details")
            .iter()
            .map(|d| d["inserted"].as_bool().expect("flag"))
            .collect()
    };
    push_ok(&app, &push, &jwt, fake_commits(0..10)).await;
    push_ok(&app, &push, &jwt, fake_commits(10..20)).await;

    // An older batch again (not the last one): every commit looked up.
    let older = push_ok(&app, &push, &jwt, fake_commits(0..10)).await;
    assert_eq!(flags(&older), vec![false; 10]);

    // First commit new, some of the rest stored: the copy meets the unique key and the
    // insert that skips stored commits takes over.
    let mixed: Vec<_> = [100, 3, 4, 101, 15, 102]
        .into_iter()
        .map(fake_commit)
        .collect();
    let result = push_ok(&app, &push, &jwt, mixed.clone()).await;
    assert_eq!(flags(&result), [true, false, false, true, false, true]);
    assert_eq!(
        (result["inserted"].as_i64(), result["skipped"].as_i64()),
        (Some(3), Some(3))
    );

    // The same batch again (a retry): recognised by its digest.
    let retry = push_ok(&app, &push, &jwt, mixed.clone()).await;
    assert_eq!(flags(&retry), vec![false; 6]);

    // The same commits in another order are another batch: each looked up again.
    let mut reordered = mixed;
    reordered.reverse();
    let result = push_ok(&app, &push, &jwt, reordered).await;
    assert_eq!(flags(&result), vec![false; 6]);

    // A batch of one new commit after them is new, and the repository's counts add up.
    let result = push_ok(&app, &push, &jwt, vec![fake_commit(103)]).await;
    assert_eq!(flags(&result), [true]);
    assert_eq!(stored_commits(&app, repo).await, 24);
    let (_, state) = json_of(app.get(&status_path(project, repo), Some(&jwt)).await).await;
    assert_eq!(state["total_commits"], 24);
    assert_eq!(state["last_ingested_sha"], sha(103));
}

/// A new batch is written while it is still being read; a problem found late (an invalid
/// commit, a repeated sha, a body cut off) still refuses the whole batch and stores nothing.
#[tokio::test]
async fn a_new_batch_refused_late_stores_nothing() {
    let app = TestApp::spawn().await;
    let (jwt, project, repo) = user_with_repo(&app, "alice").await;
    let push = push_path(project, repo);
    let audited = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from audit_logs where action = 'commits.pushed'",
            )
            .fetch_one(&db)
            .await
            .expect("count")
        }
    };

    let mut late_invalid = fake_commits(0..1000);
    late_invalid[999]["commit_date"] = json!("yesterday");
    let mut late_duplicate = fake_commits(0..1000);
    late_duplicate[999]["sha"] = json!(sha(3));
    for (body, field) in [
        (late_invalid, "commits[999].commit_date"),
        (late_duplicate, "commits[999].sha"),
    ] {
        let (status, result) = json_of(
            app.post_json(&push, &json!({"commits": body}), Some(&jwt))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{result}");
        assert_eq!(result["errors"][0]["field"], field, "{result}");
    }

    // Cut off after 999 valid commits: malformed JSON, nothing stored.
    let whole = serde_json::to_string(&json!({"commits": fake_commits(0..1000)})).expect("json");
    let cut = &whole[..whole.len() - 40];
    let response = app
        .request(Method::POST, &push)
        .bearer_auth(&jwt)
        .header("content-type", "application/json")
        .body(cut.to_string())
        .send()
        .await
        .expect("sent");
    let (status, result) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        result["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Malformed JSON")),
        "{result}"
    );

    assert_eq!(stored_commits(&app, repo).await, 0);
    assert_eq!(audited(&app).await, 0);
    let (_, state) = json_of(app.get(&status_path(project, repo), Some(&jwt)).await).await;
    assert_eq!(state["status"], "pending");
    assert_eq!(state["total_commits"], 0);

    // The same batch, whole, is stored as usual afterwards.
    let result = push_ok(&app, &push, &jwt, fake_commits(0..1000)).await;
    assert_eq!(result["inserted"], 1000);
    assert_eq!(audited(&app).await, 1);
}

/// A body that is not JSON is refused as such before anything is looked up, as it was
/// when the whole body was parsed first: 400 even for someone else's repository.
#[tokio::test]
async fn a_malformed_body_is_a_400_whatever_the_repository() {
    let app = TestApp::spawn().await;
    let (_, project, repo) = user_with_repo(&app, "alice").await;
    let (mallory, ..) = user_with_repo(&app, "mallory").await;
    let push = push_path(project, repo);
    let response = app
        .request(Method::POST, &push)
        .bearer_auth(&mallory)
        .header("content-type", "application/json")
        .body("{\"commits\": [")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, _) = json_of(
        app.post_json(
            &push,
            &json!({"commits": fake_commits(0..3)}),
            Some(&mallory),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
