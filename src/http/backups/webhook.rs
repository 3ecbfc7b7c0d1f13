//! GitHub's push webhook: signature check, deduplication by delivery, queueing.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::backups::{self, PushSummary, SignatureError};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{Json, Path};
use crate::state::AppState;
use crate::store::backups::{self as store, Enqueued, Registration};

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    #[schema(example = "Backup queued")]
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_id: Option<i64>,
}

/// GitHub's webhook for a registered repository. Signed with `X-Hub-Signature-256`
/// (HMAC-SHA256 of the raw body with the registration's secret).
#[utoipa::path(post, path = "/backup/{company_id}/{repository_name}/", tag = "backups",
    params(
        ("company_id" = String, Path, description = "As registered"),
        ("repository_name" = String, Path, description = "As registered"),
        ("X-GitHub-Event" = String, Header, description = "`push`, `ping`, or another event (ignored)"),
        ("X-GitHub-Delivery" = String, Header, description = "GitHub's delivery GUID; a repeated one is not backed up twice"),
        ("X-Hub-Signature-256" = String, Header, description = "`sha256=<hex HMAC>`"),
    ),
    request_body(content = Object, description = "GitHub's webhook payload", content_type = "application/json"),
    responses(
        (status = 200, description = "ping answered, event ignored, or a repeated delivery", body = WebhookAnswer),
        (status = 202, description = "push: backup queued", body = WebhookAnswer),
        (status = 400, description = "Missing event or delivery header, or a malformed payload", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "No such registration", body = ErrorBody),
    ))]
pub(super) async fn webhook(
    State(state): State<AppState>,
    Path((company_id, repository_name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<(StatusCode, Json<WebhookAnswer>)> {
    let answer = handle_webhook(&state, &company_id, &repository_name, &headers, body).await;
    let outcome = match &answer {
        Ok((status, _)) => status.as_u16().to_string(),
        Err(e) => e.status().as_u16().to_string(),
    };
    let event = header_str(&headers, "x-github-event").unwrap_or("none");
    let event = if matches!(event, "push" | "ping") {
        event
    } else {
        "other"
    };
    state.metrics.increment(
        "gitpulse_backup_webhooks_total",
        &[("event", event), ("status", &outcome)],
    );
    answer
}

/// Same as `POST /backup/{company_id}/{repository_name}/`, without the trailing slash.
#[utoipa::path(post, path = "/backup/{company_id}/{repository_name}", tag = "backups",
    params(
        ("company_id" = String, Path, description = "As registered"),
        ("repository_name" = String, Path, description = "As registered"),
    ),
    request_body(content = Object, description = "GitHub's webhook payload", content_type = "application/json"),
    responses(
        (status = 200, description = "ping, ignored event, or repeated delivery", body = WebhookAnswer),
        (status = 202, description = "push: backup queued", body = WebhookAnswer),
        (status = 401, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "No such registration", body = ErrorBody),
    ))]
pub(super) async fn webhook_no_slash(
    state: State<AppState>,
    path: Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<(StatusCode, Json<WebhookAnswer>)> {
    webhook(state, path, headers, body).await
}

/// Order of checks: the registration (404), the body, the signature (401), then the event.
/// An unknown registration answers 404 before any signature check: the names are in the
/// URL GitHub shows in its delivery log, so a plain 404 helps fix a wrong URL, and they
/// reveal nothing that signs anything.
async fn handle_webhook(
    state: &AppState,
    company_id: &str,
    repository_name: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<(StatusCode, Json<WebhookAnswer>)> {
    let unknown = || AppError::not_found("No backup registration for this company and repository");
    if backups::path_name_problem(company_id).is_some()
        || backups::path_name_problem(repository_name).is_some()
    {
        return Err(unknown());
    }
    let registrations = store::find_registrations(&state.db, company_id, repository_name).await?;
    if registrations.is_empty() {
        return Err(unknown());
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge("Webhook payload is too large".into())
        } else {
            AppError::bad_request("Could not read the webhook payload")
        }
    })?;
    let registration = signed_by(
        &registrations,
        &body,
        header_str(headers, "x-hub-signature-256"),
    )
    .map_err(|e| {
        tracing::warn!(
            company_id,
            repository_name,
            candidates = registrations.len(),
            reason = %e,
            "webhook signature refused"
        );
        AppError::Unauthorized(match e {
            SignatureError::Missing => e.to_string(),
            SignatureError::Invalid => {
                "Invalid X-Hub-Signature-256: check the webhook secret".into()
            }
        })
    })?;
    let event = header_str(headers, "x-github-event")
        .ok_or_else(|| AppError::bad_request("Missing X-GitHub-Event header"))?;
    match event {
        "ping" => Ok(answer(StatusCode::OK, "pong", None)),
        "push" => queue_backup(state, registration, headers, &body).await,
        _ => Ok(answer(
            StatusCode::OK,
            &format!(
                "Event '{}' ignored; only push events are backed up",
                event.escape_default()
            ),
            None,
        )),
    }
}

/// The registration whose secret signed `body`. Several users may have registered the
/// same names; each secret is checked (in constant time, and all of them, so the time
/// taken does not tell which one matched).
fn signed_by<'a>(
    registrations: &'a [Registration],
    body: &[u8],
    signature: Option<&str>,
) -> Result<&'a Registration, SignatureError> {
    let mut matched = None;
    let mut error = SignatureError::Invalid;
    for registration in registrations {
        match backups::verify_signature(registration.webhook_secret.as_bytes(), body, signature) {
            Ok(()) => matched = matched.or(Some(registration)),
            Err(e) => error = e,
        }
    }
    matched.ok_or(error)
}

async fn queue_backup(
    state: &AppState,
    registration: &Registration,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<(StatusCode, Json<WebhookAnswer>)> {
    let delivery = header_str(headers, "x-github-delivery")
        .ok_or_else(|| AppError::bad_request("Missing X-GitHub-Delivery header"))?;
    if !backups::valid_delivery_id(delivery) {
        return Err(AppError::bad_request(
            "X-GitHub-Delivery must be 1 to 100 letters, digits or '-'",
        ));
    }
    let payload = push_payload(headers, body)?;
    let summary = PushSummary::from_payload(&payload);
    let zip_file_name = backups::zip_file_name(&registration.repository_name, delivery);
    match store::enqueue(
        &state.db,
        registration.id,
        delivery,
        &zip_file_name,
        &summary,
    )
    .await?
    {
        Enqueued::New(id) => {
            state.backup_wakeup.notify_one();
            tracing::info!(
                backup_id = id,
                registration_id = registration.id,
                "backup queued"
            );
            Ok(answer(StatusCode::ACCEPTED, "Backup queued", Some(id)))
        }
        Enqueued::Duplicate(id) => Ok(answer(
            StatusCode::OK,
            "Delivery already received; no new backup",
            Some(id),
        )),
    }
}

/// The JSON payload: the body itself, or its `payload` field when GitHub was set to
/// send `application/x-www-form-urlencoded`.
fn push_payload(headers: &HeaderMap, body: &[u8]) -> AppResult<Value> {
    let form = header_str(headers, header::CONTENT_TYPE.as_str())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let parsed = if form {
        url::form_urlencoded::parse(body)
            .find(|(key, _)| key == "payload")
            .and_then(|(_, json)| serde_json::from_str(&json).ok())
    } else {
        serde_json::from_slice(body).ok()
    };
    parsed.ok_or_else(|| AppError::bad_request("The push payload is not valid JSON"))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn answer(
    status: StatusCode,
    message: &str,
    backup_id: Option<i64>,
) -> (StatusCode, Json<WebhookAnswer>) {
    (
        status,
        Json(WebhookAnswer {
            message: message.into(),
            backup_id,
        }),
    )
}
