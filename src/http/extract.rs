//! Extractors whose rejections become our JSON errors instead of axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body: malformed JSON, a wrong content type or an oversized body answer
/// `{"message": ...}` with 400 or 413. It parses straight from the body bytes (axum's
/// `Json` tracks the path of every value it reads, which costs measurably on large
/// batches; serde's own messages already say where a problem is).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let JsonBytes(bytes) = JsonBytes::from_request(request, state).await?;
        serde_json::from_slice(&bytes).map(Json).map_err(json_error)
    }
}

/// The bytes of a JSON body, for a handler that parses them itself: the content type and
/// size are checked as for [`Json`].
#[derive(Debug, Clone)]
pub struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(request.headers()) {
            return Err(AppError::bad_request(
                "Expected a JSON body with the header Content-Type: application/json",
            ));
        }
        Bytes::from_request(request, state)
            .await
            .map(JsonBytes)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge("Request body is too large".into())
                } else {
                    AppError::bad_request(format!(
                        "Could not read the request body: {}",
                        rejection.body_text()
                    ))
                }
            })
    }
}

/// The 400 for a body that is not the JSON a route takes.
pub fn json_error(e: serde_json::Error) -> AppError {
    match e.classify() {
        serde_json::error::Category::Data => {
            AppError::bad_request(format!("Invalid request body: {e}"))
        }
        _ => AppError::bad_request(format!("Malformed JSON: {e}")),
    }
}

/// `application/json` or `application/<something>+json`, parameters allowed.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with JSON errors.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` with JSON errors.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// Names of the required fields that are absent or blank, in the order given.
pub fn missing_fields<'a>(fields: &[(&'a str, Option<&str>)]) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(_, value)| value.is_none_or(|v| v.trim().is_empty()))
        .map(|(name, _)| *name)
        .collect()
}

/// 400 `Missing required fields: a, b` when any field is absent or blank.
pub fn require_fields(fields: &[(&str, Option<&str>)]) -> Result<(), AppError> {
    let missing = missing_fields(fields);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "Missing required fields: {}",
            missing.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_missing_field() {
        assert_eq!(
            missing_fields(&[("username", None), ("password", Some(" "))]),
            ["username", "password"]
        );
        assert!(require_fields(&[("a", Some("x"))]).is_ok());
        let err = require_fields(&[("owner", Some("x")), ("name", None)]).expect_err("missing");
        assert_eq!(err.to_string(), "Missing required fields: name");
    }
}
