//! API keys: create (the full key is shown once), list (never a secret), revoke; and
//! `whoami`, which tells a caller how it authenticated and what it may do.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::api_key::{self, Scope, Scopes};
use crate::auth::{AuthMethod, AuthUser, ClientIp};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::Message;
use crate::http::extract::{Json, Path, require_fields};
use crate::state::AppState;
use crate::store::audit::{self, AuditEntry};
use crate::store::{api_keys, users};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
        .routes(routes!(whoami))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateKey {
    /// 1–100 characters, not all blank.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100,
        pattern = "\\S", example = "laptop push client")]
    pub name: Option<String>,
    /// `"sync:commits,read:repos"` or `["sync:commits"]`; default: all scopes.
    #[schema(schema_with = crate::http::docs::scopes_schema, example = "sync:commits,read:repos")]
    pub scopes: Option<Value>,
    /// 1 to 365; default (absent or null): never expires.
    #[schema(minimum = 1, maximum = 365)]
    #[serde(
        default,
        deserialize_with = "crate::json_number::optional_whole_number"
    )]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub id: i64,
    pub name: String,
    #[schema(example = "gp_a1B2c3D4")]
    pub prefix: String,
    /// The whole key. It is shown only in this answer; store it now.
    pub full_key: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub usage_count: i64,
    /// Not revoked and not expired.
    pub is_active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    pub user_id: i64,
    pub username: String,
    /// `jwt` or `api_key`.
    pub auth_method: String,
    /// The key's id and prefix, when authenticated with an API key.
    pub api_key_id: Option<i64>,
    pub api_key_prefix: Option<String>,
    pub api_key_name: Option<String>,
    pub scopes: Vec<String>,
}

/// Create an API key (needs a user session). The full key is in this answer only.
#[utoipa::path(post, path = "/api/v1/api-keys/", tag = "api-keys", request_body = CreateKey,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `full_key` is shown once", body = CreatedKey),
        (status = 400, description = "Missing name, unknown scope or bad expiry", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Called with an API key", body = ErrorBody),
    ))]
async fn create_key(
    State(state): State<AppState>,
    auth: AuthUser,
    ClientIp(ip): ClientIp,
    Json(body): Json<CreateKey>,
) -> AppResult<(StatusCode, Json<CreatedKey>)> {
    require_fields(&[("name", body.name.as_deref())])?;
    let name = body.name.as_deref().unwrap_or_default().trim();
    if name.chars().count() > 100 {
        return Err(AppError::bad_request("name must be 1 to 100 characters"));
    }
    let scopes = parse_scopes(body.scopes.as_ref())?;
    let expires_at = match body.expires_in_days {
        None => None,
        Some(days) if (1..=365).contains(&days) => Some(Utc::now() + Duration::days(days)),
        Some(_) => {
            return Err(AppError::bad_request(
                "expires_in_days must be between 1 and 365",
            ));
        }
    };
    let scope_names = scopes.names();
    // A prefix collision (62^8 possibilities) is astronomically rare; try a few times.
    for _ in 0..3 {
        let generated = api_key::generate();
        let hash = crate::auth::password::hash(generated.full_key.clone()).await?;
        let new = api_keys::NewApiKey {
            user_id: auth.user_id,
            name,
            prefix: &generated.prefix,
            key_hash: &hash,
            scopes: &scope_names,
            expires_at,
        };
        let Some(key) = api_keys::create(&state.db, &new).await? else {
            continue;
        };
        let entry = AuditEntry::new(auth.user_id, "api_key.created", "api_key", key.id)
            .details(
                json!({"name": key.name, "prefix": key.prefix, "scopes": key.scopes,
                "expires_at": key.expires_at}),
            )
            .ip(ip.as_deref());
        audit::record(&state.db, &entry).await?;
        tracing::info!(
            user_id = auth.user_id,
            key_id = key.id,
            "created an API key"
        );
        return Ok((
            StatusCode::CREATED,
            Json(CreatedKey {
                id: key.id,
                name: key.name,
                prefix: key.prefix,
                full_key: generated.full_key,
                scopes: key.scopes,
                created_at: key.created_at,
                expires_at: key.expires_at,
            }),
        ));
    }
    Err(AppError::internal(
        "could not generate a unique API key prefix",
    ))
}

/// `"a,b"` or `["a","b"]` → scopes; absent → all; empty or unknown → 400.
fn parse_scopes(value: Option<&Value>) -> AppResult<Scopes> {
    let names: Vec<String> = match value {
        None | Some(Value::Null) => return Ok(Scopes::all()),
        Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| AppError::bad_request("scopes must be strings"))
            })
            .collect::<AppResult<_>>()?,
        Some(_) => {
            return Err(AppError::bad_request(
                "scopes must be a comma-separated string or an array of strings",
            ));
        }
    };
    let allowed = || {
        Scope::ALL
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut scopes = Vec::new();
    for name in names.iter().filter(|n| !n.is_empty()) {
        let scope = Scope::parse(name).ok_or_else(|| {
            AppError::bad_request(format!("Unknown scope '{name}'; allowed: {}", allowed()))
        })?;
        scopes.push(scope);
    }
    let scopes: Scopes = scopes.into_iter().collect();
    if scopes.is_empty() {
        return Err(AppError::bad_request(format!(
            "scopes must name at least one of: {}",
            allowed()
        )));
    }
    Ok(scopes)
}

/// List the caller's API keys (revoked ones too), newest first. No secrets.
#[utoipa::path(get, path = "/api/v1/api-keys/", tag = "api-keys", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's keys", body = [KeyInfo]),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Called with an API key", body = ErrorBody),
    ))]
async fn list_keys(State(state): State<AppState>, auth: AuthUser) -> AppResult<Json<Vec<KeyInfo>>> {
    // Usage gathered by this process is written first, so the counts are current here.
    if let Err(e) = state.api_keys.flush_usage(&state.db).await {
        tracing::warn!(error = %e, "could not write API key usage");
    }
    let now = Utc::now();
    let keys = api_keys::list(&state.db, auth.user_id).await?;
    Ok(Json(
        keys.into_iter()
            .map(|k| KeyInfo {
                is_active: k.revoked_at.is_none() && k.expires_at.is_none_or(|at| at > now),
                id: k.id,
                name: k.name,
                prefix: k.prefix,
                scopes: k.scopes,
                created_at: k.created_at,
                expires_at: k.expires_at,
                revoked_at: k.revoked_at,
                last_used_at: k.last_used_at,
                last_used_ip: k.last_used_ip,
                usage_count: k.usage_count,
            })
            .collect(),
    ))
}

/// Revoke an API key; it stops working on the next request, on every replica.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = i64, Path, description = "Key id", minimum = 1)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = Message),
        (status = 400, description = "Already revoked", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Called with an API key", body = ErrorBody),
        (status = 404, description = "No such key of the caller's", body = ErrorBody),
    ))]
async fn revoke_key(
    State(state): State<AppState>,
    auth: AuthUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> AppResult<Json<Message>> {
    let key = api_keys::find_for_user(&state.db, auth.user_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("API key not found"))?;
    if key.revoked_at.is_some() {
        return Err(AppError::bad_request(format!(
            "API key '{}' is already revoked",
            key.name
        )));
    }
    let key = api_keys::revoke(&state.db, key.id).await?.ok_or_else(|| {
        AppError::bad_request(format!("API key '{}' is already revoked", key.name))
    })?;
    state.api_keys.forget(key.id);
    let entry = AuditEntry::new(auth.user_id, "api_key.revoked", "api_key", key.id)
        .details(json!({"name": key.name, "prefix": key.prefix}))
        .ip(ip.as_deref());
    audit::record(&state.db, &entry).await?;
    Ok(Json(Message {
        message: format!("API key '{}' has been revoked", key.name),
    }))
}

/// Who the caller is, how it authenticated, and its scopes (used by `gitpulse client test`).
#[utoipa::path(get, path = "/api/v1/whoami", tag = "api-keys", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = WhoAmI),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ))]
async fn whoami(State(state): State<AppState>, auth: AuthUser) -> AppResult<Json<WhoAmI>> {
    let user = users::find(&state.db, auth.user_id)
        .await?
        .ok_or_else(|| AppError::Unauthorized("Invalid or expired token".into()))?;
    let (auth_method, key) = match auth.method {
        AuthMethod::Jwt => ("jwt", None),
        AuthMethod::ApiKey { key_id } => (
            "api_key",
            api_keys::find_for_user(&state.db, auth.user_id, key_id).await?,
        ),
    };
    Ok(Json(WhoAmI {
        user_id: user.id,
        username: user.username,
        auth_method: auth_method.into(),
        api_key_id: key.as_ref().map(|k| k.id),
        api_key_prefix: key.as_ref().map(|k| k.prefix.clone()),
        api_key_name: key.map(|k| k.name),
        scopes: auth.scopes.names(),
    }))
}
