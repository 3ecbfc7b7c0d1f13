//! Pushed commits: `POST .../commits` stores a batch (all or nothing, dedup by sha) and
//! `GET .../status` reports the repository's sync state. These routes have their own
//! per-IP limit (`SYNC_RATE_LIMIT_PER_MINUTE`) on top of the general quotas.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{AuthMethod, AuthUser, ClientIp};
use crate::commit_batch::{self, CommitIn, CommitResult, PushResult, WireEntry};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{Json, JsonBytes, Path, json_error};
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::commit_stream;
use crate::store::commits::{self, NewCommit};
use crate::store::known_commits;
use crate::store::projects::{self, Repo};

/// Commits handed from the body's reader to the writer at a time.
const PART_COMMITS: usize = 64;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(push_commits))
        .routes(routes!(sync_status))
        .route_layer(axum::middleware::from_fn(
            crate::http::rate_limit::sync_rate_limit,
        ))
}

// The push body as the OpenAPI document describes it (the handler reads it commit by
// commit with `commit_batch::read_push_body`).
#[derive(Debug, ToSchema)]
pub struct PushCommits {
    /// 1 to 1000 commits, oldest first, no sha twice.
    #[schema(value_type = Vec<CommitIn>, required = true, min_items = 1, max_items = 1000)]
    pub commits: Option<Vec<WireEntry>>,
    /// Recorded in the audit log (cut to 100 characters).
    #[schema(example = "gitpulse 0.1.0")]
    pub client_version: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SyncStatus {
    pub repo_id: i64,
    /// pending, syncing, healthy or error.
    pub status: String,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_ingested_sha: Option<String>,
    pub total_commits: i64,
    pub error_message: Option<String>,
}

async fn own_repo(state: &AppState, auth: &AuthUser, pid: i64, rid: i64) -> AppResult<Repo> {
    projects::find_repo(&state.db, auth.user_id, Some(pid), rid)
        .await?
        .ok_or_else(|| AppError::not_found("Repository not found in this project"))
}

/// Push a batch of commits (API key with `sync:commits`, or a user session).
#[utoipa::path(post, path = "/api/v1/sync/projects/{pid}/repos/{rid}/commits", tag = "sync",
    params(
        ("pid" = i64, Path, description = "Project id", minimum = 1),
        ("rid" = i64, Path, description = "Repository id", minimum = 1),
    ),
    request_body = PushCommits, security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored; already known commits are skipped", body = PushResult),
        (status = 400, description = "Invalid batch (nothing stored), or not a push_client repository", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "API key without sync:commits", body = ErrorBody),
        (status = 404, description = "No such project or repository of the caller's", body = ErrorBody),
        (status = 429, description = "Too many sync requests from this address", body = ErrorBody),
    ))]
async fn push_commits(
    State(state): State<AppState>,
    auth: AuthUser,
    ClientIp(ip): ClientIp,
    Path((pid, rid)): Path<(i64, i64)>,
    JsonBytes(body): JsonBytes,
) -> AppResult<(StatusCode, Json<PushResult>)> {
    // The body is read and validated commit by commit on a blocking thread while the
    // repository is looked up, and a new batch is written as it arrives (see
    // `store::commit_stream`). Errors come in the order they always did: a body that is not
    // JSON of this shape, the repository (404), its sync method, then the batch's problems.
    let (sender, mut incoming) = mpsc::channel::<Option<Vec<NewCommit>>>(16);
    let reader = tokio::task::spawn_blocking(move || {
        // The first commit goes at once (it decides how the batch is stored), the rest in
        // parts; `None` when the batch turns out invalid.
        let mut part = Vec::new();
        let mut first = true;
        let read = commit_batch::read_push_body(&body, |commit| match commit {
            Some(commit) => {
                part.push(commit);
                if !first && part.len() < PART_COMMITS {
                    return true;
                }
                first = false;
                sender
                    .blocking_send(Some(std::mem::take(&mut part)))
                    .is_ok()
            }
            None => {
                part.clear();
                sender.blocking_send(None).is_ok()
            }
        });
        if !part.is_empty() {
            let _ = sender.blocking_send(Some(part));
        }
        read
    });
    // The first commit's gate (is it stored? the last batch's digest) is read meanwhile;
    // it answers nothing until the repository is known to be the caller's.
    let first_and_gate = async {
        let first = incoming.recv().await.flatten().unwrap_or_default();
        let gate = match first.first() {
            Some(commit) => Some(known_commits::gate(&state.db, rid, &commit.sha).await),
            None => None,
        };
        (first, gate)
    };
    let (repo, (first, gate)) = tokio::join!(own_repo(&state, &auth, pid, rid), first_and_gate);
    let repo = match repo {
        Ok(repo) => repo,
        Err(e) => {
            drop(incoming);
            read_outcome(reader).await?;
            return Err(e);
        }
    };
    if repo.sync_method != "push_client" {
        drop(incoming);
        read_outcome(reader).await?;
        return Err(AppError::bad_request(format!(
            "Repository '{}' is synchronised by the server (sync_method '{}'); \
             switch it to 'push_client' to push commits",
            repo.name, repo.sync_method
        )));
    }
    let key_id = match auth.method {
        AuthMethod::ApiKey { key_id } => Some(key_id),
        AuthMethod::Jwt => None,
    };
    let audit = |client_version: Option<String>| {
        let client_version = client_version.map(|v| v.chars().take(100).collect::<String>());
        AuditEntry::new(auth.user_id, "commits.pushed", "repo", repo.id)
            .details(
                json!({"project_id": pid, "client_version": client_version, "api_key_id": key_id}),
            )
            .ip(ip.as_deref())
    };
    let verdict = async {
        let read = read_outcome(reader).await?;
        read.verdict?;
        Ok::<_, AppError>(Some(audit(read.client_version)))
    };
    let gate = gate.transpose()?;
    let (batch, outcome) = match gate {
        Some(gate) if !gate.first_stored => {
            commit_stream::ingest_streamed(&state.db, repo.id, first, &mut incoming, verdict)
                .await??
        }
        // A resend (its first commit is stored) or a refused batch: read it all first.
        gate => {
            let mut batch = first;
            while let Some(part) = incoming.recv().await {
                batch.extend(part.into_iter().flatten());
            }
            let entry = verdict.await?;
            let outcome = commits::ingest_after(&state.db, repo.id, &batch, entry, gate).await?;
            (batch, outcome)
        }
    };
    state
        .metrics
        .increment("gitpulse_commit_batches_total", &[("source", "push")]);
    let details = batch
        .iter()
        .zip(&outcome.inserted)
        .map(|(c, inserted)| CommitResult {
            sha: c.sha.clone(),
            inserted: *inserted,
            error: None,
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(PushResult {
            total: batch.len(),
            inserted: outcome.inserted_count,
            skipped: batch.len() - outcome.inserted_count,
            errors: 0,
            last_ingested_sha: outcome.last_ingested_sha,
            details,
        }),
    ))
}

/// What the body reader found; a body that is not JSON of the push shape is its 400.
async fn read_outcome(
    reader: tokio::task::JoinHandle<Result<commit_batch::ReadBody, serde_json::Error>>,
) -> AppResult<commit_batch::ReadBody> {
    reader
        .await
        .map_err(AppError::internal)?
        .map_err(json_error)
}

/// A repository's sync state (API key with `read:repos` or `sync:commits`).
#[utoipa::path(get, path = "/api/v1/sync/projects/{pid}/repos/{rid}/status", tag = "sync",
    params(
        ("pid" = i64, Path, description = "Project id", minimum = 1),
        ("rid" = i64, Path, description = "Repository id", minimum = 1),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The repository's sync state", body = SyncStatus),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "API key without read:repos or sync:commits", body = ErrorBody),
        (status = 404, description = "No such project or repository of the caller's", body = ErrorBody),
        (status = 429, description = "Too many sync requests from this address", body = ErrorBody),
    ))]
async fn sync_status(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((pid, rid)): Path<(i64, i64)>,
) -> AppResult<Json<SyncStatus>> {
    let repo = own_repo(&state, &auth, pid, rid).await?;
    Ok(Json(SyncStatus {
        repo_id: repo.id,
        status: repo.sync_status,
        last_sync_at: repo.last_sync_at,
        last_ingested_sha: repo.last_ingested_sha,
        total_commits: repo.total_commits,
        error_message: repo.error_message,
    }))
}
