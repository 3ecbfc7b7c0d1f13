//! Extractors whose rejections become our JSON errors instead of axum's plain text.

use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::AppError;

/// `axum::Json`, but malformed JSON, a wrong content type or an oversized body answer
/// `{"message": ...}` with 400 or 413.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

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
